"""A ring of 16 nodes on real TCP sockets with the real handshake: it forms, answers lookups
correctly from every node, and heals after 4 nodes are killed."""

from __future__ import annotations

import random

import pytest

from ohtchat.chord.config import ChordConfig
from ohtchat.sim.invariants import check_invariants, ideal_ring, true_successor
from tests.tcpring import TcpRingNode, converge, form_ring, rounds, views

CONFIG = ChordConfig(successors=6, rpc_timeout=10.0, lookup_timeout=30.0)  # see tcpring.py


async def assert_lookups_correct(nodes: list[TcpRingNode], keys: list[int]) -> None:
    ids = sorted(x.node.me.id for x in nodes)
    for x in nodes:
        for key in keys:
            info = await x.service.lookup(key)
            assert info.owner.id == true_successor(ids, key), f"{x.node.me} wrong owner for key"


@pytest.mark.slow
async def test_sixteen_nodes_over_tcp_form_a_ring_and_heal() -> None:
    nodes = [await TcpRingNode.start(CONFIG) for _ in range(16)]
    try:
        await form_ring(nodes)
        assert check_invariants(views(x.node for x in nodes)) == []
        assert ideal_ring(views(x.node for x in nodes))
        rng = random.Random(7)
        keys = [rng.getrandbits(256) for _ in range(8)] + [x.node.me.id for x in nodes[:3]]
        await assert_lookups_correct(nodes, keys)
        # Sessions are pooled: far fewer than one per call.
        assert max(len(x.pool.sessions()) for x in nodes) <= 15

        victims = rng.sample(nodes, 4)
        for v in victims:
            await v.kill()
        alive = [x for x in nodes if x not in victims]
        await rounds(alive, 6)
        # A call timed out on a loaded machine costs another round: wait for the heal.
        await converge(alive)
        assert check_invariants(views(x.node for x in alive)) == []
        assert ideal_ring(views(x.node for x in alive))
        await assert_lookups_correct(alive, keys)
    finally:
        for x in nodes:
            await x.kill()
