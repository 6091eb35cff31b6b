"""Which session to close when the pool is full and a new one arrives (sans-IO).

Identities are free and Tor hides where a connection comes from, so a hostile peer can open
as many authenticated sessions as it likes, each from a fresh identity. Refusing new sessions
once the pool is full (what the pool did before) hands every slot to whoever fills it first;
evicting the least recently used one lets a flood push out the honest peers. So the pool
ranks the sessions it may close and evicts the *least valuable*:

1. never a session the node keeps warm on purpose (ring neighbours and fingers: ``keep``);
2. sessions we dialled last (we chose that peer; a flood of inbound sessions cannot make us
   dial, so these are not the attacker's to take);
3. then the *senior* inbound sessions: the ``senior_share`` that were first *used* (carried a
   request or message) earliest. A flood arrives after the peers that were already talking,
   so it can never displace them, whatever it does with its own sessions;
4. then sessions with requests in flight (either direction), when it can be avoided;
5. then used sessions before never-used ones (a fresh idle session is the cheapest thing an
   attacker has: it goes first);
6. and, within a class, the least recently used.

The function is pure: the pool gives it a snapshot of its sessions and closes what it names.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class SessionInfo:
    """What eviction needs to know about one session."""

    #: The peer's onion address (the pool's key).
    onion: str
    #: True when the peer dialled us.
    inbound: bool
    #: When the session last carried anything (either direction), by the pool's clock.
    last_used: float
    #: When the session first carried a request or message other than ``_hello``
    #: (``None``: never used since the handshake).
    first_used: float | None
    #: Requests in flight on it, ours and the peer's.
    in_flight: int


def seniors(sessions: Iterable[SessionInfo], share: int) -> set[str]:
    """The ``share`` inbound sessions first used earliest (ties: by onion, for determinism)."""
    used = sorted(
        (s for s in sessions if s.inbound and s.first_used is not None),
        key=lambda s: (s.first_used, s.onion),
    )
    return {s.onion for s in used[: max(share, 0)]}


def choose_victim(
    sessions: Collection[SessionInfo], keep: Collection[str], senior_share: int
) -> str | None:
    """The onion of the session to close to make room, or ``None`` when every session is
    one the node keeps warm (see the module docstring for the order)."""
    warm = set(keep)
    candidates = [s for s in sessions if s.onion not in warm]
    if not candidates:
        return None
    senior = seniors(candidates, senior_share)

    def rank(s: SessionInfo) -> tuple[bool, bool, bool, bool, float, str]:
        # ``min`` picks the victim: False sorts first, so each flag marks a reason to keep.
        return (
            not s.inbound,
            s.onion in senior,
            s.in_flight > 0,
            s.first_used is not None,
            s.last_used,
            s.onion,
        )

    return min(candidates, key=rank).onion
