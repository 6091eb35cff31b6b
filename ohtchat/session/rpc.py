"""Request/response and one-way messages multiplexed over one :class:`Session`, both ways.

Envelopes on an established session::

    req  {id: u32, m: method, p: params map}      → expects a res with the same id
    res  {id: u32, ok: true,  r: result map}
    res  {id: u32, ok: false, e: error code, d: detail text}
    msg  {m: method, p: params map}               → one-way, no reply
    msg  {m: "_hello", p: {addr: str}}            → "I accept sessions at addr" (TCP mode)

Either side may send requests. Each side runs at most ``max_inflight`` handlers at once per
session; a request beyond that is answered ``busy`` at once (a peer cannot queue unbounded work).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from ohtchat.session.identity import PeerIdentity
from ohtchat.session.session import Session
from ohtchat.transport.base import StreamClosed, TransportError
from ohtchat.wire.envelope import Fields
from ohtchat.wire.errors import MalformedMessage, ProtocolError

log = logging.getLogger(__name__)

Handler = Callable[[PeerIdentity, str, Fields], Awaitable[dict[str, Any] | None]]
METHOD_MAX = 64
#: One-way session message by which a dialler advertises where it accepts sessions.
HELLO = "_hello"


class RpcError(Exception):
    """A remote call failed; ``code`` is a short machine-readable reason."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


class RpcTimeout(RpcError):
    """The peer did not answer in time."""

    def __init__(self, detail: str = "") -> None:
        super().__init__("timeout", detail)


class PeerUnreachable(RpcError):
    """No session to the peer could be opened, or it was lost."""

    def __init__(self, detail: str = "") -> None:
        super().__init__("unreachable", detail)


