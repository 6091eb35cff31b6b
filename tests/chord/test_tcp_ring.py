"""A ring of 16 nodes on real TCP sockets with the real handshake: it forms, answers lookups
correctly from every node, and heals after 4 nodes are killed."""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest

from ohtchat.chord.config import ChordConfig
from ohtchat.chord.node import ChordNode
from ohtchat.chord.rpc import PeerRef
from ohtchat.chord.service import ChordService
from ohtchat.chord.session_client import SessionChordClient, serve_chord
from ohtchat.session.identity import NodeIdentity
from ohtchat.session.pool import SessionPool
from ohtchat.session.router import Router
from ohtchat.sim.invariants import MemberView, check_invariants, ideal_ring, true_successor
from ohtchat.transport.tcp import TcpTransport
from tests.conftest import make_identity

CONFIG = ChordConfig(successors=6, rpc_timeout=3.0, lookup_timeout=20.0)


@dataclass
class TcpNode:
    identity: NodeIdentity
    pool: SessionPool
    node: ChordNode
    service: ChordService

    @classmethod
    async def start(cls) -> TcpNode:
        ident = make_identity()
        router = Router()
        pool = SessionPool(TcpTransport(), ident, router, connect_timeout=3, handshake_timeout=5)
        listener = await pool.listen("127.0.0.1:0")
        pool.advertise = listener.address
        me = PeerRef(ident.node_id, ident.onion, listener.address)
        node = ChordNode(me, SessionChordClient(pool), CONFIG, rng=random.Random(ident.node_id))
        serve_chord(router, pool, node)
        return cls(ident, pool, node, ChordService(node))

    async def kill(self) -> None:
        await self.node.stop()
        await self.pool.close()


async def rounds(nodes: list[TcpNode], n: int) -> None:
    for _ in range(n):
        for x in nodes:
            await x.node.check_predecessor()
            await x.node.stabilize()
    for x in nodes:
        await x.node.fix_all_fingers()


def views(nodes: list[TcpNode]) -> dict[int, MemberView]:
    return {
        x.node.me.id: MemberView(
            [p.id for p in x.node.state.successors],
            x.node.state.predecessor.id if x.node.state.predecessor else None,
        )
        for x in nodes
    }


async def assert_lookups_correct(nodes: list[TcpNode], keys: list[int]) -> None:
    ids = sorted(x.node.me.id for x in nodes)
    for x in nodes:
        for key in keys:
            info = await x.service.lookup(key)
            assert info.owner.id == true_successor(ids, key), f"{x.node.me} wrong owner for key"


@pytest.mark.slow
async def test_sixteen_nodes_over_tcp_form_a_ring_and_heal():
    nodes = [await TcpNode.start() for _ in range(16)]
    try:
        await nodes[0].service.create()
        await nodes[0].node.stop()  # maintenance is driven by hand below, deterministically
        for k, x in enumerate(nodes[1:], start=2):
            # Bootstrap by host:port only: the handshake tells us who answers there.
            info = await x.service.connect(nodes[0].pool.listen_address)
            assert info.member
            await x.node.stop()
            await rounds(nodes[:k], 1)
        await rounds(nodes, 3)
        assert check_invariants(views(nodes)) == []
        assert ideal_ring(views(nodes))
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
        assert check_invariants(views(alive)) == []
        assert ideal_ring(views(alive))
        await assert_lookups_correct(alive, keys)
    finally:
        for x in nodes:
            await x.kill()
