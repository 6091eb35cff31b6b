"""In-memory transport for simulations: many nodes in one process, with delay and loss.

A :class:`MemoryNetwork` is a registry of listeners by name. Streams are pairs of in-process
pipes. ``delay`` adds latency to each write (on the event loop's clock, so it runs on virtual
time in simulations); ``loss`` drops a *connection attempt* with that probability (a stream is
reliable once open, like TCP). ``partition(name)`` makes a node unreachable and cuts its streams.
"""

from __future__ import annotations

import asyncio
import random
from collections import deque

from ohtchat.transport.base import (
    ByteStream,
    ConnectFailed,
    Listener,
    StreamClosed,
    StreamHandler,
    Transport,
)


class _Pipe:
    """One direction of a memory stream."""

    def __init__(self) -> None:
        self.chunks: deque[bytes] = deque()
        self.eof = False
        self.event = asyncio.Event()

    def push(self, data: bytes) -> None:
        self.chunks.append(data)
        self.event.set()

    def close(self) -> None:
        self.eof = True
        self.event.set()


class MemoryStream(ByteStream):
    """One end of an in-memory connection."""

    def __init__(self, inbox: _Pipe, outbox: _Pipe, delay: float, peer: str) -> None:
        self._in = inbox
        self._out = outbox
        self._delay = delay
        self._closed = False
        self.peer = peer
        # Writes in flight, in order: timers due at the same instant may fire in any order,
        # so each timer delivers whatever is due from the head of this queue (a stream keeps
        # its byte order, like TCP).
        self._in_flight: deque[tuple[float, bytes]] = deque()

    async def read(self, n: int) -> bytes:
        """Up to ``n`` bytes; ``b""`` at end of stream."""
        while not self._in.chunks:
            if self._in.eof or self._closed:
                return b""
            self._in.event.clear()
            await self._in.event.wait()
        chunk = self._in.chunks.popleft()
        if len(chunk) > n:
            self._in.chunks.appendleft(chunk[n:])
            chunk = chunk[:n]
        return chunk

    async def write(self, data: bytes) -> None:
        """Deliver ``data`` to the peer after the network delay."""
        if self._closed or self._out.eof:
            raise StreamClosed("write on a closed memory stream")
        if self._delay > 0:
            loop = asyncio.get_running_loop()
            due = loop.time() + self._delay
            self._in_flight.append((due, bytes(data)))
            loop.call_at(due, self._deliver_due)
        else:
            self._out.push(bytes(data))

    def _deliver_due(self) -> None:
        now = asyncio.get_running_loop().time()
        while self._in_flight and self._in_flight[0][0] <= now:
            _due, data = self._in_flight.popleft()
            if not self._out.eof:
                self._out.push(data)

    async def close(self) -> None:
        """Close both directions."""
        self._closed = True
        self._out.close()
        self._in.close()

    @property
    def closed(self) -> bool:
        """True once either side closed."""
        return self._closed or self._in.eof


class _MemoryListener(Listener):
    def __init__(self, net: MemoryNetwork, address: str) -> None:
        self._net = net
        self.address = address

    async def close(self) -> None:
        self._net._listeners.pop(self.address, None)


class MemoryNetwork:
    """A simulated network: named listeners, latency, connection loss and partitions."""

    def __init__(self, delay: float = 0.0, loss: float = 0.0, seed: int | None = None) -> None:
        self.delay = delay
        self.loss = loss
        self.rng = random.Random(seed)
        self._listeners: dict[str, StreamHandler] = {}
        self._streams: dict[str, list[MemoryStream]] = {}
        self._down: set[str] = set()
        self._count = 0

    def transport(self, name: str | None = None) -> MemoryTransport:
        """A transport bound to this network (``name`` identifies the caller in logs)."""
        return MemoryTransport(self, name)

    def partition(self, address: str) -> None:
        """Make ``address`` unreachable and cut every stream it has."""
        self._down.add(address)
        for s in self._streams.pop(address, []):
            s._out.close()
            s._in.close()

    def heal(self, address: str) -> None:
        """Make ``address`` reachable again."""
        self._down.discard(address)

    def _next_name(self) -> str:
        self._count += 1
        return f"mem-{self._count}"


class MemoryTransport(Transport):
    """The :class:`Transport` view of a :class:`MemoryNetwork`."""

    name = "memory"

    def __init__(self, net: MemoryNetwork, local: str | None = None) -> None:
        self.net = net
        self.local = local

    async def connect(self, address: str, timeout: float = 30.0) -> ByteStream:
        """Open a stream to the listener named ``address``."""
        net = self.net
        handler = net._listeners.get(address)
        if (
            handler is None
            or address in net._down
            or (self.local is not None and self.local in net._down)
        ):
            raise ConnectFailed(f"no route to {address}")
        if net.loss and net.rng.random() < net.loss:
            raise ConnectFailed(f"connection to {address} lost")
        a_to_b, b_to_a = _Pipe(), _Pipe()
        client = MemoryStream(b_to_a, a_to_b, net.delay, address)
        server = MemoryStream(a_to_b, b_to_a, net.delay, self.local or "?")
        net._streams.setdefault(address, []).append(server)
        if self.local is not None:
            net._streams.setdefault(self.local, []).append(client)
        asyncio.get_running_loop().create_task(self._serve(handler, server))
        return client

    @staticmethod
    async def _serve(handler: StreamHandler, stream: MemoryStream) -> None:
        try:
            await handler(stream)
        finally:
            await stream.close()

    async def listen(self, handler: StreamHandler, address: str | None = None) -> Listener:
        """Register ``handler`` under ``address`` (or a fresh name)."""
        name = address or self.local or self.net._next_name()
        if name in self.net._listeners:
            raise ValueError(f"memory address {name!r} is already listening")
        self.net._listeners[name] = handler
        if self.local is None:
            self.local = name
        return _MemoryListener(self.net, name)
