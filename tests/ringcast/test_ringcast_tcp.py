"""Ringcast over real TCP sockets and the real handshake: 8 nodes form a ring, one broadcasts,
each of the 7 others delivers it exactly once, and exactly 7 delivery messages cross the wire."""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field

from ohtchat.chord.config import ChordConfig
from ohtchat.chord.node import ChordNode
from ohtchat.chord.rpc import PeerRef
from ohtchat.chord.service import ChordService
from ohtchat.chord.session_client import SessionChordClient, serve_chord
from ohtchat.crypto.keys import AccountKey
from ohtchat.ringcast.message import Broadcast
from ohtchat.ringcast.node import Ringcast
from ohtchat.ringcast.session import serve_ringcast
from ohtchat.session.identity import NodeIdentity
from ohtchat.session.pool import SessionPool
from ohtchat.session.router import Router
from ohtchat.sim.invariants import MemberView, ideal_ring
from ohtchat.transport.tcp import TcpTransport

CONFIG = ChordConfig(successors=4, rpc_timeout=3.0, lookup_timeout=20.0)


@dataclass
class TcpRcNode:
    pool: SessionPool
    node: ChordNode
    service: ChordService
    rc: Ringcast
    inbox: list[Broadcast] = field(default_factory=list)

    @classmethod
    async def start(cls) -> TcpRcNode:
        account = AccountKey()
        ident = NodeIdentity.create(account, int(time.time()))
        router = Router()
        pool = SessionPool(TcpTransport(), ident, router, connect_timeout=3, handshake_timeout=5)
        listener = await pool.listen("127.0.0.1:0")
        pool.advertise = listener.address
        me = PeerRef(ident.node_id, ident.onion, listener.address)
        node = ChordNode(me, SessionChordClient(pool), CONFIG, rng=random.Random(ident.node_id))
        rc = Ringcast(node, account, certificate=ident.cert)
        serve_chord(router, pool, node)
        serve_ringcast(router, pool, rc)
        out = cls(pool, node, ChordService(node), rc)
        rc.on_deliver = out.inbox.append
        return out

    async def kill(self) -> None:
        await self.rc.stop()
        await self.node.stop()
        await self.pool.close()


async def rounds(nodes: list[TcpRcNode], n: int) -> None:
    for _ in range(n):
        for x in nodes:
            await x.node.check_predecessor()
            await x.node.stabilize()
    for x in nodes:
        await x.node.fix_all_fingers()


async def test_eight_tcp_nodes_ringcast_reaches_all_others_once() -> None:
    nodes = [await TcpRcNode.start() for _ in range(8)]
    try:
        await nodes[0].service.create()
        await nodes[0].node.stop()  # maintenance driven by hand, deterministically
        for k, x in enumerate(nodes[1:], start=2):
            await x.service.connect(nodes[0].pool.listen_address)
            await x.node.stop()
            await rounds(nodes[:k], 1)
        await rounds(nodes, 3)
        views = {
            x.node.me.id: MemberView(
                [p.id for p in x.node.state.successors],
                x.node.state.predecessor.id if x.node.state.predecessor else None,
            )
            for x in nodes
        }
        assert ideal_ring(views)

        origin = nodes[3]
        res = await origin.rc.broadcast({"text": "hello, ring"})
        async with asyncio.timeout(30):
            while any(x.rc.busy for x in nodes) or sum(len(x.inbox) for x in nodes) < 8:
                await asyncio.sleep(0.05)
        for x in nodes:
            assert [b.msg_id for b in x.inbox] == [res.msg_id]
            got = x.inbox[0]
            assert got.payload == {"text": "hello, ring"} and got.certified
            assert got.origin_onion == origin.node.me.onion
        assert sum(x.rc.metrics.sent for x in nodes) == 7
        assert sum(x.rc.metrics.received for x in nodes) == 7
        assert sum(x.rc.metrics.duplicates for x in nodes) == 0
    finally:
        for x in nodes:
            await x.kill()
