"""Reading and writing frames (:mod:`ohtchat.wire.frames`) on a transport's byte stream."""

from __future__ import annotations

from ohtchat.transport.base import ByteStream, StreamClosed
from ohtchat.wire.errors import FrameTooLarge, TruncatedFrame
from ohtchat.wire.frames import HEADER, MAX_FRAME, encode_frame


async def write_frame(stream: ByteStream, payload: bytes, max_size: int = MAX_FRAME) -> None:
    """Write one frame."""
    await stream.write(encode_frame(payload, max_size))


async def read_frame(stream: ByteStream, max_size: int = MAX_FRAME) -> bytes | None:
    """Read one frame; ``None`` on a clean end of stream between frames.

    Raises :class:`FrameTooLarge` for an oversized header and :class:`TruncatedFrame` if the
    stream ends inside a frame.
    """
    first = await stream.read(HEADER.size)
    if not first:
        return None
    try:
        header = first + (
            await stream.readexactly(HEADER.size - len(first)) if len(first) < 4 else b""
        )
    except StreamClosed as exc:
        raise TruncatedFrame("stream ended inside a frame header") from exc
    (length,) = HEADER.unpack(header)
    if length > max_size:
        raise FrameTooLarge(f"peer announced a frame of {length} bytes (maximum {max_size})")
    try:
        return await stream.readexactly(length)
    except StreamClosed as exc:
        raise TruncatedFrame(f"stream ended inside a frame of {length} bytes") from exc
