"""Helpers for the ringcast tests: simulated rings with a Ringcast on every node."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from ohtchat.chord.config import ChordConfig
from ohtchat.chord.node import ChordNode
from ohtchat.ringcast.config import RingcastConfig
from ohtchat.ringcast.message import Broadcast
from ohtchat.ringcast.node import Ringcast
from ohtchat.sim.harness import SimRing
from ohtchat.sim.ringcast import attach_ringcast, drain_all

CHORD = ChordConfig(successors=6, rpc_timeout=2.0, lookup_timeout=30.0)


@dataclass
class RcRing:
    """A simulated ring whose every node runs ringcast and records what it delivers."""

    ring: SimRing
    rcs: dict[int, Ringcast] = field(default_factory=dict)
    inbox: dict[int, list[Broadcast]] = field(default_factory=dict)

    @classmethod
    def ideal(
        cls, n: int, seed: int = 1, config: RingcastConfig | None = None, chord: ChordConfig = CHORD
    ) -> RcRing:
        ring = SimRing(seed=seed, config=chord)
        out = cls(ring)
        out.attach(ring.build_ideal(n), config)
        return out

    def attach(self, nodes: list[ChordNode], config: RingcastConfig | None = None) -> None:
        self.rcs.update(attach_ringcast(self.ring, nodes, config, inbox=self.inbox))

    def live(self) -> list[Ringcast]:
        return [rc for i, rc in self.rcs.items() if i not in self.ring.down]

    async def settle(self) -> None:
        await drain_all(self.rcs.values())

    def deliveries(self, msg_id: bytes) -> Counter[int]:
        """How many times each node delivered ``msg_id``."""
        return Counter(node for node, box in self.inbox.items() for b in box if b.msg_id == msg_id)

    def total(self, name: str, live_only: bool = True) -> int:
        rcs = self.live() if live_only else list(self.rcs.values())
        return sum(getattr(rc.metrics, name) for rc in rcs)

    def assert_exactly_once(self, msg_id: bytes) -> None:
        counts = self.deliveries(msg_id)
        live = {rc.chord.me.id for rc in self.live()}
        missing = live - set(counts)
        assert not missing, f"{len(missing)} live nodes never delivered"
        assert set(counts) <= live, "a crashed node delivered"
        assert max(counts.values()) == 1, "a node delivered twice"


def ceil_log2(n: int) -> int:
    return math.ceil(math.log2(n))
