"""The DHT on 8 nodes over real TCP sockets and the real handshake: put/get from every node,
mailbox round trip, and a malformed call answered with an error, not a crash."""

from __future__ import annotations

import time

import pytest

from ohtchat.chord.errors import RpcFailure
from ohtchat.dht import Dht, DhtConfig, MemoryReplicas, key_location
from ohtchat.dht.session import serve_dht
from ohtchat.sim.invariants import true_successor
from tests.tcpring import TcpRingNode, form_ring

CONFIG = DhtConfig(rpc_timeout=10.0)  # generous (see tests/tcpring.py)


async def start_dht_node() -> TcpRingNode:
    """A TCP ring node with a DHT on top (``x.layers[0]``)."""
    x = await TcpRingNode.start()
    dht = Dht(x.node, x.account, MemoryReplicas(), CONFIG, clock=time.time)
    serve_dht(x.router, x.pool, dht)
    x.layers.append(dht)
    return x


@pytest.mark.slow
async def test_eight_nodes_over_tcp_put_and_get_everywhere() -> None:
    nodes = [await start_dht_node() for _ in range(8)]
    dhts: list[Dht] = [x.layers[0] for x in nodes]
    try:
        await form_ring(nodes)
        ids = sorted(x.node.me.id for x in nodes)
        by_id = {x.node.me.id: d for x, d in zip(nodes, dhts, strict=True)}
        for i, dht in enumerate(dhts):
            res = await dht.put(f"tcp-{i}", f"value {i}".encode(), ttl=600)
            assert res.stored_on == 3
            owner = true_successor(ids, key_location(f"tcp-{i}".encode()))
            assert res.holders[0].id == owner
            assert f"tcp-{i}".encode() in by_id[owner].holdings.records
        for dht in dhts:
            for i in range(8):
                rec = await dht.get(f"tcp-{i}")
                assert rec is not None and rec.value == f"value {i}".encode()
        # Mailbox round trip across the ring.
        acct = nodes[5].account
        await dhts[2].mailbox_put(acct.account_id, b"sealed")
        got = await dhts[6].mailbox_fetch(acct.account_id)
        assert [item for _, item in got] == [b"sealed"]
        assert await dhts[5].mailbox_delete(acct, [got[0][0]]) == 3
        assert await dhts[1].mailbox_fetch(acct.account_id) == []
        # A malformed call is answered with an error; the holder keeps serving.
        with pytest.raises(RpcFailure):
            await nodes[0].node.rpc(nodes[1].node.me, "dht_store", {"recs": "nonsense"})
        assert await dhts[0].get("tcp-1") is not None
    finally:
        for x in nodes:
            await x.kill()
