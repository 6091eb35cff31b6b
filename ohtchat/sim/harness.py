"""Many Chord nodes on one :class:`SimNetwork` under virtual time, with event schedules.

Run everything inside :func:`ohtchat.sim.loop.run_virtual`. Maintenance is driven in
*rounds* (every member stabilizes, then checks its predecessor) so convergence can be
counted; :meth:`SimRing.start_timers` runs the real jittered timers instead.
"""

from __future__ import annotations

import asyncio
import random
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass

from ohtchat.chord.config import ChordConfig
from ohtchat.chord.errors import ChordError
from ohtchat.chord.node import ChordNode
from ohtchat.chord.ring import ID_BITS, finger_target
from ohtchat.chord.rpc import PeerRef
from ohtchat.crypto.onion import onion_address
from ohtchat.sim.invariants import MemberView, check_invariants, ideal_ring, true_successor
from ohtchat.sim.network import SimClient, SimNetwork
from ohtchat.sim.tormodel import TorModel


class InvariantViolation(AssertionError):
    """Zave's invariants failed after an event."""


@dataclass(frozen=True)
class Event:
    """One schedule step: ``kind`` is join, leave, crash or round."""

    kind: str
    count: int = 1


class SimRing:
    """A population of nodes on one simulated network."""

    def __init__(
        self,
        seed: int = 0,
        config: ChordConfig | None = None,
        *,
        latency: tuple[float, float] = (0.05, 0.25),
        loss: float = 0.0,
        serialize: bool = True,
        tor: TorModel | None = None,
    ) -> None:
        self.rng = random.Random(seed)
        self.config = config or ChordConfig(successors=4)
        self.net = SimNetwork(random.Random(seed + 1), latency, loss, serialize, tor)
        self.nodes: dict[int, ChordNode] = {}  # every node ever made, by id
        self.down: set[int] = set()
        self._made = 0

    # ------------------------------------------------------------ population
    def new_node(self) -> ChordNode:
        """A fresh node with a random key (ids are its hash, as for real keys)."""
        while True:
            ref = PeerRef.from_onion(onion_address(self.rng.randbytes(32)), f"sim{self._made}")
            if ref.id not in self.nodes:
                break
        self._made += 1
        node = ChordNode(
            ref, SimClient(self.net, ref), self.config, rng=random.Random(self.rng.random())
        )
        self.net.register(ref, node.handle)
        self.nodes[ref.id] = node
        return node

    def members(self) -> list[ChordNode]:
        """Live nodes that are in the ring."""
        return [n for i, n in self.nodes.items() if n.member and i not in self.down]

    def views(self) -> dict[int, MemberView]:
        """The global snapshot the invariant checker reads."""
        return {
            n.me.id: MemberView(
                [p.id for p in n.state.successors],
                None if n.state.predecessor is None else n.state.predecessor.id,
            )
            for n in self.members()
        }

    def check(self) -> None:
        """Raise :class:`InvariantViolation` unless Zave's invariants hold now."""
        errs = check_invariants(self.views())
        if errs:
            raise InvariantViolation("; ".join(errs))

    def invariants_hold(self) -> bool:
        """True when Zave's invariants hold now."""
        return not check_invariants(self.views())

    def is_ideal(self) -> bool:
        """True when every pointer is exact."""
        return ideal_ring(self.views())

    def sorted_ids(self) -> list[int]:
        """Member ids in ring order."""
        return sorted(n.me.id for n in self.members())

    # --------------------------------------------------------------- building
    def build_ideal(self, n: int) -> list[ChordNode]:
        """``n`` nodes with exact successor lists, predecessors and fingers (no messages)."""
        nodes = [self.new_node() for _ in range(n)]
        self.set_ideal(nodes)
        return nodes

    def set_ideal(self, nodes: Iterable[ChordNode]) -> None:
        """Give ``nodes`` the exact state of the ring they form."""
        ring = sorted(nodes, key=lambda x: x.me.id)
        ids = [x.me.id for x in ring]
        count, r = len(ring), self.config.successors
        for k, node in enumerate(ring):
            node.member = True
            node.state.set_successors(
                [ring[(k + j) % count].me for j in range(1, min(r, count - 1) + 1)]
            )
            node.set_predecessor(None if count == 1 else ring[k - 1].me)
            node.state.clear_fingers()
            i = 0
            while i < ID_BITS and count > 1:
                owner = ring[bisect_left(ids, finger_target(node.me.id, i)) % count]
                i = node.state.set_finger(i, owner.me)

    async def create(self) -> ChordNode:
        """The first node of a ring."""
        node = self.new_node()
        node.create()
        return node

    async def join(
        self, count: int = 1, via: ChordNode | None = None, *, retry: float | None = None
    ) -> list[ChordNode]:
        """``count`` new nodes join at once, each through a random live member. With
        ``retry``, a failed join is tried again (through another member) after ``retry``
        seconds, as a real node does, and a joined node starts its timers."""
        live = self.members()
        joiners = [self.new_node() for _ in range(count)]
        entries = [via or self.rng.choice(live) for _ in joiners]
        if retry is None:
            await asyncio.gather(*(j.join(e.me) for j, e in zip(joiners, entries, strict=True)))
            return joiners
        await asyncio.gather(
            *(self._join_until(j, e, retry) for j, e in zip(joiners, entries, strict=True))
        )
        return joiners

    async def _join_until(self, node: ChordNode, via: ChordNode, retry: float) -> None:
        while True:
            try:
                await node.join(via.me)
                node.start()
                return
            except ChordError:
                await asyncio.sleep(retry)
                via = self.rng.choice(self.members())

    def crash(self, count: int = 1, *, safe: bool = True) -> list[ChordNode]:
        """Crash up to ``count`` random members; ``safe`` keeps Zave's failure assumption
        (no member is left without a live successor, at least two members remain)."""
        out: list[ChordNode] = []
        for _ in range(count):
            live = self.members()
            self.rng.shuffle(live)
            for victim in live:
                if not safe or self._may_fail(victim, live):
                    self._kill(victim)
                    out.append(victim)
                    break
        return out

    def _kill(self, node: ChordNode) -> None:
        self.down.add(node.me.id)
        self.net.crash(node.me.address)
        for t in [*node._timers, *node._tasks]:
            t.cancel()

    def _may_fail(self, victim: ChordNode, live: list[ChordNode]) -> bool:
        if len(live) <= 2:
            return False
        alive = {n.me.id for n in live} - {victim.me.id}
        return all(
            any(s.id in alive for s in n.state.successors)
            for n in live
            if n is not victim and n.state.successors
        )

    async def leave(self, count: int = 1) -> list[ChordNode]:
        """Up to ``count`` random members leave gracefully, one after another."""
        out: list[ChordNode] = []
        for _ in range(count):
            live = self.members()
            self.rng.shuffle(live)
            for victim in live:
                if self._may_fail(victim, live):
                    await victim.leave()
                    self.net.remove(victim.me.address)
                    self.down.add(victim.me.id)
                    out.append(victim)
                    break
        return out

    # ------------------------------------------------------------ maintenance
    async def round(self) -> None:
        """Every member stabilizes, then checks its predecessor; background work drains."""
        nodes = self.members()
        await asyncio.gather(*(n.stabilize() for n in nodes))
        await asyncio.gather(*(n.check_predecessor() for n in nodes))
        await asyncio.gather(*(n.drain() for n in nodes))

    async def fix_fingers(self) -> None:
        """Every member does one full finger sweep."""
        await asyncio.gather(*(n.fix_all_fingers() for n in self.members()))

    async def rounds_until(self, ideal: bool, limit: int) -> int | None:
        """Rounds run until the invariants (or, with ``ideal``, exact pointers) hold."""
        for k in range(limit + 1):
            if self.is_ideal() if ideal else self.invariants_hold():
                return k
            if k < limit:
                await self.round()
        return None

    def start_timers(self) -> None:
        """Run every member's own jittered maintenance timers."""
        for n in self.members():
            n.start()

    def keep_warm(self) -> dict[str, set[str]]:
        """Address → addresses of the peers each live member keeps sessions to."""
        return {n.me.address: {p.address for p in n.warm_peers()} for n in self.members()}

    def open_warm_sessions(self) -> None:
        """Open every kept session at once (the steady state maintenance reaches), under a
        Tor model; nothing otherwise."""
        links = self.net.links
        if links is not None:
            for a, peers in self.keep_warm().items():
                for b in sorted(peers):  # (a set: sorted, so a seed gives one outcome)
                    links.open_now(a, b)

    async def sweep_forever(self) -> None:
        """Every quarter ``idle_timeout``, close idle sessions no end keeps (Tor model)."""
        links = self.net.links
        if links is None:
            return
        while True:
            await asyncio.sleep(links.model.idle_timeout / 4)
            links.sweep(self.keep_warm())

    async def stop(self) -> None:
        """Stop every node's timers and tasks."""
        await asyncio.gather(*(n.stop() for n in self.nodes.values()))

    # ---------------------------------------------------------------- lookups
    async def lookup_ok(self, origin: ChordNode, key: int) -> bool:
        """True when ``origin`` finds the true live owner of ``key``."""
        try:
            res = await origin.lookup(key)
        except Exception:  # any failure counts as a failed lookup here
            return False
        return res.owner.id == true_successor(self.sorted_ids(), key)

    async def run_schedule(self, events: Iterable[Event], *, check: bool = True) -> None:
        """Apply events in order, checking the invariants after each when ``check``."""
        for ev in events:
            if ev.kind == "join":
                await self.join(ev.count)
            elif ev.kind == "crash":
                self.crash(ev.count)
            elif ev.kind == "leave":
                await self.leave(ev.count)
            elif ev.kind == "round":
                for _ in range(ev.count):
                    await self.round()
            else:
                raise ValueError(f"unknown event kind {ev.kind!r}")
            if check:
                self.check()


def random_schedule(rng: random.Random, steps: int) -> list[Event]:
    """A random mix of joins, leaves, crashes and stabilization rounds."""
    kinds = ["join", "join", "leave", "crash", "round", "round"]
    return [Event(k, rng.randint(1, 3) if k != "round" else 1) for k in rng.choices(kinds, k=steps)]
