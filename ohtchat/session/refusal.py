"""Handshake refusals: the plaintext ``refuse`` message a side sends before it closes.

No key is agreed during the handshake, so a refusal is a plaintext handshake frame carrying
the envelope ``{"v": VERSION, "t": "refuse", "b": {"code": str ≤ 64, "detail": str ≤ 1024}}``.
Whichever side refuses sends it (best effort, bounded in time) in place of its next handshake
message and closes the connection; the other side raises
:class:`~ohtchat.wire.errors.HandshakeRefused` with that code and detail.

A refusal is never answered with a refusal, and none is sent when the connection already
ended. The initiator's refusal of ``hs4`` reaches a responder that already considers the
session open: it arrives as the first frame after ``hs4``, in place of encrypted frame 0, and
is told apart by its first byte (an encrypted frame 0 starts with eight zero bytes; a msgpack
envelope map never starts with a zero byte) — see :func:`refusal_in_first_frame`.
"""

from __future__ import annotations

import asyncio
import contextlib

from ohtchat.session.framing import read_frame, write_frame
from ohtchat.transport.base import ByteStream, StreamClosed
from ohtchat.wire import envelope
from ohtchat.wire.errors import (
    FrameTooLarge,
    HandshakeAborted,
    HandshakeRefused,
    HandshakeTimeout,
    MalformedMessage,
    ProtocolError,
    TruncatedFrame,
    UnsupportedVersion,
    WrongIdentity,
)

#: The envelope type of a refusal.
REFUSE = "refuse"
CODE_MAX = 64
DETAIL_MAX = 1024
#: Longest a refusing side spends writing its refusal before it closes anyway, seconds.
SEND_TIMEOUT = 5.0

#: Refusal codes (docs/protocol.md, Refusals).
MALFORMED = "malformed"
UNSUPPORTED_VERSION = "unsupported_version"
FRAME_TOO_LARGE = "frame_too_large"
WRONG_IDENTITY = "wrong_identity"
TIMEOUT = "timeout"
HANDSHAKE_FAILED = "handshake_failed"
BUSY = "busy"
SHUTTING_DOWN = "shutting_down"
CODES = (
    MALFORMED,
    UNSUPPORTED_VERSION,
    FRAME_TOO_LARGE,
    WRONG_IDENTITY,
    TIMEOUT,
    HANDSHAKE_FAILED,
    BUSY,
    SHUTTING_DOWN,
)


def code_for(exc: BaseException) -> str | None:
    """The refusal code for a handshake that failed with ``exc``; ``None`` when no refusal is
    sent (the peer refused, or the connection already ended)."""
    if isinstance(exc, HandshakeRefused | HandshakeAborted | TruncatedFrame | StreamClosed):
        return None
    if isinstance(exc, HandshakeTimeout | TimeoutError):
        return TIMEOUT
    if isinstance(exc, WrongIdentity):
        return WRONG_IDENTITY
    if isinstance(exc, UnsupportedVersion):
        return UNSUPPORTED_VERSION
    if isinstance(exc, FrameTooLarge):
        return FRAME_TOO_LARGE
    if isinstance(exc, MalformedMessage):
        return MALFORMED
    return HANDSHAKE_FAILED


def encode_refusal(code: str, detail: str) -> bytes:
    """The ``refuse`` envelope (code and detail cut to their limits)."""
    return envelope.encode(REFUSE, {"code": code[:CODE_MAX], "detail": detail[:DETAIL_MAX]})


def raise_if_refusal(payload: bytes) -> None:
    """Raise :class:`HandshakeRefused` if a handshake frame is a ``refuse`` message.

    Any other frame is left to the handshake state machine (which checks its type itself).
    A ``refuse`` message whose body is malformed raises :class:`MalformedMessage`.
    """
    kind, fields = envelope.decode(payload)
    if kind != REFUSE:
        return
    raise HandshakeRefused(fields.str_("code", CODE_MAX, 1), fields.str_("detail", DETAIL_MAX))


def refusal_in_first_frame(payload: bytes) -> None:
    """On a responder's first frame after ``hs4``: raise :class:`HandshakeRefused` if it is the
    initiator's plaintext refusal of ``hs4`` (an encrypted frame 0 starts with a zero byte).

    Anything else, undecodable bytes included, is left to the channel cipher to judge.
    """
    if payload[:1] in (b"", b"\x00"):
        return
    try:
        kind, _ = envelope.decode(payload)
    except ProtocolError:
        return
    if kind == REFUSE:
        raise_if_refusal(payload)


async def send_refusal(stream: ByteStream, code: str, detail: str, max_size: int) -> None:
    """Write a refusal frame; never raises (the connection is closed next anyway)."""
    with contextlib.suppress(Exception):
        frame = encode_refusal(code, detail)
        await asyncio.wait_for(write_frame(stream, frame, max_size), SEND_TIMEOUT)


async def refuse_stream(stream: ByteStream, code: str, detail: str, max_size: int) -> None:
    """Refuse a connection before the handshake (busy, shutting down) and close it.

    The peer's ``hs1`` is read first (bounded in time): closing a TCP socket with unread
    data resets the connection, which could destroy the refusal before the peer reads it.
    """
    with contextlib.suppress(Exception):
        await asyncio.wait_for(read_frame(stream, max_size), SEND_TIMEOUT)
    await send_refusal(stream, code, detail, max_size)
    await stream.close()
