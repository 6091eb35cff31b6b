"""The transport interface: connect/listen returning async byte streams.

Every transport (TCP, in-memory, Tor onion) hands the layers above a :class:`ByteStream`.
Addresses are strings whose form each transport defines: ``host:port`` for TCP, a v3
``….onion`` address for Tor, any name for the in-memory network.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable


class TransportError(Exception):
    """Base class of transport failures."""


class ConnectFailed(TransportError):
    """The peer could not be reached (refused, unreachable, timed out)."""


class StreamClosed(TransportError):
    """The stream ended (EOF or reset) before the expected bytes arrived."""


class ByteStream(ABC):
    """A reliable, ordered, bidirectional byte stream to one peer."""

    #: A human-readable description of the remote end (for logs only; never trusted).
    peer: str = "?"

    @abstractmethod
    async def read(self, n: int) -> bytes:
        """Up to ``n`` bytes; ``b""`` at end of stream."""

    async def readexactly(self, n: int) -> bytes:
        """Exactly ``n`` bytes, or :class:`StreamClosed` if the stream ends first."""
        parts: list[bytes] = []
        need = n
        while need > 0:
            chunk = await self.read(need)
            if not chunk:
                raise StreamClosed(f"stream closed after {n - need} of {n} bytes")
            parts.append(chunk)
            need -= len(chunk)
        return b"".join(parts)

    @abstractmethod
    async def write(self, data: bytes) -> None:
        """Send ``data`` (waits for flow control); :class:`StreamClosed` if closed."""

    @abstractmethod
    async def close(self) -> None:
        """Close both directions; idempotent."""

    @property
    @abstractmethod
    def closed(self) -> bool:
        """True once closed locally or by the peer."""


StreamHandler = Callable[[ByteStream], Awaitable[None]]


class Listener(ABC):
    """A listening endpoint; ``address`` is what peers pass to ``connect``."""

    address: str

    @abstractmethod
    async def close(self) -> None:
        """Stop accepting; streams already accepted are not affected."""


class Transport(ABC):
    """Opens streams to addresses and accepts streams on a listener."""

    #: A short name: "tcp", "memory", "onion".
    name: str = "?"

    @abstractmethod
    async def connect(self, address: str, timeout: float = 30.0) -> ByteStream:
        """Open a stream to ``address``; :class:`ConnectFailed` on failure or timeout."""

    @abstractmethod
    async def listen(self, handler: StreamHandler, address: str | None = None) -> Listener:
        """Accept streams, running ``handler(stream)`` as a task for each one.

        ``address`` is transport-specific (``host:port`` for TCP; ``None`` picks a default).
        The handler owns the stream and should close it.
        """
