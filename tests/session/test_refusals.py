"""Handshake refusals over real TCP: the refusing side says why (``refuse``), then closes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import pytest

from ohtchat.crypto.keys import AccountKey, NodeKey
from ohtchat.session.framing import read_frame, write_frame
from ohtchat.session.handshake import Initiator
from ohtchat.session.identity import NodeIdentity
from ohtchat.session.pool import SessionPool
from ohtchat.session.refusal import encode_refusal
from ohtchat.session.session import HANDSHAKE_MAX_FRAME, accept, initiate
from ohtchat.transport.base import ByteStream, Listener
from ohtchat.transport.tcp import TcpTransport
from ohtchat.wire import envelope
from ohtchat.wire.errors import HandshakeFailed, HandshakeRefused, MalformedMessage
from tests.conftest import make_identity

StreamHandler = Callable[[ByteStream], Awaitable[None]]


async def _listen(handler: StreamHandler) -> Listener:
    return await TcpTransport().listen(handler, "127.0.0.1:0")


def _responder(me: NodeIdentity, out: asyncio.Future[object], timeout: float = 10) -> StreamHandler:
    """A stream handler running the responder; ``out`` gets its session or its error."""

    async def on_stream(stream: ByteStream) -> None:
        try:
            out.set_result(await accept(stream, me, timeout=timeout))
        except Exception as exc:
            out.set_result(exc)

    return on_stream


async def _refusal(stream: ByteStream) -> dict[str, object]:
    """The next frame, which must be a refusal, then the end of the stream."""
    frame = await asyncio.wait_for(read_frame(stream, HANDSHAKE_MAX_FRAME), 30)
    assert frame is not None
    kind, body = envelope.decode(frame)
    assert kind == "refuse"
    assert await asyncio.wait_for(stream.read(1), 30) == b""  # then it closed
    return body.data


async def test_responder_refusing_hs1_tells_the_initiator_why(alice, bob) -> None:
    out: asyncio.Future[object] = asyncio.get_running_loop().create_future()
    listener = await _listen(_responder(bob, out))
    try:
        stream = await TcpTransport().connect(listener.address)
        carol = make_identity()
        with pytest.raises(HandshakeRefused) as info:
            await initiate(stream, alice, carol.onion, timeout=10)  # Bob is not Carol
        assert info.value.code == "handshake_failed"
        assert "not this node" in info.value.detail
        assert isinstance(await asyncio.wait_for(out, 30), HandshakeFailed)
    finally:
        await listener.close()


async def test_initiator_refusing_hs2_tells_the_responder_why(alice, bob) -> None:
    out: asyncio.Future[object] = asyncio.get_running_loop().create_future()
    listener = await _listen(_responder(bob, out))
    try:
        stream = await TcpTransport().connect(listener.address)
        hs = Initiator(alice, None, time.time)
        await write_frame(stream, hs.start(), HANDSHAKE_MAX_FRAME)
        hs2 = await read_frame(stream, HANDSHAKE_MAX_FRAME)
        assert hs2 is not None
        # The initiator refuses hs2 (here by hand): Bob learns the code and the detail.
        await write_frame(stream, encode_refusal("wrong_identity", "dialled carol"))
        err = await asyncio.wait_for(out, 30)
        assert isinstance(err, HandshakeRefused)
        assert (err.code, err.detail) == ("wrong_identity", "dialled carol")
        assert await asyncio.wait_for(stream.read(1), 30) == b""  # no refusal of a refusal
    finally:
        await listener.close()


async def test_initiator_session_layer_sends_wrong_identity_on_hs2(alice, bob) -> None:
    out: asyncio.Future[object] = asyncio.get_running_loop().create_future()

    async def relay_rewriting_hs1(stream: ByteStream) -> None:
        # A relay that makes hs1 say "anyone", so Bob answers as himself.
        hs1 = await read_frame(stream, HANDSHAKE_MAX_FRAME)
        assert hs1 is not None
        _, f = envelope.decode(hs1)
        inner = await TcpTransport().connect(bob_listener.address)
        await write_frame(inner, envelope.encode("hs1", {**f.data, "onion": ""}))
        hs2 = await read_frame(inner, HANDSHAKE_MAX_FRAME)
        assert hs2 is not None
        await write_frame(stream, hs2)
        reply = await read_frame(stream, HANDSHAKE_MAX_FRAME)
        assert reply is not None
        await write_frame(inner, reply)
        await stream.close()

    bob_listener = await _listen(_responder(bob, out))
    relay = await _listen(relay_rewriting_hs1)
    try:
        stream = await TcpTransport().connect(relay.address)
        with pytest.raises(HandshakeFailed, match="answered"):
            await initiate(stream, alice, make_identity().onion, timeout=10)
        err = await asyncio.wait_for(out, 30)
        assert isinstance(err, HandshakeRefused) and err.code == "wrong_identity"
    finally:
        await relay.close()
        await bob_listener.close()


async def test_a_version_1_hello_is_refused_as_unsupported_version(bob) -> None:
    out: asyncio.Future[object] = asyncio.get_running_loop().create_future()
    listener = await _listen(_responder(bob, out))
    try:
        stream = await TcpTransport().connect(listener.address)
        v1 = envelope.pack({"v": 1, "t": "hs1", "b": {"onion": "", "cookie": b"c" * 32}})
        await write_frame(stream, v1)
        body = await _refusal(stream)
        assert body["code"] == "unsupported_version"
        assert "protocol version 1" in str(body["detail"])
    finally:
        await listener.close()


async def test_garbage_hs1_is_refused_as_malformed(bob) -> None:
    out: asyncio.Future[object] = asyncio.get_running_loop().create_future()
    listener = await _listen(_responder(bob, out))
    try:
        stream = await TcpTransport().connect(listener.address)
        await write_frame(stream, envelope.encode("hs1", {"onion": ""}))  # no cookie, no kem
        body = await _refusal(stream)
        assert body["code"] == "malformed" and "'cookie'" in str(body["detail"])
    finally:
        await listener.close()


async def test_a_silent_initiator_is_refused_with_timeout(alice, bob) -> None:
    out: asyncio.Future[object] = asyncio.get_running_loop().create_future()
    listener = await _listen(_responder(bob, out, timeout=0.5))
    try:
        stream = await TcpTransport().connect(listener.address)
        await write_frame(stream, Initiator(alice, bob.onion, time.time).start())
        assert await asyncio.wait_for(read_frame(stream, HANDSHAKE_MAX_FRAME), 30)  # hs2
        # ... and no hs3: Bob gives up, says so and closes.
        body = await _refusal(stream)
        assert body["code"] == "timeout"
    finally:
        await listener.close()


async def test_initiator_refusing_hs4_reaches_the_responder_on_its_first_read(alice) -> None:
    # Bob's certificate expired (from Alice's clock): Alice refuses hs4, after which Bob
    # already holds a session; its first read reports the refusal instead of a frame error.
    account, node_key = AccountKey(), NodeKey()
    long_ago = int(time.time()) - 10_000
    stale_bob = NodeIdentity(node_key, account.certify(node_key.public, long_ago, lifetime=60))
    out: asyncio.Future[object] = asyncio.get_running_loop().create_future()

    async def on_stream(stream: ByteStream) -> None:
        session = await accept(stream, stale_bob, timeout=10)
        try:
            out.set_result(await session.recv())
        except Exception as exc:
            out.set_result(exc)

    listener = await _listen(on_stream)
    try:
        stream = await TcpTransport().connect(listener.address)
        with pytest.raises(HandshakeFailed, match="certificate"):
            await initiate(stream, alice, stale_bob.onion, timeout=10)
        err = await asyncio.wait_for(out, 30)
        assert isinstance(err, HandshakeRefused), err
        assert err.code == "handshake_failed" and "certificate" in err.detail
    finally:
        await listener.close()


async def test_a_full_pool_refuses_with_busy(alice, bob) -> None:
    async def handle(peer: object, method: str, params: object) -> dict[str, object]:
        return {}

    pool = SessionPool(TcpTransport(), bob, handle, max_sessions=0)
    await pool.listen("127.0.0.1:0")
    try:
        assert pool.listen_address is not None
        stream = await TcpTransport().connect(pool.listen_address)
        with pytest.raises(HandshakeRefused) as info:
            await initiate(stream, alice, bob.onion, timeout=10)
        assert info.value.code == "busy"
        assert pool.refused["busy"] == 1
    finally:
        await pool.close()


async def test_a_refusal_with_a_malformed_body_is_malformed(alice) -> None:
    async def bad_refuser(stream: ByteStream) -> None:
        await read_frame(stream, HANDSHAKE_MAX_FRAME)
        await write_frame(stream, envelope.encode("refuse", {"detail": "no code"}))
        await stream.close()

    listener = await _listen(bad_refuser)
    try:
        stream = await TcpTransport().connect(listener.address)
        with pytest.raises(MalformedMessage, match="'code'"):
            await initiate(stream, alice, None, timeout=10)
    finally:
        await listener.close()
