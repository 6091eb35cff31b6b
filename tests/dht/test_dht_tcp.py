"""The DHT on 8 nodes over real TCP sockets and the real handshake: put/get from every node,
mailbox round trip, and a malformed call answered with an error, not a crash."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

import pytest

from ohtchat.chord.config import ChordConfig
from ohtchat.chord.errors import RpcFailure
from ohtchat.chord.node import ChordNode
from ohtchat.chord.rpc import PeerRef
from ohtchat.chord.service import ChordService
from ohtchat.chord.session_client import SessionChordClient, serve_chord
from ohtchat.crypto.keys import AccountKey
from ohtchat.dht import Dht, DhtConfig, MemoryReplicas, key_location
from ohtchat.dht.session import serve_dht
from ohtchat.session.identity import NodeIdentity
from ohtchat.session.pool import SessionPool
from ohtchat.session.router import Router
from ohtchat.sim.invariants import true_successor
from ohtchat.transport.tcp import TcpTransport

CHORD = ChordConfig(successors=4, rpc_timeout=3.0, lookup_timeout=20.0)
CONFIG = DhtConfig(rpc_timeout=3.0)


@dataclass
class TcpDhtNode:
    identity: NodeIdentity
    account: AccountKey
    pool: SessionPool
    node: ChordNode
    service: ChordService
    dht: Dht

    @classmethod
    async def start(cls) -> TcpDhtNode:
        account = AccountKey()
        ident = NodeIdentity.create(account, int(time.time()))
        router = Router()
        pool = SessionPool(TcpTransport(), ident, router, connect_timeout=3, handshake_timeout=5)
        listener = await pool.listen("127.0.0.1:0")
        pool.advertise = listener.address
        me = PeerRef(ident.node_id, ident.onion, listener.address)
        node = ChordNode(me, SessionChordClient(pool), CHORD, rng=random.Random(ident.node_id))
        dht = Dht(node, account, MemoryReplicas(), CONFIG, clock=time.time)
        serve_chord(router, pool, node)
        serve_dht(router, pool, dht)
        return cls(ident, account, pool, node, ChordService(node), dht)

    async def kill(self) -> None:
        await self.dht.stop()
        await self.node.stop()
        await self.pool.close()


async def rounds(nodes: list[TcpDhtNode], n: int) -> None:
    for _ in range(n):
        for x in nodes:
            await x.node.check_predecessor()
            await x.node.stabilize()
    for x in nodes:
        await x.node.fix_all_fingers()


@pytest.mark.slow
async def test_eight_nodes_over_tcp_put_and_get_everywhere() -> None:
    nodes = [await TcpDhtNode.start() for _ in range(8)]
    try:
        await nodes[0].service.create()
        await nodes[0].node.stop()
        for k, x in enumerate(nodes[1:], start=2):
            await x.service.connect(nodes[0].pool.listen_address)
            await x.node.stop()  # maintenance driven by hand, deterministically
            await rounds(nodes[:k], 1)
        await rounds(nodes, 3)
        ids = sorted(x.node.me.id for x in nodes)
        by_id = {x.node.me.id: x for x in nodes}
        for i, x in enumerate(nodes):
            res = await x.dht.put(f"tcp-{i}", f"value {i}".encode(), ttl=600)
            assert res.stored_on == 3
            owner = true_successor(ids, key_location(f"tcp-{i}".encode()))
            assert res.holders[0].id == owner
            assert f"tcp-{i}".encode() in by_id[owner].dht.holdings.records
        for x in nodes:
            for i in range(8):
                rec = await x.dht.get(f"tcp-{i}")
                assert rec is not None and rec.value == f"value {i}".encode()
        # Mailbox round trip across the ring.
        recipient = nodes[5]
        acct = recipient.account
        await nodes[2].dht.mailbox_put(acct.account_id, b"sealed")
        got = await nodes[6].dht.mailbox_fetch(acct.account_id)
        assert [item for _, item in got] == [b"sealed"]
        assert await recipient.dht.mailbox_delete(acct, [got[0][0]]) == 3
        assert await nodes[1].dht.mailbox_fetch(acct.account_id) == []
        # A malformed call is answered with an error; the holder keeps serving.
        with pytest.raises(RpcFailure):
            await nodes[0].node.rpc(nodes[1].node.me, "dht_store", {"recs": "nonsense"})
        assert await nodes[0].dht.get("tcp-1") is not None
    finally:
        for x in nodes:
            await x.kill()
