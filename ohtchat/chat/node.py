"""A running ohtchat node: store, identity, transport, sessions, ring, DHT, ringcast, chat.

:class:`ChatNode` is the in-process :class:`~ohtchat.api.backend.Backend`: the TUI, the headless
``--serve`` daemon and the tests drive it through ``execute(line)`` and ``events()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import tempfile
import time
from collections.abc import AsyncIterator
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from ohtchat.api.bus import EventBus
from ohtchat.api.constants import JOIN_TOPIC
from ohtchat.api.events import LogEvent, NodeEvent, RingEvent, StatusEvent
from ohtchat.api.ops import Operation, SendText
from ohtchat.api.results import CommandResult
from ohtchat.api.views import PeerView, StatusView, TorView
from ohtchat.chat.accounts import Accounts, LocalAccount
from ohtchat.chat.options import RINGCAST_CONVERSATION, NodeError, NodeOptions, open_store
from ohtchat.chat.service import METHODS as CHAT_METHODS
from ohtchat.chat.service import ChatService
from ohtchat.chat.tor_support import TorSupport
from ohtchat.chord.errors import ChordError
from ohtchat.chord.node import ChordNode
from ohtchat.chord.rpc import PeerRef
from ohtchat.chord.service import ChordService
from ohtchat.chord.session_client import SessionChordClient, serve_methods
from ohtchat.commands.dispatch import Dispatcher
from ohtchat.commands.parser import Command, PlainText
from ohtchat.config import Config
from ohtchat.dht.node import METHODS as DHT_METHODS
from ohtchat.dht.node import Dht
from ohtchat.dht.replicas import StoreReplicas
from ohtchat.ringcast.message import Broadcast
from ohtchat.ringcast.node import METHODS as RINGCAST_METHODS
from ohtchat.ringcast.node import Ringcast
from ohtchat.session.identity import NodeIdentity
from ohtchat.session.pool import SessionPool
from ohtchat.session.router import Router
from ohtchat.store import Store
from ohtchat.transport.base import Listener, Transport
from ohtchat.transport.tcp import TcpTransport
from ohtchat.wire.envelope import pack, unpack

log = logging.getLogger(__name__)

#: The conversation plain text goes to, for the command being run (see ``execute``).
_CONVERSATION: ContextVar[str | None] = ContextVar("ohtchat_conversation", default=None)

#: Where the verified peers of the last run are kept (msgpack list of {id, onion, addr}).
PEER_CACHE_SETTING = "ring.peers"

__all__ = ["RINGCAST_CONVERSATION", "ChatNode", "NodeError", "NodeOptions"]


class ChatNode(TorSupport):
    """One node. Create with :meth:`start`; stop with :meth:`stop`."""

    def __init__(self, options: NodeOptions, store: Store, config: Config) -> None:
        self.options = options
        self.store = store
        self.config = config
        self.bus = EventBus()
        self.accounts = Accounts(store)
        self.account: LocalAccount = self.accounts.active()
        self.identity: NodeIdentity = self.account.identity(int(time.time()))
        self.router = Router()
        self.dispatcher = Dispatcher()
        from ohtchat.chat.handlers import register_all

        register_all(self)
        self.tor: Any = None  # ohtchat.tor.process.TorProcess when on onions
        self.monitor: Any = None  # ohtchat.tor.monitor.TorMonitor for a tor we launched
        self.listener: Listener | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._stack_tasks: set[asyncio.Task[Any]] = set()
        self._socket_dir = Path(tempfile.mkdtemp(prefix="oht-sock-"))  # unix paths are short
        self._joined = asyncio.Event()
        self._announced = asyncio.Event()  # our presence was published after the last join
        self._stopped = False
        self.started_at = time.time()
        # Set up by _start_network:
        self.pool: SessionPool
        self.chord: ChordNode
        self.ring: ChordService
        self.dht: Dht
        self.ringcast: Ringcast
        self.chat: ChatService

    # ------------------------------------------------------------------ life cycle
    @classmethod
    async def start(cls, options: NodeOptions, passphrase: str = "") -> ChatNode:
        """Open (or create) the store, unlock the account, start networking and join."""
        store = open_store(options, passphrase)
        try:
            config = (
                Config.load(options.data_dir)
                if options.data_dir and not options.memory
                else Config(Path("config.toml"))
            )
            accounts = Accounts(store)
            if not accounts.all():
                if not (options.create_if_missing or options.memory):
                    raise NodeError("no account in this data directory: pass --name to create one")
                accounts.generate(options.name or "anonymous")
            node = cls(options, store, config)
            await node._start_network()
        except BaseException:
            store.close()
            raise
        return node

    async def _start_network(self) -> None:
        await self._start_stack(await self._transport(), self.options.bootstrap)

    async def _start_stack(self, transport: Transport, bootstrap: list[str]) -> None:
        """Sessions, ring, DHT, ringcast and chat for the current identity, then join."""
        self.router = Router()
        idle = self.options.session_idle_timeout
        self.pool = SessionPool(transport, self.identity, self.router, idle_timeout=idle)
        self.listener = await self.pool.listen(self._listen_address())
        advertise = (
            self.identity.onion if self.options.transport == "onion" else self.listener.address
        )
        self.pool.advertise = None if self.options.transport == "onion" else advertise
        me = PeerRef(self.identity.node_id, self.identity.onion, advertise)
        self.chord = ChordNode(me, SessionChordClient(self.pool), self.options.chord)
        self._spawn(self.pool.sweep_idle(self.chord.neighbour_onions, idle / 4), stack=True)
        self._load_peer_cache()
        self.ring = ChordService(self.chord, [*bootstrap, *self._configured_bootstrap()])
        self.dht = Dht(self.chord, self.account.key, StoreReplicas(self.store), self.options.dht)
        self.ringcast = Ringcast(
            self.chord,
            self.account.key,
            certificate=self.identity.cert,
            on_deliver=self._deliver_ringcast,
        )
        self.chat = ChatService(
            self.account,
            self.store,
            self.pool,
            self.dht,
            self.bus,
            advertise=advertise,
            deliver_timeout=self.options.deliver_timeout,
            heartbeat_interval=self.options.heartbeat_interval,
        )
        serve_methods(self.router, self.pool, self.chord_methods(), self.chord.handle)
        serve_methods(self.router, self.pool, DHT_METHODS, self.dht.handle)
        serve_methods(self.router, self.pool, RINGCAST_METHODS, self.ringcast.handle)
        self.router.add(CHAT_METHODS, self.chat.handle_rpc)
        self._spawn(self._join_loop(), stack=True)

    @staticmethod
    def chord_methods() -> tuple[str, ...]:
        """The Chord methods served (from the chord layer)."""
        from ohtchat.chord.rpc import METHODS

        return METHODS

    async def _transport(self) -> Transport:
        kind = self.options.transport
        if kind == "tcp":
            return TcpTransport()
        if kind == "memory":
            if self.options.memory_network is None:
                raise NodeError("the memory transport needs a MemoryNetwork")
            return self.options.memory_network.transport()
        if kind == "onion":
            return await self._start_tor()
        raise NodeError(f"unknown transport {kind!r} (onion, tcp)")

    def _listen_address(self) -> str | None:
        if self.options.transport == "tcp":
            return self.options.listen or "127.0.0.1:0"
        if self.options.transport == "memory":
            return self.options.listen
        return None

    async def _join_loop(self) -> None:
        """Publish the onion service (onion mode), join or create the ring, then run chat timers."""
        if self.options.transport == "onion" and self.listener is not None:
            await self.listener.wait_published()  # type: ignore[attr-defined]
        while not self._stopped and not self.chord.member:
            try:
                if self.ring.bootstrap or self.chord.peer_cache.peers():
                    await self.ring.connect()
                else:
                    await self.ring.create()
            except (ChordError, OSError) as exc:
                self.bus.publish(LogEvent("warning", f"joining the ring failed: {exc}", JOIN_TOPIC))
                await asyncio.sleep(self.options.join_retry)
        self.dht.start()
        self._joined.set()
        self._publish_ring()
        self._spawn(self._after_join(), stack=True)

    async def _after_join(self) -> None:
        with contextlib.suppress(Exception):
            await self.chat.publish_presence()
        self._announced.set()
        with contextlib.suppress(Exception):  # first come: the name may already be taken
            await self.chat.claim_handle(self.account.name)
        self._spawn(self.chat.heartbeat_loop(), stack=True)
        self._spawn(self._ring_watch(), stack=True)
        while not self._stopped:
            try:
                await self.chat.drain_mailbox()
            except Exception as exc:  # the DHT may be briefly unreachable; try again later
                log.info("mailbox drain failed: %s", exc)
            await asyncio.sleep(self.options.mailbox_interval)

    async def _ring_watch(self) -> None:
        last: tuple[Any, ...] = ()
        while not self._stopped:
            info = self.ring.info()
            now = (info.successor, info.predecessor, len(self.ring.peers()))
            if now != last:
                last = now
                self._publish_ring()
                self._save_peer_cache()
            await asyncio.sleep(1.0)

    def _configured_bootstrap(self) -> list[str]:
        """``bootstrap = [...]`` from config.toml (CLI --bootstrap comes first)."""
        listed = self.config.get("bootstrap")
        return [a for a in listed if isinstance(a, str)] if isinstance(listed, list) else []

    def _load_peer_cache(self) -> None:
        """Peers that answered in earlier runs: bootstrap candidates when no seed is given."""
        blob = self.store.get_setting(PEER_CACHE_SETTING)
        if isinstance(blob, bytes):
            with contextlib.suppress(Exception):  # a damaged cache only costs a bootstrap hint
                self.chord.peer_cache.load(unpack(blob))

    def _save_peer_cache(self) -> None:
        peers = self.chord.peer_cache.export()
        if peers and not self._stopped:
            self.store.set_setting(PEER_CACHE_SETTING, pack(peers))

    def _publish_ring(self) -> None:
        info = self.ring.info()
        self.bus.publish(
            RingEvent(
                info.member,
                peer_view(info.successor),
                peer_view(info.predecessor),
                len(self.ring.peers()),
            )
        )

    def reload_config(self) -> None:
        """Re-read ``config.toml`` (SIGHUP on a served node)."""
        if self.options.data_dir is not None and not self.options.memory:
            self.config = Config.load(self.options.data_dir)

    async def ready(self, timeout: float = 60.0) -> None:
        """Wait until the node is a ring member."""
        await asyncio.wait_for(self._joined.wait(), timeout)

    def _deliver_ringcast(self, b: Broadcast) -> None:
        self.chat.on_ringcast(b)

    def _spawn(self, coro: Any, stack: bool = False) -> None:
        """Run ``coro`` in the background; ``stack`` tasks end when the stack is rebuilt."""
        task = asyncio.get_running_loop().create_task(coro)
        tasks = self._stack_tasks if stack else self._tasks
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    async def _stop_stack(self) -> None:
        """Leave the ring gracefully and close the sessions of the current identity."""
        for task in list(self._stack_tasks):
            task.cancel()
        await asyncio.gather(*self._stack_tasks, return_exceptions=True)
        if self.chord.member:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.chord.leave(), 5.0)
        await self.chat.stop()
        await self.dht.stop()
        await self.ringcast.stop()
        await self.chord.stop()
        await self.pool.close()
        self._joined.clear()
        self._announced.clear()

    async def rotate_onion(self) -> str:
        """``/newonions``: a new node key, so a new onion address and ring id, certified by the
        account key; leave the ring, rejoin through the peers we knew, republish presence."""
        from dataclasses import replace

        from ohtchat.crypto.keys import NodeKey

        known = [p.address for p in self.ring.peers() if p.onion != self.identity.onion]
        await self._stop_stack()
        self.account = replace(self.account, node_key=NodeKey())
        self.store.put_account(self.account.to_stored())
        self.identity = self.account.identity(int(time.time()))
        transport = self.pool.transport
        if self.options.transport == "onion":
            from ohtchat.transport.onion import OnionTransport

            transport = OnionTransport(
                self.tor, self.identity.node_key, socket_dir=self._socket_dir
            )
        await self._start_stack(transport, [*known, *self.options.bootstrap])
        # Return once the ring knows where we are now (the join loop publishes our presence).
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._announced.wait(), 120)
        self.bus.publish(StatusEvent.of(self.status_view()))
        return self.identity.onion

    async def stop(self) -> None:
        """Leave the ring gracefully, close sessions, stop tor, close the store."""
        if self._stopped:
            return
        with contextlib.suppress(Exception):
            self._save_peer_cache()
        self._stopped = True
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._stop_stack()
        if self.monitor is not None:
            await self.monitor.stop()
        if self.tor is not None:
            with contextlib.suppress(Exception):
                await self.tor.stop()
        self.store.close()

    # ------------------------------------------------------------------ Backend
    async def execute(self, line: str, conversation: str | None = None) -> CommandResult:
        """Run one console line; plain text goes to ``conversation``.

        The conversation is per call (a context variable), so clients of one served node
        running commands at the same time never see each other's open conversation.
        """
        token = _CONVERSATION.set(conversation)
        try:
            return await self.dispatcher.execute(line)
        finally:
            _CONVERSATION.reset(token)

    async def call(self, op: Operation) -> CommandResult:
        """Run one typed operation."""
        if isinstance(op, SendText):
            token = _CONVERSATION.set(op.conversation)
            try:
                return await self.dispatcher.dispatch(PlainText(op.text))
            finally:
                _CONVERSATION.reset(token)
        return await self.dispatcher.dispatch(Command(op.command_name, op.args()))

    def events(self) -> AsyncIterator[NodeEvent]:
        """The node's events from now on."""
        return self.bus.subscribe()

    async def complete(self, line: str, cursor: int) -> list[str]:
        """Tab completion of commands, contacts, channels, accounts and config keys."""
        from ohtchat.chat.handlers import completions
        from ohtchat.commands import complete

        return complete(line, cursor, completions(self))

    def status_view(self) -> StatusView:
        """Who and where this node is, and whether it is on the ring (``/status``)."""
        info = self.ring.info()
        tor = TorView()
        if self.tor is not None:
            st = self.tor.status
            tor = TorView(st.state.value, st.progress, st.summary)
        return StatusView(
            account_id=self.account.account_id,
            name=self.account.name,
            onion=self.identity.onion,
            node_id=f"{self.identity.node_id:064x}",
            address=self.chord.me.address,
            transport=self.options.transport,
            member=info.member,
            successor=peer_view(info.successor),
            predecessor=peer_view(info.predecessor),
            peers=len(self.ring.peers()),
            tor=tor,
        )

    @property
    def current_conversation(self) -> str | None:
        """The conversation of the :meth:`execute` call being handled."""
        return _CONVERSATION.get()


def peer_view(p: PeerRef | None) -> PeerView | None:
    """A ring peer as UIs see it."""
    return None if p is None else PeerView(f"{p.id:064x}", p.onion, p.address)
