"""Unauthenticated connections waiting to finish the handshake: a capped set (sans-IO).

A connection costs nothing to open and, until the handshake is done, proves nothing, so a
hostile peer can open many and feed them slowly ("slow-loris": a length header, then one
byte per second). Two limits keep those from holding what honest handshakes need:

* each handshake has deadlines (the first frame soon, the whole handshake later: see
  :func:`ohtchat.session.session.accept`), and nothing waits for a slot before it;
* at most ``cap`` handshakes are pending at once. A new connection over the cap does not
  wait and is not refused: the *slowest* pending one is dropped to make room, that is the
  one that made the least progress (still waiting for its first frame before one that sent
  it), the oldest first. An honest handshake finishes within a few round trips, so it is
  rarely the one that is oldest at the lowest stage.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

#: Stages of a pending handshake, in order of progress.
WAITING_FIRST_FRAME = 0
FIRST_FRAME_READ = 1


@dataclass(eq=False)
class PendingHandshake:
    """One connection in the handshake; ``drop`` ends it (set by whoever runs it)."""

    started: float
    drop: Callable[[], object]
    stage: int = WAITING_FIRST_FRAME
    #: True once it was dropped to make room.
    dropped: bool = field(default=False)


class PendingHandshakes:
    """At most ``cap`` pending handshakes; admitting one past the cap drops the slowest."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self._pending: list[PendingHandshake] = []
        #: How many were dropped to make room, since start.
        self.dropped = 0

    def __len__(self) -> int:
        return len(self._pending)

    def admit(self, entry: PendingHandshake) -> list[PendingHandshake]:
        """Track ``entry``; return the handshakes dropped to make room (already marked and
        their ``drop`` called). With ``cap`` 0 nothing is admitted: ``entry`` itself is
        dropped."""
        self._pending.append(entry)
        victims: list[PendingHandshake] = []
        while len(self._pending) > self.cap:
            victim = min(self._pending, key=lambda p: (p.stage, p.started))
            self._pending.remove(victim)
            victim.dropped = True
            self.dropped += 1
            victims.append(victim)
        for victim in victims:
            victim.drop()
        return victims

    def advance(self, entry: PendingHandshake, stage: int) -> None:
        """Note that ``entry`` reached ``stage``."""
        entry.stage = max(entry.stage, stage)

    def drop_all(self) -> None:
        """Drop every pending handshake (the node is shutting down)."""
        pending, self._pending = self._pending, []
        for entry in pending:
            entry.dropped = True
            entry.drop()

    def remove(self, entry: PendingHandshake) -> None:
        """Stop tracking ``entry`` (its handshake ended, either way)."""
        if entry in self._pending:
            self._pending.remove(entry)
