"""A pool of authenticated RPC sessions, keyed by the peer's onion address.

An onion connection costs a Tor circuit, so sessions to successors and fingers are reused:
``request(address, onion, ...)`` uses a live session to ``onion`` (dialled by us *or* accepted
from it), dialling only when there is none; concurrent callers share one dial. Idle sessions
that carried nothing, in either direction, for ``idle_timeout`` are closed by
:meth:`sweep_idle` (an idle onion session holds Tor circuits), except the ones the node keeps
warm on purpose (its ring neighbours and fingers, a bounded set); those get a one-way
keepalive when they carried nothing for half ``idle_timeout``, so the peer's own sweep, which
does not know we keep them, leaves them open too. The pool holds at most ``max_sessions``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Collection
from typing import Any

from ohtchat.crypto.onion import normalize_onion
from ohtchat.session.identity import NodeIdentity
from ohtchat.session.refusal import BUSY, SHUTTING_DOWN, refuse_stream
from ohtchat.session.rpc import HELLO, Handler, PeerUnreachable, RpcConnection, RpcError
from ohtchat.session.session import HANDSHAKE_MAX_FRAME, HANDSHAKE_TIMEOUT, accept, initiate
from ohtchat.transport.base import ByteStream, Listener, Transport, TransportError
from ohtchat.wire.envelope import Fields
from ohtchat.wire.errors import HandshakeFailed, ProtocolError

log = logging.getLogger(__name__)


class SessionPool:
    """Dials, accepts and reuses sessions for one node."""

    def __init__(
        self,
        transport: Transport,
        me: NodeIdentity,
        handler: Handler,
        *,
        max_sessions: int = 256,
        max_handshakes: int = 16,
        connect_timeout: float = 30.0,
        handshake_timeout: float = HANDSHAKE_TIMEOUT,
        idle_timeout: float = 600.0,
        advertise: str | None = None,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.transport = transport
        self.me = me
        self.handler = handler
        self.max_sessions = max_sessions
        self.connect_timeout = connect_timeout
        self.handshake_timeout = handshake_timeout
        self.idle_timeout = idle_timeout
        self.now = now
        #: Where peers should dial us, told to every peer we dial (``None``: our onion address).
        self.advertise = advertise
        self._conns: dict[str, RpcConnection] = {}
        self._last_used: dict[str, float] = {}
        self._dialing: dict[str, asyncio.Task[RpcConnection]] = {}
        self._handshakes = asyncio.Semaphore(max_handshakes)
        self._listener: Listener | None = None
        self._closed = False
        #: Handshakes refused since start, by reason (for /status and tests).
        self.refused: dict[str, int] = {}

    @property
    def listen_address(self) -> str | None:
        """The transport address we accept on, once listening."""
        return self._listener.address if self._listener else None

    async def listen(self, address: str | None = None) -> Listener:
        """Accept inbound sessions on ``address``."""
        self._listener = await self.transport.listen(self._on_stream, address)
        return self._listener

    async def _on_stream(self, stream: ByteStream) -> None:
        if self._closed or len(self._conns) >= self.max_sessions:
            code = SHUTTING_DOWN if self._closed else BUSY
            self.refused[code] = self.refused.get(code, 0) + 1
            detail = "node is shutting down" if self._closed else "too many sessions"
            await refuse_stream(stream, code, detail, HANDSHAKE_MAX_FRAME)
            return
        async with self._handshakes:
            try:
                session = await accept(stream, self.me, self.handshake_timeout, self.now)
            except ProtocolError as exc:
                key = type(exc).__name__
                self.refused[key] = self.refused.get(key, 0) + 1
                log.info("refused inbound session: %s", exc)
                return
        conn = self._register(
            RpcConnection(session, self.handler, on_close=self._forget, now=self.now)
        )
        # Keep the stream handler alive while the session lives (the transport closes the
        # stream when this returns).
        await conn.wait_closed()

    def _register(self, conn: RpcConnection) -> RpcConnection:
        onion = conn.peer.onion
        old = self._conns.get(onion)
        self._conns[onion] = conn
        self._last_used[onion] = self.now()
        conn.start()
        if old is not None and not old.closed:
            # Keep the older session open for calls in flight; it is no longer handed out.
            asyncio.get_running_loop().call_later(30.0, _close_later, old)
        return conn

    def _forget(self, conn: RpcConnection) -> None:
        onion = conn.peer.onion
        if self._conns.get(onion) is conn:
            del self._conns[onion]
            self._last_used.pop(onion, None)

    def address_of(self, onion: str) -> str | None:
        """The address a connected peer advertised (``None`` if it did not)."""
        conn = self._conns.get(onion)
        return conn.peer_address if conn is not None else None

    async def identify(self, address: str) -> RpcConnection:
        """Dial ``address`` without knowing who listens there; the session is authenticated
        for whichever onion address the responder proves. For bootstrap by ``host:port``."""
        return await self._dial(address, None)

    async def connection(self, address: str, onion: str) -> RpcConnection:
        """A live session to ``onion`` (reachable at ``address``), dialling if needed."""
        onion = normalize_onion(onion)
        if onion == self.me.onion:
            raise PeerUnreachable("refusing to open a session to ourselves")
        conn = self._conns.get(onion)
        if conn is not None and not conn.closed:
            self._last_used[onion] = self.now()
            return conn
        task = self._dialing.get(onion)
        if task is None:
            task = asyncio.get_running_loop().create_task(self._dial(address, onion))
            self._dialing[onion] = task
            task.add_done_callback(lambda t: _settle_dial(self._dialing, onion, t))
        return await asyncio.shield(task)

    async def _dial(self, address: str, onion: str | None) -> RpcConnection:
        if self._closed:
            raise PeerUnreachable("pool is closed")
        try:
            stream = await self.transport.connect(address, self.connect_timeout)
        except TransportError as exc:
            raise PeerUnreachable(f"{(onion or address)[:16]}…: {exc}") from exc
        try:
            session = await initiate(stream, self.me, onion, self.handshake_timeout, self.now)
        except (HandshakeFailed, ProtocolError) as exc:
            raise PeerUnreachable(
                f"handshake with {(onion or address)[:16]}… failed: {exc}"
            ) from exc
        self._evict_if_full()
        conn = self._register(
            RpcConnection(session, self.handler, on_close=self._forget, now=self.now)
        )
        conn.peer_address = address
        if self.advertise:
            await conn.notify(HELLO, {"addr": self.advertise})
        return conn

    def _evict_if_full(self) -> None:
        if len(self._conns) < self.max_sessions:
            return
        oldest = min(self._last_used, key=self._last_used.__getitem__)
        conn = self._conns.pop(oldest)
        self._last_used.pop(oldest, None)
        asyncio.get_running_loop().create_task(conn.close("evicted"))

    async def request(
        self, address: str, onion: str, method: str, params: dict[str, Any], timeout: float
    ) -> Fields:
        """Call ``method`` on the peer, dialling or reusing a session."""
        conn = await asyncio.wait_for(
            self.connection(address, onion), timeout + self.handshake_timeout
        )
        return await conn.request(method, params, timeout)

    async def notify(self, address: str, onion: str, method: str, params: dict[str, Any]) -> None:
        """Send a one-way message to the peer."""
        conn = await self.connection(address, onion)
        await conn.notify(method, params)

    def sessions(self) -> list[RpcConnection]:
        """The live sessions."""
        return [c for c in self._conns.values() if not c.closed]

    def has_session(self, onion: str) -> bool:
        """True when a live session to ``onion`` is open (a call needs no dial)."""
        conn = self._conns.get(onion)
        return conn is not None and not conn.closed

    async def close_idle(self, keep: Collection[str] = (), keepalive: str | None = None) -> int:
        """Close sessions that carried nothing for ``idle_timeout``, except those to ``keep``
        (onion addresses kept warm on purpose); returns how many were closed. With
        ``keepalive`` (a method every peer serves), a kept session quiet for half
        ``idle_timeout`` is sent that method as a one-way message."""
        cutoff = self.now() - self.idle_timeout
        warm = set(keep)
        if keepalive is not None:
            await self._keepalive(warm, keepalive)
        idle = [
            onion
            for onion, conn in self._conns.items()
            if onion not in warm
            and max(self._last_used.get(onion, 0.0), conn.last_activity) < cutoff
        ]
        for onion in idle:
            conn = self._conns.get(onion)
            if conn is not None:
                await conn.close("idle")
        return len(idle)

    async def _keepalive(self, warm: set[str], method: str) -> None:
        quiet = self.now() - self.idle_timeout / 2
        for onion in warm:
            conn = self._conns.get(onion)
            if conn is None or conn.closed or conn.last_activity >= quiet:
                continue
            with contextlib.suppress(RpcError, ProtocolError, TransportError):
                await conn.notify(method, {})
                conn.last_activity = self.now()

    async def sweep_idle(
        self,
        keep: Callable[[], Collection[str]],
        interval: float,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        *,
        keepalive: str | None = None,
    ) -> None:
        """Every ``interval`` seconds, close the idle sessions not in ``keep()`` (and send
        ``keepalive`` on quiet kept ones, see :meth:`close_idle`); until closed."""
        while not self._closed:
            await sleep(interval)
            closed = await self.close_idle(keep(), keepalive)
            if closed:
                log.debug("closed %d idle sessions", closed)

    async def drop(self, onion: str) -> None:
        """Close the session to ``onion`` if any (after it misbehaved, for instance)."""
        conn = self._conns.get(normalize_onion(onion))
        if conn is not None:
            await conn.close("dropped")

    async def close(self) -> None:
        """Stop listening and close every session."""
        self._closed = True
        if self._listener is not None:
            await self._listener.close()
        for task in list(self._dialing.values()):
            task.cancel()
        for conn in list(self._conns.values()):
            await conn.close("shutting down")
        self._conns.clear()


def _settle_dial(
    dialing: dict[str, asyncio.Task[RpcConnection]], onion: str, task: asyncio.Task[RpcConnection]
) -> None:
    dialing.pop(onion, None)
    if not task.cancelled():
        task.exception()  # retrieved: every waiter may have gone (shielded dial)


def _close_later(conn: RpcConnection) -> None:
    with contextlib.suppress(RuntimeError):
        asyncio.get_running_loop().create_task(conn.close("replaced"))
