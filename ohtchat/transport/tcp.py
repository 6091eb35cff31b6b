"""Plain TCP transport: loopback tests, and the clearly non-anonymous ``--transport tcp`` mode.

WARNING: over TCP, peers see each other's IP addresses. The handshake still authenticates onion
keys and encrypts traffic, but nothing is anonymous. Use it for development and LANs only.
"""

from __future__ import annotations

import asyncio
import contextlib

from ohtchat.transport.base import (
    ByteStream,
    ConnectFailed,
    Listener,
    StreamHandler,
    Transport,
)
from ohtchat.transport.streams import SocketStream


def split_host_port(address: str, allow_zero: bool = False) -> tuple[str, int]:
    """``"host:port"`` (or ``"[v6]:port"``) → ``(host, port)``; :class:`ValueError` if malformed.

    Port 0 ("any free port") is only meaningful for listening: ``allow_zero`` permits it.
    """
    host, sep, port_s = address.strip().rpartition(":")
    low = 0 if allow_zero else 1
    if not sep or not host or not port_s.isdigit() or not low <= int(port_s) < 65536:
        raise ValueError(f"expected HOST:PORT, got {address[:100]!r}")
    return host.strip("[]"), int(port_s)


#: The TCP stream type (the shared socket stream); kept under this name for readers of tcp.py.
StreamPair = SocketStream


class _ServerListener(Listener):
    def __init__(self, server: asyncio.Server, address: str) -> None:
        self._server = server
        self.address = address

    async def close(self) -> None:
        self._server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._server.wait_closed(), 1.0)


def handler_callback(handler: StreamHandler, describe: str):  # type: ignore[no-untyped-def]
    """An asyncio ``start_server`` callback that wraps the streams and runs ``handler``."""

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        stream = StreamPair(reader, writer, f"{describe}:{peer}")
        try:
            await handler(stream)
        except asyncio.CancelledError:
            pass  # server shutting down; asyncio would log a cancelled callback task as an error
        finally:
            await stream.close()

    return on_connect


class TcpTransport(Transport):
    """TCP streams. Listen addresses are ``host:port`` (port 0 picks a free one)."""

    name = "tcp"

    async def connect(self, address: str, timeout: float = 30.0) -> ByteStream:
        """Connect to ``host:port``."""
        try:
            host, port = split_host_port(address)
        except ValueError as exc:
            raise ConnectFailed(str(exc)) from exc
        try:
            async with asyncio.timeout(timeout):  # wait_for could leak a socket on a cancel
                reader, writer = await asyncio.open_connection(host, port)
        except TimeoutError as exc:
            raise ConnectFailed(f"connect to {address} timed out after {timeout:g} s") from exc
        except OSError as exc:
            raise ConnectFailed(f"connect to {address} failed: {exc.strerror or exc}") from exc
        return StreamPair(reader, writer, address)

    async def listen(self, handler: StreamHandler, address: str | None = None) -> Listener:
        """Listen on ``address`` (default ``127.0.0.1:0``)."""
        host, port = split_host_port(address or "127.0.0.1:0", allow_zero=True)
        server = await asyncio.start_server(handler_callback(handler, "tcp"), host, port)
        sock = server.sockets[0].getsockname()
        return _ServerListener(server, f"{sock[0]}:{sock[1]}")
