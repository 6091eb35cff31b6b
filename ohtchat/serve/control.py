"""The control socket: every console command and the event stream, as JSON lines.

A :class:`ControlServer` serves a :class:`~ohtchat.api.backend.Backend` on a unix socket
(mode 0600) in the data directory, for ``ohtchat cmd``, ``ohtchat console --attach``, the
TUI's ``--attach``, the web UI and any bot or script. Requests of one client run
concurrently (responses carry the request ``id``); a bad line gets an error response and
the connection goes on; a client that stops reading only loses its own events.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import stat
from pathlib import Path
from typing import Any

from ohtchat.api.backend import Backend
from ohtchat.i18n import _
from ohtchat.serve.lines import LineTooLong, SocketPath, read_line
from ohtchat.serve.protocol import (
    MAX_LINE,
    CallOperation,
    Complete,
    ProtocolError,
    Request,
    RequestId,
    RunCommand,
    encode,
    error_response,
    parse_request,
)

_log = logging.getLogger(__name__)

MAX_CLIENTS = 64
"""Connections served at once; more are answered with an error and closed."""

MAX_PENDING = 32
"""Requests of one client running at once; further lines wait (back-pressure)."""


class ControlSocketInUse(Exception):
    """Another process already serves the control socket at this path."""

    def __init__(self, path: Path) -> None:
        super().__init__(
            _(
                "another ohtchat node already serves {path}; stop it first or use another "
                "--data-dir"
            ).format(path=path)
        )
        self.path = path


def socket_is_live(path: Path) -> bool:
    """Whether something accepts connections on the unix socket at ``path``."""
    with SocketPath(path) as sp, socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(2.0)
        try:
            s.connect(sp.address)
        except OSError:
            return False
        return True


class ControlServer:
    """Serves ``backend`` on the unix socket ``path`` until :meth:`stop`."""

    def __init__(self, backend: Backend, path: Path, *, max_clients: int = MAX_CLIENTS) -> None:
        self.backend = backend
        self.path = Path(path)
        self.max_clients = max_clients
        self._server: asyncio.AbstractServer | None = None
        self._clients: set[_Client] = set()
        self._handlers: set[asyncio.Task[Any]] = set()

    @property
    def clients(self) -> int:
        """How many clients are connected."""
        return len(self._clients)

    async def start(self) -> None:
        """Bind the socket (mode 0600); ``ControlSocketInUse`` if another node serves it.

        A socket file left by a crashed node is replaced.
        """
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if self.path.exists() or self.path.is_symlink():
            if not stat.S_ISSOCK(self.path.lstat().st_mode):
                raise ControlSocketInUse(self.path)  # never delete a file we did not make
            if socket_is_live(self.path):
                raise ControlSocketInUse(self.path)
            self.path.unlink()
        with SocketPath(self.path) as sp:
            # umask makes the socket 0600 from the start: no window in which others may connect.
            old = os.umask(0o177)
            try:
                self._server = await asyncio.start_unix_server(
                    self._serve_client, sp.address, limit=MAX_LINE + 2
                )
            finally:
                os.umask(old)
        os.chmod(self.path, 0o600)
        _log.info("control socket listening on %s", self.path)

    async def stop(self) -> None:
        """Close every connection and remove the socket file."""
        if self._server is None:
            return
        self._server.close()
        for client in list(self._clients):
            client.close()
        if self._handlers:  # each sees its connection end and returns
            await asyncio.wait(list(self._handlers), timeout=5.0)
        with contextlib.suppress(Exception):
            await self._server.wait_closed()
        self._server = None
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    async def __aenter__(self) -> ControlServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _serve_client(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        client = _Client(self.backend, writer)
        task = asyncio.current_task()
        if task is not None:
            self._handlers.add(task)
        try:
            if len(self._clients) >= self.max_clients:
                await client.send(error_response(None, "too many clients", "busy"))
                return
            self._clients.add(client)
            await client.run(reader)
        except (ConnectionError, OSError):
            pass
        except asyncio.CancelledError:
            # The loop is shutting down. Returning (not re-raising) because Python 3.11's
            # stream callback logs a cancelled handler task as an unhandled error.
            pass
        finally:
            self._clients.discard(client)
            client.close()
            if task is not None:
                self._handlers.discard(task)


class _Client:
    """One connection: reads requests, runs them as tasks, writes responses and events."""

    def __init__(self, backend: Backend, writer: asyncio.StreamWriter) -> None:
        self.backend = backend
        self.writer = writer
        self._write_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        self._events: asyncio.Task[None] | None = None
        self._slots = asyncio.Semaphore(MAX_PENDING)

    async def run(self, reader: asyncio.StreamReader) -> None:
        """Serve requests until the client disconnects."""
        try:
            while True:
                try:
                    line = await read_line(reader)
                except LineTooLong:
                    await self.send(error_response(None, f"line longer than {MAX_LINE} bytes"))
                    continue
                if line is None:
                    return
                if not line.strip():
                    continue
                await self._slots.acquire()
                task = asyncio.create_task(self._handle(line))
                self._tasks.add(task)
                task.add_done_callback(self._done)
        except (ConnectionError, OSError):
            return
        finally:
            for task in list(self._tasks):
                task.cancel()
            self._stop_events()

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._slots.release()

    async def _handle(self, line: bytes) -> None:
        try:
            request = parse_request(line)
        except ProtocolError as exc:
            await self.send(error_response(exc.request_id, str(exc)))
            return
        try:
            await self.send(await self._answer(request))
        except (ConnectionError, OSError):
            pass
        except Exception:  # a bug below: report it, keep serving
            _log.exception("control request failed")
            await self.send(error_response(request.id, "internal error", "internal"))

    async def _answer(self, request: Request) -> dict[str, Any]:
        if isinstance(request, RunCommand):
            result = await self.backend.execute(request.line, request.conversation)
            return {"id": request.id, **result.to_json()}
        if isinstance(request, CallOperation):
            result = await self.backend.call(request.op)
            return {"id": request.id, **result.to_json()}
        if isinstance(request, Complete):
            words = await self.backend.complete(request.line, request.cursor)
            return _ok(request.id, completions=list(words))
        if request.on and self._events is None:
            # Subscribe before answering so no event after the answer is missed.
            ready = asyncio.Event()
            self._events = asyncio.create_task(self._pump_events(ready))
            await ready.wait()
        elif not request.on:
            self._stop_events()
        return _ok(request.id, subscribed=request.on)

    async def _pump_events(self, ready: asyncio.Event) -> None:
        stream = self.backend.events()
        try:
            first = asyncio.ensure_future(anext(stream))
            await asyncio.sleep(0)  # let the generator register its queue
            ready.set()
            event = await first
            while True:
                await self.send(event.to_json())
                event = await anext(stream)
        except (StopAsyncIteration, ConnectionError, OSError):
            pass
        finally:
            ready.set()
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                with contextlib.suppress(Exception):
                    await aclose()

    def _stop_events(self) -> None:
        if self._events is not None:
            self._events.cancel()
            self._events = None

    async def send(self, obj: dict[str, Any]) -> None:
        """Write one JSON line (serialized with the other writers of this connection).

        A response longer than the line limit would be dropped by the client, which would
        then wait for it until its timeout: it is replaced by a ``too_large`` error instead.
        """
        line = encode(obj)
        if len(line) > MAX_LINE + 1:
            line = encode(too_large(obj.get("id"), len(line)))
        async with self._write_lock:
            if self.writer.is_closing():
                raise ConnectionResetError("client gone")
            self.writer.write(line)
            await self.writer.drain()

    def close(self) -> None:
        """Drop the connection."""
        for task in list(self._tasks):
            task.cancel()
        self._stop_events()
        with contextlib.suppress(Exception):
            self.writer.close()


def too_large(request_id: RequestId, size: int) -> dict[str, Any]:
    """The error sent instead of an answer of ``size`` bytes over the line limit."""
    text = (
        f"the answer is too large for the control socket ({size} bytes, limit {MAX_LINE}); "
        "ask for less (e.g. /history ID 50)"
    )
    return error_response(request_id, text, "too_large")


def _ok(request_id: RequestId, **data: Any) -> dict[str, Any]:
    return {"id": request_id, "ok": True, "text": "", "data": data}
