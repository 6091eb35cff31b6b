"""A real node (:class:`ChatNode`, as ``--serve`` runs it) closes idle sessions on its own timer.

Issue 19 found that idle sessions were never closed. The node's stack now runs the pool's
sweep; this checks it on a running node rather than on a pool driven by hand, and that the
sweep also tells eviction which sessions the node keeps warm.
"""

from __future__ import annotations

from typing import Any

from ohtchat.app.node import ChatNode
from ohtchat.session.pool import SessionPool
from ohtchat.transport.memory import MemoryNetwork
from tests.app.nodes import options
from tests.conftest import make_identity
from tests.waiting import eventually

IDLE = 2.0


async def _nothing(peer: Any, method: str, params: Any) -> dict[str, Any]:
    return {}


async def test_a_running_node_closes_an_idle_inbound_session() -> None:
    net = MemoryNetwork()
    node = await ChatNode.start(options(net, "solo", [], session_idle_timeout=IDLE))
    stranger = SessionPool(net.transport("stranger"), make_identity(), _nothing)
    try:
        await node.ready()
        await stranger.request("solo", node.identity.onion, "ping", {}, timeout=10)
        me = stranger.me.onion
        assert node.pool.has_session(me)
        # The sweep's ``keep`` is the pool's too: eviction spares the ring's neighbours.
        assert node.pool.keep == node.stack.chord.neighbour_onions
        # Nothing else is sent: the node's own sweep (every IDLE / 4) closes the session.
        await eventually(lambda: not node.pool.has_session(me), "the idle session closed")
        await eventually(lambda: stranger.sessions() == [], "the stranger saw it close")
    finally:
        await stranger.close()
        await node.stop()