class RpcConnection:
    """RPC endpoints on one session: call :meth:`start` once, then request or notify."""

    def __init__(
        self,
        session: Session,
        handler: Handler,
        max_inflight: int = 32,
        on_close: Callable[[RpcConnection], None] | None = None,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.session = session
        self.peer = session.peer
        self._handler = handler
        self._max_inflight = max_inflight
        self._on_close = on_close
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Fields]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._reader: asyncio.Task[None] | None = None
        self._closed = False
        self.close_reason = ""
        self._closed_event = asyncio.Event()
        #: The transport address the peer says it accepts sessions on (``_hello``), if any.
        self.peer_address: str | None = None
        self._now = now
        #: When a message last went out or came in (the pool's idle sweep reads it).
        self.last_activity = now()
        #: When the session first carried a request or a message other than ``_hello``, either
        #: way (``None``: not yet). The pool's eviction keeps used, long-standing sessions.
        self.first_used: float | None = None

    def start(self) -> None:
        """Start the reader task."""
        self._reader = asyncio.get_running_loop().create_task(self._read_loop())

    @property
    def closed(self) -> bool:
        """True once the connection has ended."""
        return self._closed

    @property
    def in_flight(self) -> int:
        """Requests in flight: ours waiting for an answer and the peer's being handled."""
        return len(self._pending) + len(self._tasks)

    def _note_use(self) -> None:
        self.last_activity = self._now()
        if self.first_used is None:
            self.first_used = self.last_activity

    async def wait_closed(self) -> None:
        """Return once the connection has ended."""
        await self._closed_event.wait()

    async def request(self, method: str, params: dict[str, Any], timeout: float) -> Fields:
        """Call ``method`` on the peer; its result map, or :class:`RpcError`."""
        if self._closed:
            raise PeerUnreachable(f"session to {self.peer.onion} is closed")
        rid = next(self._ids) & 0xFFFFFFFF
        self._note_use()
        fut: asyncio.Future[Fields] = asyncio.get_running_loop().create_future()
        self._pending[rid] = fut
        try:
            await self.session.send("req", {"id": rid, "m": method, "p": params})
            # Not ``asyncio.wait_for``: on Python 3.11 it returns the result, swallowing the
            # cancellation, when the reply lands in the same loop step as a cancel (a caller
            # being stopped would then carry on). ``asyncio.timeout`` re-raises the cancel.
            async with asyncio.timeout(timeout):
                return await fut
        except TimeoutError as exc:
            raise RpcTimeout(f"{method} to {self.peer.onion[:16]}… after {timeout:g} s") from exc
        except (StreamClosed, TransportError) as exc:
            await self.close(f"send failed: {exc}")
            raise PeerUnreachable(str(exc)) from exc
        finally:
            self._pending.pop(rid, None)

    async def notify(self, method: str, params: dict[str, Any]) -> None:
        """Send a one-way message."""
        if self._closed:
            raise PeerUnreachable(f"session to {self.peer.onion} is closed")
        if method != HELLO:
            self._note_use()
        try:
            await self.session.send("msg", {"m": method, "p": params})
        except (StreamClosed, TransportError) as exc:
            await self.close(f"send failed: {exc}")
            raise PeerUnreachable(str(exc)) from exc

    async def _read_loop(self) -> None:
        reason = "closed by peer"
        try:
            while True:
                item = await self.session.recv()
                if item is None:
                    break
                self.last_activity = self._now()
                self._dispatch(*item)
        except ProtocolError as exc:
            reason = f"protocol error: {exc}"
            log.info("closing session with %s: %s", self.peer.onion[:16], exc)
        except (StreamClosed, TransportError, ConnectionError) as exc:
            reason = f"connection lost: {exc}"
        except asyncio.CancelledError:
            reason = "closed"
        finally:
            await self.close(reason)

    def _dispatch(self, kind: str, f: Fields) -> None:
        if kind == "res":
            fut = self._pending.get(f.int_("id", 0, 0xFFFFFFFF))
            if fut is not None and not fut.done():
                if f.bool_("ok"):
                    fut.set_result(f.map_("r"))
                else:
                    fut.set_exception(RpcError(f.str_("e", 64), f.str_("d", 1024)))
            return
        if kind not in ("req", "msg"):
            raise MalformedMessage(f"unknown message type {kind[:32]!r}")
        rid: int | None = f.int_("id", 0, 0xFFFFFFFF) if kind == "req" else None
        method = f.str_("m", METHOD_MAX, 1)
        params = f.map_("p")
        if method == HELLO and rid is None:
            # Handled inline, before any later request of this session is dispatched.
            self.peer_address = params.str_("addr", 255) or None
            return
        self._note_use()
        if len(self._tasks) >= self._max_inflight:
            if rid is not None:
                self._spawn(self._reply_error(rid, "busy", "too many requests in flight"))
            return
        self._spawn(self._run_handler(rid, method, params))

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run_handler(self, rid: int | None, method: str, params: Fields) -> None:
        try:
            result = await self._handler(self.peer, method, params)
        except RpcError as exc:
            if rid is not None:
                await self._reply_error(rid, exc.code, exc.detail)
            return
        except ProtocolError as exc:  # the params failed validation
            if rid is not None:
                await self._reply_error(rid, "bad_request", str(exc))
            return
        except Exception:
            log.exception("handler for %s failed", method)
            if rid is not None:
                await self._reply_error(rid, "internal", "the handler failed")
            return
        if rid is not None:
            with contextlib.suppress(StreamClosed, TransportError, ProtocolError):
                await self.session.send("res", {"id": rid, "ok": True, "r": result or {}})

    async def _reply_error(self, rid: int, code: str, detail: str) -> None:
        with contextlib.suppress(StreamClosed, TransportError, ProtocolError):
            await self.session.send(
                "res", {"id": rid, "ok": False, "e": code[:64], "d": detail[:1024]}
            )

    async def close(self, reason: str = "closed") -> None:
        """End the connection: fail pending calls, stop handlers, close the stream."""
        if self._closed:
            return
        self._closed = True
        self.close_reason = reason
        self._closed_event.set()
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(PeerUnreachable(f"session ended: {reason}"))
        for task in list(self._tasks):
            task.cancel()
        current = asyncio.current_task()
        if self._reader is not None and self._reader is not current:
            self._reader.cancel()
        await self.session.close()
        if self._on_close is not None:
            self._on_close(self)
