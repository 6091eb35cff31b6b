"""Ringcast over real TCP sockets and the real handshake: 8 nodes form a ring, one broadcasts,
each of the 7 others delivers it exactly once, and exactly 7 delivery messages cross the wire."""

from __future__ import annotations

from ohtchat.ringcast.message import Broadcast
from ohtchat.ringcast.node import Ringcast
from ohtchat.ringcast.session import serve_ringcast
from ohtchat.sim.invariants import ideal_ring
from tests.tcpring import TcpRingNode, form_ring, views
from tests.waiting import eventually


async def start_rc_node() -> tuple[TcpRingNode, Ringcast, list[Broadcast]]:
    """A TCP ring node with ringcast on top; deliveries land in the returned inbox."""
    x = await TcpRingNode.start()
    inbox: list[Broadcast] = []
    rc = Ringcast(x.node, x.account, certificate=x.identity.cert, on_deliver=inbox.append)
    serve_ringcast(x.router, x.pool, rc)
    x.layers.append(rc)
    return x, rc, inbox


async def test_eight_tcp_nodes_ringcast_reaches_all_others_once() -> None:
    started = [await start_rc_node() for _ in range(8)]
    nodes = [x for x, _, _ in started]
    rcs = [rc for _, rc, _ in started]
    inboxes = [inbox for _, _, inbox in started]
    try:
        await form_ring(nodes)
        assert ideal_ring(views(x.node for x in nodes))

        origin = nodes[3]
        res = await rcs[3].broadcast({"text": "hello, ring"})
        await eventually(
            lambda: not any(rc.busy for rc in rcs) and sum(len(i) for i in inboxes) >= 8,
            "every node delivered and every relay finished",
        )
        for inbox in inboxes:
            assert [b.msg_id for b in inbox] == [res.msg_id]
            got = inbox[0]
            assert got.payload == {"text": "hello, ring"} and got.certified
            assert got.origin_onion == origin.node.me.onion
        assert sum(rc.metrics.sent for rc in rcs) == 7
        assert sum(rc.metrics.received for rc in rcs) == 7
        assert sum(rc.metrics.duplicates for rc in rcs) == 0
    finally:
        for x in nodes:
            await x.kill()
