"""A pool of authenticated RPC sessions, keyed by the peer's onion address.

An onion connection costs a Tor circuit, so sessions to successors and fingers are reused:
``request(address, onion, ...)`` uses a live session to ``onion`` (dialled by us *or* accepted
from it), dialling only when there is none; concurrent callers share one dial. Idle sessions
that carried nothing, in either direction, for ``idle_timeout`` are closed by
:meth:`sweep_idle` (an idle onion session holds Tor circuits), except the ones the node keeps
warm on purpose (its ring neighbours and fingers, a bounded set); those get a one-way
keepalive when they carried nothing for half ``idle_timeout``, so the peer's own sweep, which
does not know we keep them, leaves them open too.

Hostile peers (docs/threat-model.md, "Session exhaustion"): the pool holds at most
``max_sessions``; when it is full a new session *evicts* the least valuable one (see
:mod:`ohtchat.session.eviction`) instead of being refused, so identities made for free cannot
lock honest peers out. At most ``max_pending`` unauthenticated connections are in the
handshake at once (past that the slowest is dropped, see :mod:`ohtchat.session.admission`);
each must send its first frame within ``first_frame_timeout`` and finish within
``handshake_timeout``, and nothing waits for a slot before its handshake starts. A session
replaced by a newer one to the same peer stays open for calls in flight a while, at most
``MAX_REPLACED`` of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Collection
from typing import Any

from ohtchat.crypto.onion import normalize_onion
from ohtchat.session.admission import FIRST_FRAME_READ, PendingHandshake, PendingHandshakes
from ohtchat.session.eviction import SessionInfo, choose_victim
from ohtchat.session.identity import NodeIdentity
from ohtchat.session.refusal import BUSY, SHUTTING_DOWN, refuse_stream
from ohtchat.session.rpc import HELLO, Handler, PeerUnreachable, RpcConnection, RpcError
from ohtchat.session.session import (
    FIRST_FRAME_TIMEOUT,
    HANDSHAKE_MAX_FRAME,
    HANDSHAKE_TIMEOUT,
    Session,
    accept,
    initiate,
)
from ohtchat.transport.base import ByteStream, Listener, Transport, TransportError
from ohtchat.wire.envelope import Fields
from ohtchat.wire.errors import HandshakeFailed, ProtocolError

log = logging.getLogger(__name__)

#: How long a session replaced by a newer one to the same peer stays open for calls in flight.
REPLACED_GRACE = 30.0
#: At most this many replaced sessions wait out their grace; past it the old one closes at once.
MAX_REPLACED = 32


class SessionPool:
    """Dials, accepts and reuses sessions for one node."""

    def __init__(
        self,
        transport: Transport,
        me: NodeIdentity,
        handler: Handler,
        *,
        max_sessions: int = 256,
        max_pending: int = 64,
        connect_timeout: float = 30.0,
        handshake_timeout: float = HANDSHAKE_TIMEOUT,
        first_frame_timeout: float = FIRST_FRAME_TIMEOUT,
        idle_timeout: float = 600.0,
        senior_share: int | None = None,
        keep: Callable[[], Collection[str]] = tuple,
        advertise: str | None = None,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.transport = transport
        self.me = me
        self.handler = handler
        self.max_sessions = max_sessions
        self.connect_timeout = connect_timeout
        self.handshake_timeout = handshake_timeout
        self.first_frame_timeout = first_frame_timeout
        self.idle_timeout = idle_timeout
        #: Inbound sessions used earliest that a new session never evicts (default: half).
        self.senior_share = max_sessions // 2 if senior_share is None else senior_share
        #: The onion addresses kept warm on purpose, never evicted (:meth:`sweep_idle` sets it).
        self.keep = keep
        self.now = now
        #: Where peers should dial us, told to every peer we dial (``None``: our onion address).
        self.advertise = advertise
        self._conns: dict[str, RpcConnection] = {}
        self._last_used: dict[str, float] = {}
        self._dialing: dict[str, asyncio.Task[RpcConnection]] = {}
        self._pending = PendingHandshakes(max_pending)
        #: Sessions replaced by a newer one to the same peer, still open for calls in flight.
        self._replaced: set[RpcConnection] = set()
        self._listener: Listener | None = None
        self._closed = False
        #: Handshakes refused since start, by reason (for /status and tests); ``dropped``
        #: counts pending handshakes dropped to make room for newer ones.
        self.refused: dict[str, int] = {}
        #: Sessions closed to make room for a new one, since start.
        self.evicted = 0

    @property
    def listen_address(self) -> str | None:
        """The transport address we accept on, once listening."""
        return self._listener.address if self._listener else None

    async def listen(self, address: str | None = None) -> Listener:
        """Accept inbound sessions on ``address``."""
        self._listener = await self.transport.listen(self._on_stream, address)
        return self._listener

    @property
    def pending_handshakes(self) -> int:
        """Inbound connections still in the handshake."""
        return len(self._pending)

    def _count(self, key: str) -> None:
        self.refused[key] = self.refused.get(key, 0) + 1

    async def _on_stream(self, stream: ByteStream) -> None:
        if self._closed or (len(self._conns) >= self.max_sessions and self._victim() is None):
            # Full of sessions we keep warm on purpose (or max_sessions is 0): nothing to evict.
            code = SHUTTING_DOWN if self._closed else BUSY
            self._count(code)
            detail = "node is shutting down" if self._closed else "too many sessions"
            await refuse_stream(stream, code, detail, HANDSHAKE_MAX_FRAME)
            return
        session = await self._handshake(stream)
        if session is None:
            return
        conn = RpcConnection(session, self.handler, on_close=self._forget, now=self.now)
        if not self._make_room(conn.peer.onion):
            self._count(BUSY)
            await conn.close("too many sessions")
            return
        self._register(conn)
        # Keep the stream handler alive while the session lives (the transport closes the
        # stream when this returns).
        await conn.wait_closed()

    async def _handshake(self, stream: ByteStream) -> Session | None:
        """Run the responder side as one capped pending handshake; ``None`` if it failed or
        was dropped to make room."""
        entry = PendingHandshake(asyncio.get_running_loop().time(), drop=_nothing)

        def first_frame() -> None:
            self._pending.advance(entry, FIRST_FRAME_READ)

        task = asyncio.get_running_loop().create_task(
            accept(
                stream,
                self.me,
                self.handshake_timeout,
                self.now,
                first_frame_timeout=self.first_frame_timeout,
                on_first_frame=first_frame,
            )
        )
        entry.drop = task.cancel
        for _ in self._pending.admit(entry):
            self._count("dropped")
            log.info("dropped a pending handshake to make room (%d pending)", len(self._pending))
        try:
            return await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if not entry.dropped or (current is not None and current.cancelling()):
                raise
            return None
        except ProtocolError as exc:
            self._count(type(exc).__name__)
            log.info("refused inbound session: %s", exc)
            return None
        finally:
            self._pending.remove(entry)

    def _victim(self, exclude: str = "") -> str | None:
        """The session to evict for a new one (``None``: only kept ones are open)."""
        infos = [
            SessionInfo(
                onion,
                inbound=not conn.session.initiator,
                last_used=max(self._last_used.get(onion, 0.0), conn.last_activity),
                first_used=conn.first_used,
                in_flight=conn.in_flight,
            )
            for onion, conn in self._conns.items()
            if onion != exclude
        ]
        return choose_victim(infos, self.keep(), self.senior_share)

    def _make_room(self, onion: str) -> bool:
        """Before registering a session to ``onion``: evict one if the pool is full. False
        when the pool is full of sessions kept warm on purpose."""
        if onion in self._conns or len(self._conns) < self.max_sessions:
            return True  # a replacement takes its predecessor's place
        victim = self._victim(exclude=onion)
        if victim is None:
            return False
        conn = self._conns.pop(victim)
        self._last_used.pop(victim, None)
        self.evicted += 1
        log.info("evicted the session with %s… to make room", victim[:16])
        asyncio.get_running_loop().create_task(conn.close("evicted"))
        return True

    def _register(self, conn: RpcConnection) -> RpcConnection:
        onion = conn.peer.onion
        old = self._conns.get(onion)
        self._conns[onion] = conn
        self._last_used[onion] = self.now()
        conn.start()
        if old is not None and not old.closed:
            if len(self._replaced) >= MAX_REPLACED:
                # A peer that keeps reconnecting would otherwise hold any number of sessions.
                _close_later(old)
            else:
                # Keep the older session open for calls in flight; it is no longer handed out.
                self._replaced.add(old)
                asyncio.get_running_loop().call_later(REPLACED_GRACE, _close_later, old)
        return conn

    def _forget(self, conn: RpcConnection) -> None:
        self._replaced.discard(conn)
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
        # Our own dial goes ahead even when only kept sessions are open (a bounded set).
        self._make_room(session.peer.onion)
        conn = self._register(
            RpcConnection(session, self.handler, on_close=self._forget, now=self.now)
        )
        conn.peer_address = address
        if self.advertise:
            await conn.notify(HELLO, {"addr": self.advertise})
        return conn

    async def request(
        self, address: str, onion: str, method: str, params: dict[str, Any], timeout: float
    ) -> Fields:
        """Call ``method`` on the peer, dialling or reusing a session."""
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancel.
        async with asyncio.timeout(timeout + self.handshake_timeout):
            conn = await self.connection(address, onion)
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
        ``keepalive`` on quiet kept ones, see :meth:`close_idle`); until closed. ``keep`` also
        becomes :attr:`keep`: eviction never closes those sessions either."""
        self.keep = keep
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
        self._pending.drop_all()
        for conn in [*self._conns.values(), *self._replaced]:
            await conn.close("shutting down")
        self._conns.clear()


def _settle_dial(
    dialing: dict[str, asyncio.Task[RpcConnection]], onion: str, task: asyncio.Task[RpcConnection]
) -> None:
    dialing.pop(onion, None)
    if not task.cancelled():
        task.exception()  # retrieved: every waiter may have gone (shielded dial)


def _nothing() -> None:
    """A pending handshake's ``drop`` until its task exists."""


def _close_later(conn: RpcConnection) -> None:
    with contextlib.suppress(RuntimeError):
        asyncio.get_running_loop().create_task(conn.close("replaced"))
