"""A simulated ring whose nodes run both Chord and the DHT (helper for the DHT tests)."""

from __future__ import annotations

import asyncio
import random

from ohtchat.chord.config import ChordConfig
from ohtchat.chord.node import ChordNode
from ohtchat.chord.ring import in_half_open
from ohtchat.crypto.keys import AccountKey
from ohtchat.dht import Dht, DhtConfig, MemoryReplicas, ring_handler
from ohtchat.sim.harness import SimRing
from ohtchat.sim.invariants import true_successor

#: Virtual unix time at loop time 0 (records carry unix expiries).
BASE = 1_700_000_000.0
CHORD = ChordConfig(successors=4, rpc_timeout=1.0, lookup_timeout=30.0, suspect_for=5.0)
CONFIG = DhtConfig(rpc_timeout=1.0, maintain_interval=60.0, handoff_poll=5.0)


def clock() -> float:
    """Unix seconds on the virtual loop."""
    return BASE + asyncio.get_running_loop().time()


class DhtRing:
    """``n`` nodes with exact routing state, each with an account key and a DHT."""

    def __init__(self, n: int, seed: int = 0, config: DhtConfig = CONFIG) -> None:
        self.ring = SimRing(seed, CHORD, latency=(0.01, 0.05))
        self.config = config
        self.rng = random.Random(seed + 7)
        self.dhts: dict[int, Dht] = {}
        for node in self.ring.build_ideal(n):
            self.attach(node)

    def attach(self, node: ChordNode) -> Dht:
        """Give ``node`` a DHT and route its incoming calls to both layers."""
        dht = Dht(
            node,
            AccountKey(self.rng.randbytes(32)),
            MemoryReplicas(),
            self.config,
            clock=clock,
            rng=random.Random(self.rng.random()),
        )
        self.ring.net.set_handler(node.me.address, ring_handler(node, dht))
        self.dhts[node.me.id] = dht
        return dht

    def live(self) -> list[Dht]:
        """DHTs of live ring members, in ring order."""
        return [self.dhts[i] for i in self.ring.sorted_ids()]

    def crash(self, dht: Dht) -> None:
        """Crash a node without notice."""
        self.ring._kill(dht.chord)

    def revive(self, dht: Dht) -> None:
        """Bring a crashed node back with its state."""
        self.ring.down.discard(dht.me.id)
        self.ring.net.revive(dht.me.address)

    def responsible(self, location: int) -> list[int]:
        """The ids of the true k responsible live nodes of ``location``."""
        ids = self.ring.sorted_ids()
        first = ids.index(true_successor(ids, location))
        k = min(self.config.replicas, len(ids))
        return [ids[(first + j) % len(ids)] for j in range(k)]

    def holders(self, key: bytes) -> set[int]:
        """Live nodes holding a record under ``key``."""
        return {d.me.id for d in self.live() if key in d.holdings.records}

    def owner_arc_key(self, node_id: int, pred_id: int, prefix: str = "k") -> bytes:
        """A key whose location falls in the arc ``(pred_id, node_id]``."""
        from ohtchat.dht.record import key_location

        for i in range(100_000):
            key = f"{prefix}{i}".encode()
            if in_half_open(key_location(key), pred_id, node_id):
                return key
        raise AssertionError("no key found in arc")

    async def heal(self, rounds: int = 4) -> None:
        """Chord stabilization rounds, then a full finger sweep."""
        for _ in range(rounds):
            await self.ring.round()
        await self.ring.fix_fingers()

    async def maintain_all(self) -> None:
        """One DHT maintenance pass on every live node, one after another."""
        for d in self.live():
            await d.maintain()

    async def join(self) -> Dht:
        """A fresh node joins through a random member; the ring heals to exact pointers."""
        node = self.ring.new_node()
        dht = self.attach(node)
        await node.join(self.rng.choice(self.ring.members()).me)
        assert await self.ring.rounds_until(True, 20) is not None
        await self.ring.fix_fingers()
        return dht

    async def stop(self) -> None:
        """Stop every timer."""
        await asyncio.gather(*(d.stop() for d in self.dhts.values()))
        await self.ring.stop()
