"""``RemoteBackend``: the :class:`~ohtchat.api.backend.Backend` of a node reached over its
control socket, so the TUI, the console and ``ohtchat cmd`` drive a served node exactly as
they drive one in-process."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from ohtchat.api.events import LogEvent, NodeEvent, event_from_json
from ohtchat.api.ops import Operation
from ohtchat.api.results import CommandResult
from ohtchat.i18n import _
from ohtchat.serve.lines import LineTooLong, SocketPath, read_line
from ohtchat.serve.protocol import MAX_LINE, ProtocolError, decode_line, encode

_log = logging.getLogger(__name__)


def _result(reply: dict[str, Any] | None) -> CommandResult:
    """A response as a result; a malformed one is a failure saying so."""
    if reply is None:
        return CommandResult.failure("connection to the node lost", "disconnected")
    try:
        return CommandResult.from_json(reply)
    except ValueError as exc:
        return CommandResult.failure(f"malformed response from the node: {exc}", "protocol")


class NodeUnreachable(Exception):
    """No node answers on the control socket (not running, wrong --data-dir, or no access)."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(
            _("no ohtchat node answers at {path} ({reason}); is `ohtchat --serve` running?").format(
                path=path, reason=reason
            )
        )
        self.path = path
        self.reason = reason


class RemoteBackend:
    """A Backend over the control socket at ``socket_path``.

    Use ``async with RemoteBackend(path) as backend`` (or :meth:`connect` / :meth:`close`).
    When the connection is lost, :meth:`execute` answers failed results with the error code
    ``disconnected``, :meth:`complete` answers nothing, and event streams end after a
    ``log`` event saying so; nothing raises into the UI.
    """

    def __init__(self, socket_path: Path, *, timeout: float = 30.0, max_queued: int = 1000) -> None:
        self.socket_path = Path(socket_path)
        self.timeout = timeout
        self.max_queued = max_queued
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._ids = itertools.count(1)
        self._queues: set[asyncio.Queue[NodeEvent | None]] = set()
        self._reader_task: asyncio.Task[None] | None = None
        self._subscribed = False
        self._closed = asyncio.Event()
        self._write_lock = asyncio.Lock()
        self._connect_lock = asyncio.Lock()

    @property
    def connected(self) -> bool:
        """True while the connection is up."""
        return self._writer is not None and not self._closed.is_set()

    async def connect(self) -> RemoteBackend:
        """Open the connection; raises :class:`NodeUnreachable`.

        Optional: the Backend calls connect on first use (so a backend made outside the
        event loop that will use it, as the TUI's, works); then an unreachable node shows
        as failed results and an ended event stream.
        """
        if self._writer is not None:
            return self
        with SocketPath(self.socket_path) as sp:
            try:
                self._reader, self._writer = await asyncio.wait_for(
                    asyncio.open_unix_connection(sp.address, limit=MAX_LINE + 2), self.timeout
                )
            except (OSError, TimeoutError) as exc:
                raise NodeUnreachable(self.socket_path, exc.strerror or str(exc)) from None
        self._reader_task = asyncio.create_task(self._read_loop())
        return self

    async def close(self) -> None:
        """Close the connection (pending requests fail with ``disconnected``)."""
        if self._writer is not None:
            with contextlib.suppress(Exception):
                self._writer.close()
        if self._reader_task is not None:
            self._reader_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader_task
        self._lost()

    async def __aenter__(self) -> RemoteBackend:
        return await self.connect()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def wait_closed(self) -> None:
        """Wait until the connection is lost or closed."""
        await self._closed.wait()

    # ------------------------------------------------------------------ Backend

    async def execute(self, line: str, conversation: str | None = None) -> CommandResult:
        """Run one console line on the node."""
        return _result(await self._request({"cmd": line, "conversation": conversation}))

    async def call(self, op: Operation) -> CommandResult:
        """Run one typed operation on the node."""
        return _result(await self._request({"op": op.command_name, "args": op.args()}))

    async def complete(self, line: str, cursor: int) -> list[str]:
        """Tab completions computed by the node."""
        reply = await self._request({"complete": line, "cursor": cursor})
        if reply is None or not reply.get("ok"):
            return []
        words = reply.get("data", {}).get("completions", [])
        return [w for w in words if isinstance(w, str)] if isinstance(words, list) else []

    async def events(self) -> AsyncIterator[NodeEvent]:
        """The node's events from now on (the first call subscribes the connection)."""
        queue: asyncio.Queue[NodeEvent | None] = asyncio.Queue(self.max_queued)
        self._queues.add(queue)
        try:
            connected = await self._ensure_connected()
            if not connected and queue.empty():
                return  # lost before we subscribed: nothing will come
            if connected and not self._subscribed:
                self._subscribed = True
                await self._request({"subscribe": True})
            while (event := await queue.get()) is not None:
                yield event
        finally:
            self._queues.discard(queue)

    # ------------------------------------------------------------------ internals

    async def _ensure_connected(self) -> bool:
        if self._writer is None and not self._closed.is_set():
            async with self._connect_lock:
                if self._writer is None and not self._closed.is_set():
                    try:
                        await self.connect()
                    except NodeUnreachable as exc:
                        _log.error("%s", exc)
                        self._lost()
        return self.connected

    async def _request(self, body: dict[str, Any]) -> dict[str, Any] | None:
        if not await self._ensure_connected() or self._writer is None:
            return None
        rid = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[rid] = future
        try:
            async with self._write_lock:
                self._writer.write(encode({"id": rid, **body}))
                await self._writer.drain()
            return await future
        except (ConnectionError, OSError):
            return None
        finally:
            self._pending.pop(rid, None)

    async def _read_loop(self) -> None:
        assert self._reader is not None
        try:
            while True:
                try:
                    line = await read_line(self._reader)
                except LineTooLong:
                    _log.warning("control socket: dropped an over-long line from the node")
                    continue
                if line is None:
                    return
                self._dispatch(line)
        except (ConnectionError, OSError):
            return
        finally:
            self._lost()

    def _dispatch(self, line: bytes) -> None:
        try:
            obj = decode_line(line)
        except ProtocolError as exc:
            _log.warning("control socket: %s", exc)
            return
        if "event" in obj:
            try:
                event = event_from_json(obj)
            except ValueError as exc:
                _log.warning("control socket: %s", exc)
                return
            if event is not None:
                self._fan_out(event)
            return
        rid = obj.get("id")
        future = self._pending.get(rid) if isinstance(rid, int) else None
        if future is not None and not future.done():
            future.set_result(obj)
        elif rid is None and obj.get("ok") is False:
            _log.warning("control socket: %s", obj.get("text"))

    def _lost(self) -> None:
        if self._closed.is_set():
            return
        self._closed.set()
        for future in self._pending.values():
            if not future.done():
                future.set_exception(ConnectionResetError("connection to the node lost"))
        if self._queues:
            self._fan_out(LogEvent("error", "connection to the node lost"))
            self._fan_out(None)

    def _fan_out(self, event: NodeEvent | None) -> None:
        """Queue ``event`` for every local subscriber; a full queue loses its oldest event."""
        for queue in list(self._queues):
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(event)
