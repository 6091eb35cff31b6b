"""Length-prefixed frames: ``u32 big-endian length ‖ payload``, with a hard maximum size.

The length is checked *before* any payload byte is read or buffered, so a peer cannot make
us allocate more than ``max_size`` bytes per frame. (Reading frames from a stream is in
:mod:`ohtchat.session.framing`; this module does no I/O.)
"""

from __future__ import annotations

import struct

from ohtchat.wire.errors import FrameTooLarge, TruncatedFrame

HEADER = struct.Struct(">I")
#: The protocol's hard maximum frame payload: 256 KiB. Nothing we send is larger.
MAX_FRAME = 256 * 1024


def encode_frame(payload: bytes, max_size: int = MAX_FRAME) -> bytes:
    """``length ‖ payload``; :class:`FrameTooLarge` if the payload exceeds ``max_size``."""
    if len(payload) > max_size:
        raise FrameTooLarge(f"frame of {len(payload)} bytes exceeds maximum {max_size}")
    return HEADER.pack(len(payload)) + payload


class FrameDecoder:
    """Incremental (sans-IO) frame decoder: feed bytes, get complete payloads."""

    def __init__(self, max_size: int = MAX_FRAME) -> None:
        self.max_size = max_size
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        """Append ``data``; return every payload now complete. Raises on an oversized header."""
        self._buf += data
        out: list[bytes] = []
        while len(self._buf) >= HEADER.size:
            (length,) = HEADER.unpack_from(self._buf)
            if length > self.max_size:
                raise FrameTooLarge(
                    f"peer announced a frame of {length} bytes (maximum {self.max_size})"
                )
            if len(self._buf) < HEADER.size + length:
                break
            out.append(bytes(self._buf[HEADER.size : HEADER.size + length]))
            del self._buf[: HEADER.size + length]
        return out

    def eof(self) -> None:
        """Signal end of stream; :class:`TruncatedFrame` if a partial frame is buffered."""
        if self._buf:
            raise TruncatedFrame(f"stream ended with {len(self._buf)} bytes of an incomplete frame")
