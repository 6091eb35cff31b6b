"""Adaptive stabilize: when the next round is due (:class:`Pace`) and which nodes told us they
lie between us and our successor (:class:`Hints`).

A node stabilizes every ``fast_stabilize_interval`` for ``fast_rounds`` rounds after its first
successor or its predecessor changed (a join, a crash, a notify that displaced a predecessor),
and after a node between it and its successor asked for its successor list — a joiner copying
it, or a node that takes it for its predecessor (:meth:`Pace.poke` also cuts a slow wait
already in progress). Otherwise it stabilizes every ``stabilize_interval``. Both periods are
jittered by ``±jitter``. Such callers are kept as :class:`Hints`; stabilize adopts the closest
one that answers, exactly as it adopts ``s.pred`` (Zave: a live member in ``(self, s)``).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable

from ohtchat.chord.config import ChordConfig
from ohtchat.chord.ring import dist, in_open
from ohtchat.chord.rpc import PeerRef


class Pace:
    """When the next stabilize of one node is due."""

    def __init__(self, config: ChordConfig, rng: random.Random) -> None:
        self.config = config
        self.rng = rng
        #: Stabilize rounds still to run at the fast period.
        self.fast_left = 0
        #: The predecessor we last asked for its list (once per new predecessor).
        self.reminded: int | None = None
        self._wake: asyncio.Event | None = None

    @property
    def fast(self) -> bool:
        """True while stabilize runs at the fast period."""
        return self.fast_left > 0

    def changed(self) -> None:
        """The neighbourhood changed: run the next ``fast_rounds`` rounds fast."""
        self.fast_left = max(self.fast_left, self.config.fast_rounds)

    def poke(self) -> None:
        """Like :meth:`changed`, and cut a slow wait already in progress to the fast period."""
        if self.config.fast_rounds <= 0:
            return
        self.changed()
        if self._wake is not None:
            self._wake.set()

    def ran(self) -> None:
        """One stabilize round ran."""
        if self.fast_left > 0:
            self.fast_left -= 1

    def _jittered(self, period: float) -> float:
        j = self.config.jitter
        return period * (1 + j * (2 * self.rng.random() - 1))

    def period(self) -> float:
        """The (jittered) wait before the next round."""
        cfg = self.config
        return self._jittered(cfg.fast_stabilize_interval if self.fast else cfg.stabilize_interval)

    async def wait(
        self, now: Callable[[], float], sleep: Callable[[float], Awaitable[None]]
    ) -> None:
        """Wait until the next round is due; a :meth:`poke` shortens a slow wait."""
        due = now() + self.period()
        while (left := due - now()) > 0:
            if await self._sleep_or_wake(sleep, left):
                due = min(due, now() + self._jittered(self.config.fast_stabilize_interval))

    async def _sleep_or_wake(self, sleep: Callable[[float], Awaitable[None]], secs: float) -> bool:
        """Sleep ``secs``; True when a poke cut the sleep short."""
        self._wake = wake = asyncio.Event()
        sleeper = asyncio.ensure_future(sleep(secs))
        waker = asyncio.ensure_future(wake.wait())
        try:
            await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for t in (sleeper, waker):
                t.cancel()
            await asyncio.gather(sleeper, waker, return_exceptions=True)
            self._wake = None
        return wake.is_set()


class Hints:
    """Peers that asked for our successor list from between us and our successor (bounded)."""

    def __init__(self, me: int, capacity: int = 8) -> None:
        self.me = me
        self.capacity = capacity
        self._peers: dict[int, tuple[PeerRef, float]] = {}

    def add(self, peer: PeerRef, expires: float) -> None:
        """Remember ``peer`` until ``expires``; the farthest hint goes when full."""
        self._peers[peer.id] = (peer, expires)
        if len(self._peers) > self.capacity:
            far = max(self._peers, key=lambda i: dist(self.me, i))
            del self._peers[far]

    def discard(self, peer_id: int) -> None:
        """Forget a hint (adopted, or it failed to answer)."""
        self._peers.pop(peer_id, None)

    def between(self, succ: int, now: float) -> list[PeerRef]:
        """Live hints in ``(me, succ)``, closest to us first; expired or passed ones go."""
        keep = {
            i: (p, t) for i, (p, t) in self._peers.items() if t > now and in_open(i, self.me, succ)
        }
        self._peers = keep
        return [p for _, (p, _) in sorted(keep.items(), key=lambda kv: dist(self.me, kv[0]))]

    def __len__(self) -> int:
        return len(self._peers)
