"""A :class:`~ohtchat.transport.base.ByteStream` over an asyncio reader/writer pair: TCP
connections, unix sockets, and streams through tor's SOCKS socket all use it."""

from __future__ import annotations

import asyncio
import contextlib

from ohtchat.transport.base import ByteStream, StreamClosed


class SocketStream(ByteStream):
    """A byte stream over an asyncio ``StreamReader``/``StreamWriter`` pair."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, peer: str
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._closed = False
        self.peer = peer

    async def read(self, n: int) -> bytes:
        """Up to ``n`` bytes; ``b""`` at end of stream (or after a reset)."""
        if self._closed:
            return b""
        try:
            data = await self._reader.read(n)
        except (ConnectionError, OSError):
            data = b""
        if not data:
            self._closed = True
        return data

    async def write(self, data: bytes) -> None:
        """Send ``data`` and wait for flow control; :class:`StreamClosed` if closed or reset."""
        if self._closed or self._writer.is_closing():
            raise StreamClosed("write on a closed stream")
        try:
            self._writer.write(data)
            await self._writer.drain()
        except (ConnectionError, OSError) as exc:
            self._closed = True
            raise StreamClosed(f"stream reset: {exc}") from exc

    async def close(self) -> None:
        """Close both directions; idempotent."""
        if self._closed and self._writer.is_closing():
            return
        self._closed = True
        if not self._writer.is_closing():
            self._writer.close()
        with contextlib.suppress(Exception):
            await self._writer.wait_closed()

    @property
    def closed(self) -> bool:
        """True once closed locally or by the peer."""
        return self._closed or self._writer.is_closing()
