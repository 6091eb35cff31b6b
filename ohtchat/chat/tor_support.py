"""The tor side of a :class:`~ohtchat.chat.node.ChatNode`: launch or attach, watch, restart.

A mixin so ``chat/node.py`` stays about composing the node; every method here uses the node's
``options``, ``tor``, ``monitor``, ``bus``, ``listener``, ``pool``, ``chord`` and ``chat``.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ohtchat.api.constants import JOIN_TOPIC
from ohtchat.api.events import LogEvent, TorEvent
from ohtchat.transport.base import Listener, Transport

if TYPE_CHECKING:
    from ohtchat.api.bus import EventBus
    from ohtchat.chat.options import NodeOptions
    from ohtchat.chat.service import ChatService
    from ohtchat.chord.node import ChordNode
    from ohtchat.session.identity import NodeIdentity
    from ohtchat.session.pool import SessionPool


class TorSupport:
    """Tor process handling for a chat node (see the module docstring)."""

    options: NodeOptions
    tor: Any  # ohtchat.tor.process.TorProcess (imported lazily: tor is optional at run time)
    monitor: Any  # ohtchat.tor.monitor.TorMonitor
    bus: EventBus
    listener: Listener | None
    pool: SessionPool
    chord: ChordNode
    chat: ChatService
    identity: NodeIdentity
    _socket_dir: Path

    def _spawn(self, coro: Any, stack: bool = False) -> None:  # provided by ChatNode
        raise NotImplementedError

    async def _start_tor(self) -> Transport:
        from ohtchat.tor.config import TorConfig
        from ohtchat.tor.process import TorProcess
        from ohtchat.transport.onion import OnionTransport

        if self.options.tor_control:
            self.tor = TorProcess.attach(self.options.tor_control)
        else:
            base = (
                self.options.data_dir if self.options.data_dir and not self.options.memory else None
            )
            tor_dir = (base / "tor") if base else Path(tempfile.mkdtemp(prefix="ohtchat-tor-"))
            cfg = (
                TorConfig.for_testnet(tor_dir, self.options.tor_testnet)
                if self.options.tor_testnet
                else TorConfig(tor_dir)
            )
            self.tor = TorProcess.launch(cfg)
        self._spawn(self._forward_tor_status())
        await self.tor.start()
        if not self.tor.attached:
            from ohtchat.tor.monitor import TorMonitor

            self.monitor = TorMonitor(
                self.tor, self._on_tor_restart, interval=self.options.tor_monitor_interval
            )
            self.monitor.start()
        return OnionTransport(self.tor, self.identity.node_key, socket_dir=self._socket_dir)

    async def stop_tor(self) -> None:
        """``/tor stop``: stop tor on purpose (the monitor must not bring it back)."""
        if self.monitor is not None:
            await self.monitor.stop()
        await self.tor.stop()

    async def start_tor(self) -> None:
        """``/tor start``: start tor again, republish the onion service and rejoin the ring."""
        if self.tor.running:
            return
        await self.tor.start()
        if self.monitor is not None:
            self.monitor.start()
        self._spawn(self._on_tor_restart())

    async def _on_tor_restart(self) -> None:
        """Tor came back: sessions through the old tor are dead; republish and rejoin."""
        self.bus.publish(LogEvent("warning", "tor restarted; rejoining the ring", JOIN_TOPIC))
        if self.listener is not None:
            with contextlib.suppress(Exception):
                await self.listener.wait_published()  # type: ignore[attr-defined]
        for conn in self.pool.sessions():
            await conn.close("tor restarted")
        with contextlib.suppress(Exception):
            await self.chord.stabilize()
        with contextlib.suppress(Exception):
            await self.chat.publish_presence()

    async def _forward_tor_status(self) -> None:
        while self.tor is None:
            await asyncio.sleep(0.1)
        async for st in self.tor.subscribe():
            self.bus.publish(TorEvent(st.state.value, st.progress, st.summary))
