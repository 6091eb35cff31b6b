"""Our tor: launched (a child process with unix sockets only) or attached (a running tor).

All blocking stem calls run through :func:`asyncio.to_thread`; stem's event thread hands
events to the event loop with ``call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from types import TracebackType
from typing import Any

import stem
import stem.control
from stem.control import EventType

from ohtchat.tor.config import TorConfig
from ohtchat.tor.control import (
    TorState,
    TorStatus,
    open_controller,
    parse_bootstrap,
    parse_control_spec,
)
from ohtchat.tor.errors import OnionServiceError, TorError, TorNotRunning
from ohtchat.tor.launcher import TorChild
from ohtchat.tor.onion_service import OnionService

StatusCallback = Callable[[TorStatus], None]
SocksAddress = Path | tuple[str, int]


class TorProcess:
    """One tor we control. Build with :meth:`launch` or :meth:`attach`, then ``start()``."""

    def __init__(
        self,
        config: TorConfig | None = None,
        control: Path | tuple[str, int] | None = None,
        password: str | None = None,
    ) -> None:
        if (config is None) == (control is None):
            raise TorError("give exactly one of config (launch) or control (attach)")
        self.config = config
        self._control_addr = control if control is not None else config.control_socket  # type: ignore[union-attr]
        self._password = password
        self._child: TorChild | None = None
        self._controller: stem.control.Controller | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._status = TorStatus(0, "not started", TorState.STOPPED)
        self._ready = asyncio.Event()
        self._died = asyncio.Event()
        self._callbacks: list[StatusCallback] = []
        self._services: dict[str, OnionService] = {}
        self._socks: SocksAddress | None = config.socks_socket if config is not None else None
        self._watch: asyncio.Task[None] | None = None
        self._stopping = False

    @classmethod
    def launch(cls, config: TorConfig) -> TorProcess:
        """A tor we start ourselves (not started yet: call :meth:`start`)."""
        return cls(config=config)

    @classmethod
    def attach(cls, spec: str, password: str | None = None) -> TorProcess:
        """A running tor reached at ``spec`` (socket path or ``HOST:PORT``)."""
        return cls(control=parse_control_spec(spec), password=password)

    # -- life cycle -------------------------------------------------------------------

    @property
    def attached(self) -> bool:
        """True when we attached to a tor we did not start."""
        return self.config is None

    @property
    def pid(self) -> int | None:
        """pid of the tor we launched (None when attached or stopped)."""
        return self._child.pid if self._child is not None else None

    @property
    def running(self) -> bool:
        """True while the control connection is open."""
        return self._controller is not None and not self._died.is_set()

    @property
    def status(self) -> TorStatus:
        """The latest status."""
        return self._status

    @property
    def socks_address(self) -> SocksAddress:
        """Where tor's SOCKS listener is (a unix socket path for a launched tor)."""
        if self._socks is None:
            raise TorNotRunning("tor offers no SOCKS listener (or is not started)")
        return self._socks

    @property
    def control_address(self) -> Path | tuple[str, int]:
        """Where tor's control port is."""
        return self._control_addr

    async def start(self, timeout: float = 60.0) -> None:
        """Launch or attach, open the control connection, re-add known onion services.

        Returns before bootstrap completes; follow :meth:`subscribe` or :meth:`wait_ready`.
        """
        if self.running:
            return
        self._loop = asyncio.get_running_loop()
        self._stopping = False
        self._died.clear()
        self._ready.clear()
        self._set_status(0, "starting tor", TorState.STARTING)
        try:
            if self.config is not None:
                self._child = TorChild(self.config)
                await self._child.start(timeout)
            self._controller = await asyncio.to_thread(
                open_controller, self._control_addr, self._password
            )
            await asyncio.to_thread(self._subscribe_events, self._controller)
            if self.config is None:
                self._socks = await asyncio.to_thread(_find_socks, self._controller)
            phase = await self._getinfo("status/bootstrap-phase")
        except BaseException:
            await self._teardown()
            self._set_status(0, "tor failed to start", TorState.FAILED)
            raise
        self._on_bootstrap_line(phase)
        self._watch = asyncio.create_task(self._watch_child())
        for service in list(self._services.values()):
            await self._add_service(service)

    async def stop(self) -> None:
        """Stop tor (launched) or detach (attached, removing our onion services)."""
        self._stopping = True
        await self._teardown()
        self._set_status(0, "tor stopped", TorState.STOPPED)

    async def restart(self) -> None:
        """Stop and start again; onion services are re-added."""
        self._set_status(0, "restarting tor", TorState.RESTARTING)
        await self.stop()
        await self.start()

    async def _teardown(self) -> None:
        self._stopping = True
        if self._watch is not None and self._watch is not asyncio.current_task():
            self._watch.cancel()
        controller, self._controller = self._controller, None
        if controller is not None and self.config is None:
            # Attached: leave the user's tor as we found it.
            for service in self._services.values():
                with contextlib.suppress(stem.ControllerError):
                    await asyncio.to_thread(controller.msg, f"DEL_ONION {service.service_id}")
        if self._child is not None:
            await self._child.stop()
        if controller is not None:
            await asyncio.to_thread(controller.close)
        self._ready.clear()

    async def __aenter__(self) -> TorProcess:
        await self.start()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def wait_died(self) -> None:
        """Return when tor exits or the control connection drops unexpectedly."""
        await self._died.wait()

    async def _watch_child(self) -> None:
        if self._child is not None:
            status = await self._child.wait()
            if not self._stopping:
                self._mark_died(f"tor exited (status {status})")

    def _mark_died(self, why: str) -> None:
        if self._stopping or self._died.is_set():
            return
        self._died.set()
        self._ready.clear()
        for service in self._services.values():
            service.reset()
        self._set_status(0, why, TorState.FAILED)

    # -- status -----------------------------------------------------------------------

    def on_status(self, callback: StatusCallback) -> Callable[[], None]:
        """Call ``callback`` on every status change; returns an unsubscribe function."""
        self._callbacks.append(callback)
        return lambda: self._callbacks.remove(callback) if callback in self._callbacks else None

    async def subscribe(self) -> AsyncIterator[TorStatus]:
        """Async iterator of statuses: the current one first, then every change."""
        queue: asyncio.Queue[TorStatus] = asyncio.Queue()
        unsubscribe = self.on_status(queue.put_nowait)
        try:
            yield self._status
            while True:
                yield await queue.get()
        finally:
            unsubscribe()

    async def wait_ready(self, timeout: float | None = None) -> None:
        """Wait for 100 % bootstrap; TimeoutError after ``timeout`` seconds."""
        await asyncio.wait_for(self._ready.wait(), timeout)

    def _set_status(self, progress: int, summary: str, state: TorState) -> None:
        new = TorStatus(progress, summary, state)
        if new == self._status:
            return
        self._status = new
        if state is TorState.READY:
            self._ready.set()
        for callback in list(self._callbacks):
            callback(new)

    def _on_bootstrap_line(self, line: str) -> None:
        parsed = parse_bootstrap(line)
        if parsed is not None:
            progress, summary = parsed
            state = TorState.READY if progress >= 100 else TorState.BOOTSTRAPPING
            self._set_status(progress, summary, state)

    # -- control ----------------------------------------------------------------------

    def _subscribe_events(self, controller: stem.control.Controller) -> None:
        controller.add_event_listener(self._from_thread, EventType.STATUS_CLIENT, EventType.HS_DESC)
        controller.add_status_listener(self._closed_from_thread)

    def _from_thread(self, event: Any) -> None:
        self._call_soon(self._on_event, event)

    def _closed_from_thread(self, controller: Any, state: Any, _when: float) -> None:
        if state == stem.control.State.CLOSED:
            self._call_soon(self._on_controller_closed, controller)

    def _call_soon(self, fn: Callable[..., None], *args: Any) -> None:
        if self._loop is not None:
            with contextlib.suppress(RuntimeError):  # loop already closed
                self._loop.call_soon_threadsafe(fn, *args)

    def _on_controller_closed(self, controller: Any) -> None:
        if controller is self._controller:
            self._mark_died("lost the control connection to tor")

    def _on_event(self, event: Any) -> None:
        if event.type == "STATUS_CLIENT" and event.action == "BOOTSTRAP":
            self._on_bootstrap_line(str(event))
        elif event.type == "HS_DESC":
            service = self._services.get(str(event.address).lower() + ".onion")
            if service is not None:
                service.on_hs_desc(str(event.action), str(event.directory_fingerprint or ""))

    def _require(self) -> stem.control.Controller:
        if self._controller is None or self._died.is_set():
            raise TorNotRunning("tor is not running (use /tor start)")
        return self._controller

    async def _getinfo(self, key: str) -> str:
        controller = self._require()
        try:
            return str(await asyncio.to_thread(controller.get_info, key))
        except stem.ControllerError as exc:
            raise TorError(f"GETINFO {key} failed: {exc}") from exc

    async def circuit_established(self) -> bool:
        """True when tor currently has working circuits."""
        return await self._getinfo("status/circuit-established") == "1"

    async def new_identity(self) -> None:
        """SIGNAL NEWNYM: new circuits for new streams (``/newtor``)."""
        controller = self._require()
        await asyncio.to_thread(controller.signal, stem.Signal.NEWNYM)

    async def info(self) -> dict[str, object]:
        """A summary for ``/tor status``."""
        summary: dict[str, object] = {
            "mode": "attached" if self.attached else "launched",
            "pid": self.pid,
            "state": self._status.state.value,
            "progress": self._status.progress,
            "summary": self._status.summary,
            "onions": {a: s.published for a, s in self._services.items()},
        }
        if self.running:
            summary["version"] = await self._getinfo("version")
            summary["circuits"] = await self.circuit_established()
        return summary

    # -- onion services ---------------------------------------------------------------

    async def add_onion(
        self, key_blob: str, target: Path, port: int, expected: str
    ) -> OnionService:
        """Host an onion service for ``key_blob`` forwarding ``port`` to unix ``target``.

        ``expected`` is our own derivation of the address; tor must report the same.
        """
        address = expected.lower()
        if address in self._services:
            raise OnionServiceError(f"{address} is already hosted by this tor")
        service = OnionService(address, key_blob, port, target)
        await self._add_service(service)
        self._services[address] = service
        service.readd = lambda: self._readd(service)
        return service

    async def _add_service(self, service: OnionService) -> None:
        controller = self._require()
        service.reset()
        try:
            reply = await asyncio.to_thread(controller.msg, service.add_onion_command())
        except stem.ControllerError as exc:
            raise OnionServiceError(f"ADD_ONION failed: {exc}") from exc
        text = str(reply)
        if not reply.is_ok():
            raise OnionServiceError(f"tor refused ADD_ONION: {text}")
        reported = next(
            (ln.split("=", 1)[1] for ln in text.splitlines() if ln.startswith("ServiceID=")), ""
        )
        if reported + ".onion" != service.address:
            await asyncio.to_thread(controller.msg, f"DEL_ONION {reported}")
            raise OnionServiceError(f"tor derived {reported}.onion, we derived {service.address}")

    async def _readd(self, service: OnionService) -> None:
        if self._controller is not None and not self._died.is_set():
            await asyncio.to_thread(self._controller.msg, f"DEL_ONION {service.service_id}")
            await self._add_service(service)

    async def remove_onion(self, service: OnionService) -> None:
        """Stop hosting ``service`` (``/newonions`` rotation)."""
        self._services.pop(service.address, None)
        service.readd = None
        if self._controller is not None and not self._died.is_set():
            with contextlib.suppress(stem.ControllerError):
                await asyncio.to_thread(self._controller.msg, f"DEL_ONION {service.service_id}")

    @property
    def onion_services(self) -> list[OnionService]:
        """The services this tor hosts for us."""
        return list(self._services.values())


def _find_socks(controller: stem.control.Controller) -> SocksAddress | None:
    """The first SOCKS listener of an attached tor (unix sockets preferred)."""
    try:
        listeners = controller.get_listeners(stem.control.Listener.SOCKS)
    except stem.ControllerError:
        return None
    for addr, _port in listeners:
        if str(addr).startswith("unix:"):
            return Path(str(addr)[5:])
    for addr, port in listeners:
        return str(addr), int(port)
    return None
