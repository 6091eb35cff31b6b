"""Conformance, initiator role: our spec-only client dials a real node and calls every method
it serves over sessions, checking each result's shape against the spec and its effect on the
node. The node is started (and its state read) with ohtchat; the client uses none of it.
"""

from __future__ import annotations

import ast
import asyncio
import os
import struct
import time
from pathlib import Path
from typing import Any

from ohtchat.app.node import ChatNode
from tests.conformance.minicrypto import Identity, KemPair, onion_id, sha3
from tests.conformance.minilayers import (
    REFUSALS,
    chat_item,
    check_record,
    delete_marker,
    id32,
    mailbox_id,
    mailbox_item,
    peer_id,
    presence_kem,
    record,
    ringcast,
    sealed_item,
)
from tests.conformance.minipeer import MiniPeer
from tests.conformance.miniratchet import ratchet_item
from tests.conformance.miniwire import Reply, Session, envelope, frame, open_envelope, read_frame
from tests.waiting import DEADLINE, eventually


def ok(reply: Reply, *fields: str) -> dict[str, Any]:
    """The result of a successful reply that has exactly ``fields``."""
    assert reply.ok, f"{reply.e}: {reply.d}"
    assert set(reply.r) == set(fields), reply.r
    return reply.r


def refused(reply: Reply, code: str, field: str = "") -> None:
    """An error reply with ``code`` whose detail names ``field`` as ``'PATH'`` (§7)."""
    assert not reply.ok and reply.e == code, reply
    assert f"'{field}'" in reply.d or not field, f"{code}: {reply.d!r} does not name {field!r}"


async def dial(peer: MiniPeer, node: ChatNode, name_it: bool = True) -> Session:
    """A session from our peer to the node, naming its onion in hs1 (or not)."""
    assert node.listener is not None
    return await peer.dial(node.listener.address, node.identity.onion if name_it else "")


def history(node: ChatNode, conversation: str) -> list[tuple[str, str]]:
    """``(sender, text)`` of a conversation as the node stored it."""
    return [(m.sender, m.text) for m in node.store.history(conversation)]


async def hs1_answer(node: ChatNode, onion: str) -> str:
    """Send hs1 naming ``onion``; the code of the ``refuse`` the node answers (§8.1)."""
    assert node.listener is not None
    host, port = node.listener.address.rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    body = {"onion": onion, "cookie": os.urandom(32), "kem": KemPair.generate().public}
    writer.write(frame(envelope("hs1", body)))
    try:
        kind, b = open_envelope(await asyncio.wait_for(read_frame(reader, 8192), DEADLINE))
        assert await reader.read() == b"", "the refusing side closes"
    finally:
        writer.close()
    assert kind == "refuse" and set(b) == {"code", "detail"}, (kind, b)
    assert isinstance(b["code"], str) and 1 <= len(b["code"]) <= 64, b
    assert isinstance(b["detail"], str) and len(b["detail"]) <= 1024, b
    return b["code"]


async def test_handshake_naming_the_node_or_nobody(node: ChatNode, peer: MiniPeer) -> None:
    named, anyone = await dial(peer, node), await dial(peer, node, name_it=False)
    for s in (named, anyone):
        assert s.peer_onion == node.identity.onion
        assert s.peer_account == node.account.key.public
        assert ok(await s.call("ping", {}), "id", "member") == {
            "id": id32(onion_id(node.identity.onion)),
            "member": True,
        }
    # The node authenticated us as our onion, and took our _hello address for it.
    await eventually(lambda: node.pool.address_of(peer.me.onion) == peer.addr, "_hello taken")
    # A responder refuses an hs1 naming someone else.
    assert await hs1_answer(node, Identity.fresh().onion) == "handshake_failed"


