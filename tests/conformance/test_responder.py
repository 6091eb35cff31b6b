"""Conformance, responder role: a real node bootstraps through our spec-only peer. It dials us
by ``host:port`` (hs1 naming nobody), we answer its handshake and serve the Chord methods it
calls from the spec, and it completes its join with us as successor and predecessor.
"""

from __future__ import annotations

from pathlib import Path

from ohtchat.app.node import ChatNode
from tests.chat.ringnodes import PASS, RING_DEADLINE, options
from tests.conformance.minilayers import id32
from tests.conformance.minipeer import MiniPeer
from tests.waiting import eventually

#: The Chord methods a joining node calls on its bootstrap peer (join, stabilize,
#: check_predecessor, peer exchange), and the ``_hello`` a TCP-mode dialler sends.
JOIN_CALLS = {
    "_hello",
    "find_successor",
    "get_predecessor",
    "get_successor_list",
    "notify",
    "get_peers",
    "ping",
}


async def test_node_joins_through_our_peer(tmp_path: Path, peer: MiniPeer) -> None:
    node = await ChatNode.start(options(tmp_path / "joiner", "joiner", [peer.addr]), PASS)
    try:
        await node.ready(RING_DEADLINE)
        assert node.listener is not None
        node_ref = {
            "id": id32(node.identity.node_id),
            "onion": node.identity.onion,
            "addr": node.listener.address,
        }
        st = node.chord.state

        def joined() -> bool:
            pred, succs = st.predecessor, [p.onion for p in st.successors]
            return succs == [peer.me.onion] and pred is not None and pred.onion == peer.me.onion

        await eventually(joined, "the node took us as successor and predecessor", RING_DEADLINE)
        # It dialled our host:port without knowing who listens, and notified us.
        assert peer.dialled_as[0] == ""
        assert peer.predecessor == node_ref and peer.successors == [node_ref]
        session = peer.sessions[0]
        assert session.peer_onion == node.identity.onion
        assert session.peer_account == node.account.key.public
        assert session.peer_addr == node.listener.address
        await eventually(lambda: set(peer.calls()) >= JOIN_CALLS, "every join call", RING_DEADLINE)
        # Either side of a session may send requests: we ask the node over its own session.
        reply = await session.call("get_predecessor", {})
        assert reply.ok and reply.r == {"pred": peer.ref}
        # Once that session is gone the node dials us again, now naming our onion.
        await session.close()
        await eventually(
            lambda: peer.me.onion in peer.dialled_as, "a redial naming us", RING_DEADLINE
        )
        # (Its predecessor may be forgotten meanwhile: we never notify, as stabilize would.)
        await eventually(
            lambda: [p.onion for p in st.successors] == [peer.me.onion], "still our successor"
        )
    finally:
        await node.stop()
    # Leaving, it sends us (its successor, maybe still its predecessor) its neighbours. (Our
    # state after it is not checked: the node's stabilize may still notify us once more.)
    leaves = [p for s in peer.sessions for m, p in s.received if m == "leave"]
    assert len(leaves) == 1 and leaves[0]["succs"] == [peer.ref], leaves
    assert leaves[0].get("pred") in (None, peer.ref), leaves


async def test_a_node_outside_a_ring_answers_not_member(tmp_path: Path, peer: MiniPeer) -> None:
    """We are in no ring, so the node cannot join through us; meanwhile it serves ``ping``,
    ``get_peers`` and the DHT, and answers ``not_member`` to the other Chord methods (§9)."""
    peer.member = False
    node = await ChatNode.start(options(tmp_path / "outside", "outside", [peer.addr]), PASS)
    try:
        assert node.listener is not None
        s = await peer.dial(node.listener.address, node.identity.onion)
        await eventually(lambda: "find_successor" in peer.calls(), "a join attempt through us")
        assert not node.chord.member
        reply = await s.call("ping", {})
        assert reply.ok and reply.r == {"id": id32(node.identity.node_id), "member": False}
        reply = await s.call("get_peers", {})
        assert reply.ok and set(reply.r) == {"peers"}
        reply = await s.call("dht_fetch", {"key": b"nothing here"})
        assert reply.ok and reply.r == {"rec": None}
        for method, params in (
            ("find_successor", {"key": id32(peer.me.id)}),
            ("get_predecessor", {}),
            ("get_successor_list", {}),
            ("notify", {"peer": peer.ref}),
            ("leave", {}),
        ):
            reply = await s.call(method, params)
            assert not reply.ok and reply.e == "not_member", (method, reply)
    finally:
        await node.stop()
