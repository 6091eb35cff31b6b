"""A live-Tor latency model for the simulator: sessions that must be dialled, and die.

On the live Tor network a call to a node we hold no session with first builds circuits to its
onion service (a *cold connect*: 4–29 s, median 14.6 s over 67 connects measured by another
onion app, the figures issue 14 gives; see docs/benchmarks.md), then runs the handshake (one
more round trip); a call over an open session costs one round trip through both circuits
(0.3–1.5 s). Some
connects fail, and circuits die now and then. :class:`TorModel` holds those parameters;
:class:`Links` is the set of open sessions of a whole simulated network, which
:class:`~ohtchat.sim.network.SimNetwork` consults before carrying a call:

* a session serves both directions (as in :class:`~ohtchat.session.pool.SessionPool`);
* concurrent callers from one node share one dial; a dial outlives a caller that gave up
  (the pool shields it), so a later call finds the session open;
* a dial to a node that is down fails after ``connect_timeout``; ``connect_failure`` of the
  others fail after their drawn connect time;
* each session dies after an exponential lifetime (mean ``circuit_life``) and is gone when its
  node crashes; :meth:`Links.sweep` closes sessions idle for ``idle_timeout`` unless either end
  keeps them warm (the pool's idle sweep, whose keepalives keep kept sessions active).
"""

from __future__ import annotations

import asyncio
import random
from bisect import bisect_right
from collections.abc import Callable, Mapping, Set
from dataclasses import dataclass

from ohtchat.chord.errors import RpcFailure, RpcTimeout

#: Cold-connect quantiles, (probability, seconds): only the range and median are known
#: (4 s, 14.6 s, 29 s), so the model is uniform on each side of the median.
TOR_CONNECT = ((0.0, 4.0), (0.5, 14.6), (1.0, 29.0))


@dataclass(frozen=True)
class TorModel:
    """Latency and failure parameters of onion-service sessions."""

    #: Inverse CDF of a cold connect as (quantile, seconds) knots, linear in between.
    connect: tuple[tuple[float, float], ...] = TOR_CONNECT
    #: Round trip of one call over an open session, uniform in this range (seconds).
    rtt: tuple[float, float] = (0.3, 1.5)
    #: Share of connects to a live node that fail.
    connect_failure: float = 0.05
    #: Mean lifetime of a session's circuits (exponential), seconds.
    circuit_life: float = 3600.0
    #: A dial to a node that is down fails after this long (the pool's connect timeout).
    connect_timeout: float = 30.0
    #: Sessions idle this long are closed unless an end keeps them (the pool's default).
    idle_timeout: float = 600.0

    def connect_time(self, rng: random.Random) -> float:
        """One cold connect, drawn from :attr:`connect`."""
        u = rng.random()
        qs = [q for q, _ in self.connect]
        i = min(max(bisect_right(qs, u), 1), len(qs) - 1)
        (q0, s0), (q1, s1) = self.connect[i - 1], self.connect[i]
        return s0 + (s1 - s0) * (u - q0) / (q1 - q0)

    def one_way(self) -> tuple[float, float]:
        """The one-way latency range (half the round trip), for :class:`SimNetwork`."""
        return self.rtt[0] / 2, self.rtt[1] / 2


@dataclass
class LinkStats:
    """Counters over the whole network."""

    dials: int = 0
    dial_failures: int = 0
    deaths: int = 0
    idle_closed: int = 0


@dataclass
class _Link:
    dies: float
    used: float