async def test_chord_methods(node: ChatNode, peer: MiniPeer) -> None:
    s = await dial(peer, node)
    assert node.listener is not None
    node_ref = {
        "id": id32(node.identity.node_id),
        "onion": node.identity.onion,
        "addr": node.listener.address,
    }
    # A ring of one: it owns every key, has no predecessor and an empty successor list.
    step = ok(await s.call("find_successor", {"key": os.urandom(32)}), "done", "peers")
    assert step == {"done": True, "peers": [node_ref]}
    assert ok(await s.call("get_predecessor", {}), "pred") == {"pred": None}
    assert ok(await s.call("get_successor_list", {}), "succs") == {"succs": []}
    peers = ok(await s.call("get_peers", {"max": 8}), "peers")["peers"]
    assert len(peers) <= 8 and all(peer_id(p) != peer.me.id for p in peers)
    # notify: the node takes us as predecessor, and (alone) as successor by stabilizing.
    peer.successors, peer.predecessor = [node_ref], node_ref
    # Its answer names its predecessor after the notify: us (§9).
    assert ok(await s.call("notify", {"peer": peer.ref}), "pred") == {"pred": peer.ref}
    st = node.chord.state
    assert st.predecessor is not None and st.predecessor.onion == peer.me.onion
    await eventually(lambda: [p.onion for p in st.successors] == [peer.me.onion], "successor")
    assert ok(await s.call("get_predecessor", {}), "pred") == {"pred": peer.ref}
    assert ok(await s.call("get_successor_list", {}), "succs") == {"succs": [peer.ref]}
    step = ok(await s.call("find_successor", {"key": id32(peer.me.id)}), "done", "peers")
    assert step == {"done": True, "peers": [peer.ref]}
    assert "get_successor_list" in peer.calls(), "the node never stabilized with us"
    # Bad params, an unknown method.
    refused(await s.call("find_successor", {"key": b"short"}), "bad_request", "key")
    refused(await s.call("notify", {"peer": node_ref}), "bad_request", "peer")
    no_such = await s.call("no_such_method", {})
    assert (no_such.e, no_such.d) == ("unknown_method", "no_such_method"), no_such

    async def left() -> bool:
        """Leave right after the node's stabilize round (its notify), so none is in flight;
        the node must have dropped us by the time it answers."""
        peer.notified.clear()
        await asyncio.wait_for(peer.notified.wait(), DEADLINE)
        reply = await s.call("leave", {"succs": [node_ref], "pred": node_ref})
        assert ok(reply) == {}
        return st.predecessor is None and st.successors == []

    await eventually(left, "the node dropped us on leave")
    peer.successors, peer.predecessor = [], None


async def test_dht_methods(node: ChatNode, peer: MiniPeer) -> None:
    s = await dial(peer, node)
    key, now = b"conformance:" + os.urandom(8).hex().encode(), int(time.time())
    seq = now * 1000
    rec = record(peer.me, key, b"a value", seq, now + 3600)
    # A record we signed is held, fetchable byte for byte, and the node reads it too.
    assert ok(await s.call("dht_store", {"recs": [rec]}), "res") == {"res": [None]}
    assert check_record(ok(await s.call("dht_fetch", {"key": key}), "rec")["rec"], key) == rec
    held = await node.dht.get(key)
    assert held is not None and held.value == b"a value" and held.owner == peer.me.account_public
    # Refusals are results, not errors.
    forged = {**record(peer.me, key, b"forged", seq + 1, now + 3600), "v": b"changed"}
    older = record(peer.me, key, b"older", seq - 1, now + 3600)
    other = record(Identity.fresh(), key, b"mine now", seq + 2, now + 3600)
    res = ok(await s.call("dht_store", {"recs": [forged, older, other]}), "res")["res"]
    assert res == ["forged", "stale", "not_owner"] and set(res) <= REFUSALS
    assert ok(await s.call("dht_fetch", {"key": b"absent"}), "rec") == {"rec": None}
    digests = [[key, seq], [key, seq + 1], [b"absent", 1]]
    have = ok(await s.call("dht_have", {"recs": digests}), "recs", "items", "dels")
    assert have == {"recs": [1, 2], "items": [], "dels": []}
    # Our own mailbox: append an (opaque) item, fetch it, delete it with a signed marker.
    box = os.urandom(200)
    item, mbox, iid = (
        mailbox_item(peer.me.account_id, box),
        mailbox_id(peer.me.account_id),
        sha3(box),
    )
    assert ok(await s.call("dht_mbox_put", {"items": [item]}), "res") == {"res": [None]}
    page = ok(await s.call("dht_mbox_fetch", {"mbox": mbox, "after": None}), "items", "more")
    assert page == {"items": [item], "more": False}
    page = ok(await s.call("dht_mbox_fetch", {"mbox": mbox, "after": iid}), "items", "more")
    assert page == {"items": [], "more": False}
    have = ok(
        await s.call("dht_have", {"items": [[mbox, iid]], "dels": [[mbox, iid]]}),
        "recs",
        "items",
        "dels",
    )
    assert have == {"recs": [], "items": [], "dels": [0]}
    stranger = delete_marker(Identity.fresh(), box)
    mark = delete_marker(peer.me, box)
    res = ok(await s.call("dht_mbox_delete", {"dels": [{**stranger, "m": mbox}, mark]}), "res")
    assert res == {"res": ["forged", None]}
    page = ok(await s.call("dht_mbox_fetch", {"mbox": mbox, "after": None}), "items", "more")
    assert page == {"items": [], "more": False}
    have = ok(
        await s.call("dht_have", {"items": [[mbox, iid]], "dels": [[mbox, iid]]}),
        "recs",
        "items",
        "dels",
    )
    assert have == {"recs": [], "items": [], "dels": []}
    assert ok(await s.call("dht_mbox_put", {"items": [item]}), "res") == {"res": ["stale"]}
    # Bad params.
    refused(await s.call("dht_fetch", {"key": 7}), "bad_request", "key")
    bad_recs = {"recs": [rec, {**rec, "s": -1}]}
    refused(await s.call("dht_store", bad_recs), "bad_request", "recs[1].s")


