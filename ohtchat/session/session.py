"""An authenticated session over a byte stream: run the handshake, then exchange envelopes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from ohtchat.session.channel import OVERHEAD, ChannelCipher
from ohtchat.session.framing import read_frame, write_frame
from ohtchat.session.handshake import HandshakeResult, Initiator, Responder
from ohtchat.session.identity import NodeIdentity, PeerIdentity
from ohtchat.session.refusal import (
    TIMEOUT,
    code_for,
    raise_if_refusal,
    refusal_in_first_frame,
    send_refusal,
)
from ohtchat.transport.base import ByteStream, StreamClosed
from ohtchat.wire import envelope
from ohtchat.wire.errors import (
    HandshakeAborted,
    HandshakeFailed,
    HandshakeTimeout,
    ProtocolError,
)
from ohtchat.wire.frames import MAX_FRAME

HANDSHAKE_TIMEOUT = 30.0
#: How long an accepting side waits for the first handshake frame (hs1); an honest initiator
#: sends it as soon as it is connected, so this is one trip over the stream plus slack.
FIRST_FRAME_TIMEOUT = 10.0
#: Handshake messages are small (the largest, hs2, is about 2.5 KiB).
HANDSHAKE_MAX_FRAME = 8 * 1024
#: Largest plaintext one encrypted frame may carry.
MAX_PLAINTEXT = MAX_FRAME - OVERHEAD


class Session:
    """A live session: the authenticated peer and an encrypted, ordered message channel.

    ``send`` may be called from several tasks (a lock keeps frames whole and counters in order);
    ``recv`` from one reader task only.
    """

    def __init__(self, stream: ByteStream, result: HandshakeResult, initiator: bool) -> None:
        self.stream = stream
        self.peer: PeerIdentity = result.peer
        self.session_id = result.session_id
        self.initiator = initiator
        self._cipher = ChannelCipher(result.send_key, result.recv_key)
        self._send_lock = asyncio.Lock()
        #: The responder's first frame may be the initiator's plaintext refusal of hs4.
        self._refusable = not initiator

    async def send_raw(self, plaintext: bytes) -> None:
        """Encrypt and send one frame of plaintext."""
        if len(plaintext) > MAX_PLAINTEXT:
            raise ProtocolError(f"message of {len(plaintext)} bytes exceeds {MAX_PLAINTEXT}")
        async with self._send_lock:
            await write_frame(self.stream, self._cipher.seal(plaintext))

    async def recv_raw(self) -> bytes | None:
        """The next decrypted frame, or ``None`` when the peer closed cleanly."""
        payload = await read_frame(self.stream)
        if payload is None:
            return None
        if self._refusable:
            self._refusable = False
            refusal_in_first_frame(payload)
        return self._cipher.open(payload)

    async def send(self, msg_type: str, body: dict[str, Any]) -> None:
        """Send one envelope."""
        await self.send_raw(envelope.encode(msg_type, body))

    async def recv(self) -> tuple[str, envelope.Fields] | None:
        """The next envelope, or ``None`` at a clean end of stream."""
        raw = await self.recv_raw()
        return None if raw is None else envelope.decode(raw)

    async def close(self) -> None:
        """Close the underlying stream."""
        await self.stream.close()

    @property
    def closed(self) -> bool:
        """True once the stream is closed."""
        return self.stream.closed


async def _exchange(stream: ByteStream, payload: bytes | None) -> bytes:
    if payload is not None:
        await write_frame(stream, payload, HANDSHAKE_MAX_FRAME)
    try:
        reply = await read_frame(stream, HANDSHAKE_MAX_FRAME)
    except StreamClosed as exc:
        raise HandshakeAborted("peer closed the connection during the handshake") from exc
    if reply is None:
        raise HandshakeAborted("peer closed the connection during the handshake")
    raise_if_refusal(reply)
    return reply


async def _initiate(
    stream: ByteStream, me: NodeIdentity, peer_onion: str | None, now: Callable[[], float]
) -> Session:
    hs = Initiator(me, peer_onion, now)
    hs3 = hs.receive(await _exchange(stream, hs.start()))
    hs.receive(await _exchange(stream, hs3))
    assert hs.result is not None
    return Session(stream, hs.result, initiator=True)


async def _accept(
    stream: ByteStream,
    me: NodeIdentity,
    now: Callable[[], float],
    first_frame_timeout: float | None,
    on_first_frame: Callable[[], None] | None,
) -> Session:
    try:
        async with asyncio.timeout(first_frame_timeout):
            hs1 = await _exchange(stream, None)
    except TimeoutError as exc:
        raise HandshakeTimeout(f"no handshake frame within {first_frame_timeout:g} s") from exc
    if on_first_frame is not None:
        on_first_frame()
    # The key pair is made only once the peer sent something: a connection that stays silent
    # costs no KEM key generation.
    hs = Responder(me, now)
    hs2 = hs.receive(hs1)
    hs4 = hs.receive(await _exchange(stream, hs2))
    assert hs4 is not None and hs.result is not None
    await write_frame(stream, hs4, HANDSHAKE_MAX_FRAME)
    return Session(stream, hs.result, initiator=False)


async def initiate(
    stream: ByteStream,
    me: NodeIdentity,
    peer_onion: str | None,
    timeout: float = HANDSHAKE_TIMEOUT,
    now: Callable[[], float] = time.time,
) -> Session:
    """Run the initiator side on ``stream``; the stream is closed if the handshake fails.

    ``peer_onion=None`` accepts whichever node answers (its proof is still checked against the
    address it names); use it only to discover who listens at a bootstrap ``host:port``.
    """
    return await _guard(stream, _initiate(stream, me, peer_onion, now), timeout)


async def accept(
    stream: ByteStream,
    me: NodeIdentity,
    timeout: float = HANDSHAKE_TIMEOUT,
    now: Callable[[], float] = time.time,
    *,
    first_frame_timeout: float | None = None,
    on_first_frame: Callable[[], None] | None = None,
) -> Session:
    """Run the responder side on ``stream``; the stream is closed if the handshake fails.

    The whole handshake, reads included, must end within ``timeout``; the first frame (hs1)
    must arrive within ``first_frame_timeout`` (``None``: only ``timeout`` applies).
    ``on_first_frame`` is called once hs1 is read, before any work is spent on it.
    """
    coro = _accept(stream, me, now, first_frame_timeout, on_first_frame)
    return await _guard(stream, coro, timeout)


async def _guard(stream: ByteStream, coro: Any, timeout: float) -> Session:
    """Run one side of the handshake; on failure tell the peer why (``refuse``) and close."""
    try:
        async with asyncio.timeout(timeout):  # not wait_for: it can swallow a cancel on 3.11
            return await coro  # type: ignore[no-any-return]
    except TimeoutError as exc:
        detail = f"handshake not completed within {timeout:g} s"
        await _refuse_and_close(stream, TIMEOUT, detail)
        raise HandshakeTimeout(detail) from exc
    except (ProtocolError, StreamClosed) as exc:
        await _refuse_and_close(stream, code_for(exc), str(exc))
        if isinstance(exc, StreamClosed):
            raise HandshakeFailed(f"connection lost during the handshake: {exc}") from exc
        raise
    except BaseException:
        await stream.close()
        raise


async def _refuse_and_close(stream: ByteStream, code: str | None, detail: str) -> None:
    """Send a refusal (when ``code`` is given and the stream is open), then close."""
    if code is not None and not stream.closed:
        await send_refusal(stream, code, detail, HANDSHAKE_MAX_FRAME)
    await stream.close()
