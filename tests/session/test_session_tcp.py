"""Sessions over real TCP sockets: two processes, RPC both ways, the pool, bad peers."""

import asyncio
import contextlib
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ohtchat.session.framing import read_frame, write_frame
from ohtchat.session.pool import SessionPool
from ohtchat.session.rpc import PeerUnreachable, RpcError, RpcTimeout
from ohtchat.session.session import accept, initiate
from ohtchat.transport.base import ConnectFailed
from ohtchat.transport.tcp import TcpTransport
from ohtchat.wire import envelope
from ohtchat.wire.errors import HandshakeFailed, HandshakeTimeout, OutOfOrderFrame, WrongIdentity
from tests.conftest import make_identity

ROOT = Path(__file__).resolve().parents[2]


async def test_two_processes_handshake_and_exchange_encrypted_frames(alice):
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(Path(__file__).with_name("echo_peer.py")),
        stdout=subprocess.PIPE, cwd=ROOT, env={"PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    try:
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode().split()
        assert line[0] == "READY"
        address, onion = line[1], line[2]
        stream = await TcpTransport().connect(address)
        session = await initiate(stream, alice, onion)
        assert session.peer.onion == onion
        for text in (b"hello", b"x" * 100_000):
            await session.send_raw(text)
            assert await session.recv_raw() == b"echo:" + text + b" from " + alice.onion.encode()
        await session.close()
    finally:
        proc.kill()
        await proc.wait()


async def test_wrong_expected_address_fails_with_wrong_identity(alice, bob):
    carol = make_identity()
    listener = await TcpTransport().listen(lambda s: _accept_quietly(s, bob), "127.0.0.1:0")
    try:
        stream = await TcpTransport().connect(listener.address)
        # Dial Bob's socket but expect Carol: Bob refuses (not his address).
        with pytest.raises(HandshakeFailed):
            await initiate(stream, alice, carol.onion, timeout=5)
    finally:
        await listener.close()


async def _accept_quietly(stream, me):
    with contextlib.suppress(HandshakeFailed):
        await accept(stream, me, timeout=5)


async def test_silent_peer_times_out(alice):
    async def silent(stream):
        await asyncio.sleep(10)  # the scenario: a peer that never answers the handshake

    listener = await TcpTransport().listen(silent, "127.0.0.1:0")
    try:
        stream = await TcpTransport().connect(listener.address)
        with pytest.raises(HandshakeTimeout):
            await initiate(stream, alice, make_identity().onion, timeout=0.5)
        assert stream.closed
    finally:
        await listener.close()


async def test_oversized_handshake_frame_is_refused(bob):
    got = asyncio.get_running_loop().create_future()

    async def on_stream(stream):
        try:
            await accept(stream, bob, timeout=5)
        except HandshakeFailed as exc:
            got.set_result(exc)
        except Exception as exc:
            got.set_result(exc)

    listener = await TcpTransport().listen(on_stream, "127.0.0.1:0")
    try:
        stream = await TcpTransport().connect(listener.address)
        await stream.write((10**6).to_bytes(4, "big"))  # announce a 1 MB handshake frame
        exc = await asyncio.wait_for(got, 30)
        assert (
            "FrameTooLarge" in type(exc).__name__ or "exceeds" in str(exc) or "maximum" in str(exc)
        )
        # Bob says why (a plaintext refusal), then closes the connection.
        refusal = await asyncio.wait_for(read_frame(stream, 8192), 30)
        assert envelope.decode(refusal)[0] == "refuse"
        assert envelope.decode(refusal)[1].data["code"] == "frame_too_large"
        assert await asyncio.wait_for(stream.read(1), 30) == b""
    finally:
        await listener.close()


async def test_replayed_and_reordered_frames_end_the_session(alice, bob):
    """A man in the middle duplicates a frame: the receiver ends the session with a typed error."""
    results = asyncio.Queue()

    async def on_stream(stream):
        session = await accept(stream, bob)
        try:
            while (frame := await session.recv_raw()) is not None:
                await results.put(frame)
        except Exception as exc:
            await results.put(exc)

    listener = await TcpTransport().listen(on_stream, "127.0.0.1:0")
    try:
        stream = await TcpTransport().connect(listener.address)
        session = await initiate(stream, alice, bob.onion)
        payload0 = session._cipher.seal(b"zero")
        payload1 = session._cipher.seal(b"one")
        await write_frame(stream, payload0)
        assert await asyncio.wait_for(results.get(), 30) == b"zero"
        await write_frame(stream, payload0)  # replay
        err = await asyncio.wait_for(results.get(), 30)
        assert type(err).__name__ == "ReplayedFrame"
        del payload1
    finally:
        await listener.close()


async def test_rpc_both_directions_through_the_pool(alice, bob):
    async def handler_for(name):
        async def handle(peer, method, params):
            if method == "whoami":
                return {"you": peer.onion, "me": name}
            if method == "fail":
                raise RpcError("nope", "asked to fail")
            if method == "slow":
                await asyncio.sleep(5)  # the scenario: slower than the caller's timeout
            return {}

        return handle

    tcp = TcpTransport()
    pa = SessionPool(tcp, alice, await handler_for("alice"))
    pb = SessionPool(tcp, bob, await handler_for("bob"))
    await pb.listen("127.0.0.1:0")
    try:
        r = await pa.request(pb.listen_address, bob.onion, "whoami", {}, timeout=5)
        assert r.data == {"you": alice.onion, "me": "bob"}
        # Bob calls Alice back over the session Alice opened (Alice does not listen at all).
        conn = pb.sessions()[0]
        assert conn.peer.onion == alice.onion
        back = await conn.request("whoami", {}, timeout=5)
        assert back.data == {"you": bob.onion, "me": "alice"}
        # Reuse: a second call does not open a second session.
        await pa.request(pb.listen_address, bob.onion, "whoami", {}, timeout=5)
        assert len(pa.sessions()) == 1 and len(pb.sessions()) == 1
        with pytest.raises(RpcError, match="nope"):
            await pa.request(pb.listen_address, bob.onion, "fail", {}, timeout=5)
        with pytest.raises(RpcTimeout):
            await pa.request(pb.listen_address, bob.onion, "slow", {}, timeout=0.2)
    finally:
        await pa.close()
        await pb.close()


async def test_pool_reports_unreachable_and_wrong_key(alice, bob):
    tcp = TcpTransport()

    async def handle(peer, method, params):
        return {}

    pa = SessionPool(tcp, alice, handle, connect_timeout=2, handshake_timeout=2)
    pb = SessionPool(tcp, bob, handle)
    await pb.listen("127.0.0.1:0")
    try:
        with pytest.raises(PeerUnreachable):
            await pa.request("127.0.0.1:1", bob.onion, "x", {}, timeout=2)
        with pytest.raises(PeerUnreachable, match="handshake"):
            await pa.request(pb.listen_address, make_identity().onion, "x", {}, timeout=2)
        with pytest.raises(ConnectFailed):
            await tcp.connect("not-an-address")
    finally:
        await pa.close()
        await pb.close()


def test_error_types_are_protocol_errors():
    from ohtchat.wire.errors import ProtocolError

    for cls in (WrongIdentity, HandshakeTimeout, OutOfOrderFrame):
        assert issubclass(cls, ProtocolError)
    assert read_frame  # imported API is public


async def test_identify_whoever_listens_and_learn_advertised_address(alice, bob):
    async def handle(peer, method, params):
        return {}

    tcp = TcpTransport()
    pa = SessionPool(tcp, alice, handle, advertise="127.0.0.1:4242")
    pb = SessionPool(tcp, bob, handle)
    await pb.listen("127.0.0.1:0")
    try:
        conn = await pa.identify(pb.listen_address)
        assert conn.peer.onion == bob.onion  # authenticated, though we did not know it
        await conn.request("x", {}, timeout=5)  # hello is processed before this request
        assert pb.address_of(alice.onion) == "127.0.0.1:4242"
        assert pa.address_of(bob.onion) == pb.listen_address
    finally:
        await pa.close()
        await pb.close()


async def test_someone_else_answering_is_wrong_identity(alice, bob):
    """The initiator names no address but expects Carol: Bob's proof names Bob → refused."""
    from ohtchat.session.handshake import Initiator, Responder
    from ohtchat.wire import envelope

    carol = make_identity()
    i = Initiator(alice, carol.onion, time.time)
    hs1 = i.start()
    _, f = envelope.decode(hs1)
    # A malicious relay rewrites hs1 to "anyone", hoping Bob's answer passes for Carol's.
    rewritten = envelope.encode("hs1", {**f.data, "onion": ""})
    with pytest.raises(WrongIdentity, match="answered"):
        i.receive(Responder(bob, time.time).receive(rewritten))
