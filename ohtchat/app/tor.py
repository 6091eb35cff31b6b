"""The node's tor: launch it (or attach to a running one), watch it, stop and restart it.

A :class:`TorController` owns the tor process and its monitor, forwards tor's state to the
UIs as :class:`~ohtchat.api.events.TorEvent`, and makes the onion transport of a node key.
When tor comes back after a crash or ``/tor start``, it calls ``on_restart`` so the node can
republish and rejoin. The tor package (stem) is imported only when a node runs on onions.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ohtchat.api.bus import EventBus
from ohtchat.api.constants import JOIN_TOPIC
from ohtchat.api.events import LogEvent, TorEvent
from ohtchat.api.views import TorView
from ohtchat.app.options import NodeOptions
from ohtchat.crypto.keys import NodeKey

if TYPE_CHECKING:
    from ohtchat.tor.monitor import TorMonitor
    from ohtchat.tor.process import TorProcess
    from ohtchat.transport.onion import OnionTransport


class TorController:
    """Tor for one node (see the module docstring)."""

    def __init__(
        self, options: NodeOptions, bus: EventBus, on_restart: Callable[[], Awaitable[None]]
    ) -> None:
        self.options = options
        self.bus = bus
        self.on_restart = on_restart
        self.process: TorProcess | None = None
        self.monitor: TorMonitor | None = None
        # Unix socket paths must stay short: the onion service listens in a short temp dir.
        self.socket_dir = Path(tempfile.mkdtemp(prefix="oht-sock-"))
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def tor(self) -> TorProcess:
        """The tor process (``RuntimeError`` before :meth:`start`)."""
        if self.process is None:
            raise RuntimeError("tor is not started")
        return self.process

    @property
    def status(self) -> TorView:
        """Tor's state as UIs see it."""
        if self.process is None:
            return TorView()
        st = self.process.status
        return TorView(st.state.value, st.progress, st.summary)

    async def start(self) -> None:
        """Launch tor (or attach to the one at ``options.tor_control``) and watch it."""
        from ohtchat.tor.config import TorConfig
        from ohtchat.tor.process import TorProcess

        opts = self.options
        if opts.tor_control:
            self.process = TorProcess.attach(opts.tor_control)
        else:
            base = opts.data_dir if opts.data_dir and not opts.memory else None
            tor_dir = (base / "tor") if base else Path(tempfile.mkdtemp(prefix="ohtchat-tor-"))
            cfg = (
                TorConfig.for_testnet(tor_dir, opts.tor_testnet)
                if opts.tor_testnet
                else TorConfig(tor_dir)
            )
            self.process = TorProcess.launch(cfg)
        self._spawn(self._forward_status(self.process))
        await self.process.start()
        if not self.process.attached:
            from ohtchat.tor.monitor import TorMonitor

            self.monitor = TorMonitor(
                self.process, self._restarted, interval=opts.tor_monitor_interval
            )
            self.monitor.start()

    def transport(self, node_key: NodeKey) -> OnionTransport:
        """The onion transport of ``node_key`` through this tor."""
        from ohtchat.transport.onion import OnionTransport

        return OnionTransport(self.tor, node_key, socket_dir=self.socket_dir)

    async def stop_on_purpose(self) -> None:
        """``/tor stop``: stop tor (the monitor must not bring it back)."""
        if self.monitor is not None:
            await self.monitor.stop()
        await self.tor.stop()

    async def start_again(self) -> None:
        """``/tor start``: start tor again, then republish and rejoin (``on_restart``)."""
        if self.tor.running:
            return
        await self.tor.start()
        if self.monitor is not None:
            self.monitor.start()
        self._spawn(self._restarted())

    async def info(self) -> dict[str, Any]:
        """What ``/tor status`` shows (version, bootstrap, circuits, …)."""
        info: dict[str, Any] = await self.tor.info()
        return info

    async def new_identity(self) -> None:
        """``/newtor``: fresh circuits for new streams."""
        await self.tor.new_identity()

    async def close(self) -> None:
        """Stop watching, stop tor and remove the socket directory (at node shutdown)."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.monitor is not None:
            await self.monitor.stop()
        if self.process is not None:
            with contextlib.suppress(Exception):
                await self.process.stop()
        shutil.rmtree(self.socket_dir, ignore_errors=True)

    async def _restarted(self) -> None:
        self.bus.publish(LogEvent("warning", "tor restarted; rejoining the ring", JOIN_TOPIC))
        await self.on_restart()

    async def _forward_status(self, process: TorProcess) -> None:
        async for st in process.subscribe():
            self.bus.publish(TorEvent(st.state.value, st.progress, st.summary))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