def _key(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


class Links:
    """The open sessions between simulated nodes (by address), under a :class:`TorModel`."""

    def __init__(self, model: TorModel, rng: random.Random, now: Callable[[], float]) -> None:
        self.model = model
        self.rng = rng
        self.now = now
        self.stats = LinkStats()
        self._open: dict[tuple[str, str], _Link] = {}
        self._dialing: dict[tuple[str, str], asyncio.Task[None]] = {}
        #: Dials started by each node.
        self.dials_by: dict[str, int] = {}

    def is_open(self, a: str, b: str) -> bool:
        """True when a live session joins ``a`` and ``b`` (a dead one is removed)."""
        link = self._open.get(_key(a, b))
        if link is None:
            return False
        if link.dies <= self.now():
            del self._open[_key(a, b)]
            self.stats.deaths += 1
            return False
        return True

    async def ensure(self, a: str, b: str, reachable: Callable[[], bool]) -> None:
        """Return once ``a`` has a session to ``b``, dialling (shared) if needed; raise
        :class:`RpcFailure`/:class:`RpcTimeout` when the dial fails."""
        if self.is_open(a, b):
            self._open[_key(a, b)].used = self.now()
            return
        task = self._dialing.get((a, b))
        if task is None:
            task = asyncio.get_running_loop().create_task(self._dial(a, b, reachable))
            self._dialing[(a, b)] = task
            task.add_done_callback(lambda t: self._settle((a, b), t))
        await asyncio.shield(task)

    def _settle(self, key: tuple[str, str], task: asyncio.Task[None]) -> None:
        self._dialing.pop(key, None)
        if not task.cancelled():
            task.exception()  # retrieved: every caller may have given up

    async def _dial(self, a: str, b: str, reachable: Callable[[], bool]) -> None:
        m = self.model
        self.stats.dials += 1
        self.dials_by[a] = self.dials_by.get(a, 0) + 1
        if not reachable():
            await asyncio.sleep(m.connect_timeout)
            self.stats.dial_failures += 1
            raise RpcTimeout(f"connect to {b} timed out")
        failed = self.rng.random() < m.connect_failure
        # The onion connect, then the session handshake (one more round trip).
        await asyncio.sleep(m.connect_time(self.rng) + self.rng.uniform(*m.rtt))
        if failed or not reachable():
            self.stats.dial_failures += 1
            raise RpcFailure(f"connect to {b} failed")
        self.open_now(a, b)

    def open_now(self, a: str, b: str) -> None:
        """Open a session between ``a`` and ``b`` without a dial (to set up a steady state)."""
        if not self.is_open(a, b):
            now = self.now()
            life = self.rng.expovariate(1 / self.model.circuit_life)
            self._open[_key(a, b)] = _Link(now + life, now)

    def touch(self, a: str, b: str) -> None:
        """A call went over the session of ``a`` and ``b``."""
        link = self._open.get(_key(a, b))
        if link is not None:
            link.used = self.now()

    def close(self, a: str, b: str) -> None:
        """Close the session of ``a`` and ``b``, if open."""
        self._open.pop(_key(a, b), None)

    def peers_of(self, a: str) -> set[str]:
        """The addresses ``a`` holds a session with (dead ones included until noticed)."""
        return {y if x == a else x for x, y in self._open if a in (x, y)}

    def drop_node(self, a: str) -> None:
        """``a`` crashed: its circuits close with it."""
        for key in [k for k in self._open if a in k]:
            del self._open[key]

    def sweep(self, keep: Mapping[str, Set[str]]) -> int:
        """Close sessions idle for ``idle_timeout`` that neither end keeps (``keep``: address
        → addresses it keeps warm); returns how many closed."""
        cutoff = self.now() - self.model.idle_timeout
        gone = [
            (a, b)
            for (a, b), link in self._open.items()
            if link.used < cutoff and b not in keep.get(a, ()) and a not in keep.get(b, ())
        ]
        for key in gone:
            del self._open[key]
        self.stats.idle_closed += len(gone)
        return len(gone)

    def per_node(self) -> dict[str, int]:
        """Open sessions (circuits held) of every node that has any."""
        now = self.now()
        out: dict[str, int] = {}
        for (a, b), link in self._open.items():
            if link.dies > now:
                out[a] = out.get(a, 0) + 1
                out[b] = out.get(b, 0) + 1
        return out