async def test_ringcast_and_chat(node: ChatNode, peer: MiniPeer) -> None:
    s = await dial(peer, node)
    me = peer.me.account_id
    # A broadcast we originate and sign; the node is our only child (its arc ends at us).
    msg = ringcast(peer.me, {"text": "hello ring", "name": "mini"}, limit=peer.me.id)
    assert ok(await s.call("ringcast_deliver", msg), "ok", "dup") == {"ok": True, "dup": False}
    assert ok(await s.call("ringcast_deliver", msg), "ok", "dup") == {"ok": True, "dup": True}
    await eventually(lambda: (me, "hello ring") in history(node, "ringcast"), "ringcast stored")
    # A whisper over the session, inside the ratchet (§12.4): the reply is the receipt, the node
    # stores it once; a plain whisper is refused.
    target = node.account.account_id
    account_pub, kem_pub = await presence_keys(s, target)
    plain = chat_item(target, "hello node", "mini")
    item = ratchet_item(peer.me, account_pub, kem_pub, plain)
    assert ok(await s.call("chat_deliver", item), "receipt") == {"receipt": True}
    assert ok(await s.call("chat_deliver", item), "receipt") == {"receipt": True}
    await eventually(lambda: history(node, me) == [(me, "hello node")], "whisper stored")
    refused(await s.call("chat_deliver", plain), "bad_request")
    elsewhere = chat_item(Identity.fresh().account_id, "not for you", "mini")
    refused(await s.call("chat_deliver", elsewhere), "not_here")
    # Bad params.
    refused(await s.call("ringcast_deliver", {**msg, "hops": 0}), "bad_request", "hops")
    refused(await s.call("chat_deliver", {**item, "text": 5}), "bad_request", "text")


async def presence_keys(s: Session, target: str) -> tuple[bytes, bytes]:
    """The account key and signed KEM prekey of ``target``'s checked presence record."""
    key = b"presence:" + target.encode()

    async def presence() -> Any:
        return ok(await s.call("dht_fetch", {"key": key}), "rec")["rec"]

    rec = check_record(await eventually(presence, "presence"), key)
    return bytes(rec["o"]), presence_kem(target, rec)


async def test_signed_mailbox_item_is_picked_up(node: ChatNode, peer: MiniPeer) -> None:
    s = await dial(peer, node)
    target = node.account.account_id
    account_pub, kem_pub = await presence_keys(s, target)
    item = ratchet_item(
        peer.me, account_pub, kem_pub, chat_item(target, "left in your mailbox", "mini")
    )
    box = sealed_item(peer.me, kem_pub, item)
    put = ok(await s.call("dht_mbox_put", {"items": [mailbox_item(target, box)]}), "res")
    assert put == {"res": [None]}
    me = peer.me.account_id
    await eventually(
        lambda: history(node, me) == [(me, "left in your mailbox")], "mailbox item stored"
    )
    # The node then deletes the box with a signed marker it keeps.
    mbox, iid = mailbox_id(target), sha3(box)

    async def deleted() -> bool:
        have = ok(
            await s.call("dht_have", {"items": [[mbox, iid]], "dels": [[mbox, iid]]}),
            "recs",
            "items",
            "dels",
        )
        return have == {"recs": [], "items": [], "dels": []}

    await eventually(deleted, "the node deleted the box")


def bad_frame(s: Session, bad: str) -> bytes:
    """A frame the node must end the session for (§8.2), next on ``s``."""
    ping = envelope("req", {"id": 99, "m": "ping", "p": {}})
    if bad == "too large":
        return struct.pack(">I", 262_145)
    if bad in ("of another type", "with a bad header"):
        kind, body = ("hs1", {}) if bad == "of another type" else ("req", {"m": "ping", "p": {}})
        return frame(s.seal(s.send_ctr, envelope(kind, body)))
    if bad == "replayed":
        return frame(s.seal(0, ping))
    if bad == "out of order":
        return frame(s.seal(s.send_ctr + 1, ping))
    sealed = s.seal(s.send_ctr, ping)
    return frame(sealed[:-1] + bytes([sealed[-1] ^ 1]))


async def test_bad_frames_end_the_session(node: ChatNode, peer: MiniPeer) -> None:
    for bad in (
        "replayed",
        "out of order",
        "tampered",
        "too large",
        "of another type",
        "with a bad header",
    ):
        s = await dial(peer, node)
        ok(await s.call("ping", {}), "id", "member")
        s.writer.write(bad_frame(s, bad))
        await eventually(s.closed.is_set, f"session closed after a {bad} frame")


def test_client_imports_nothing_from_ohtchat() -> None:
    """The client is written from the spec: its modules never import ohtchat."""
    for module in ("minicrypto", "miniwire", "minilayers", "minipeer", "miniratchet"):
        tree = ast.parse((Path(__file__).parent / f"{module}.py").read_text())
        for n in ast.walk(tree):
            names = [a.name for a in n.names] if isinstance(n, ast.Import) else []
            names += [n.module or ""] if isinstance(n, ast.ImportFrom) else []
            assert not [x for x in names if x.split(".")[0] == "ohtchat"], (module, names)
