"""A running ohtchat node: store, identity, transport, sessions, ring, DHT, ringcast, chat.

:class:`ChatNode` is the in-process :class:`~ohtchat.api.backend.Backend`: the TUI, the headless
``--serve`` daemon and the tests drive it through ``call(op)``, ``execute(line, conversation)``
and ``events()``. Each call runs its operation's handler (:mod:`ohtchat.app.handlers`) with a
:class:`~ohtchat.app.handlers.context.Context` made for that call: the current stack and the
conversation the caller has open.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path

from ohtchat.api.bus import EventBus
from ohtchat.api.events import NodeEvent, StatusEvent
from ohtchat.api.ops import Operation, SendText
from ohtchat.api.results import CommandResult
from ohtchat.api.views import StatusView, TorView
from ohtchat.app.completion import NodeCompletions
from ohtchat.app.dispatch import Dispatcher
from ohtchat.app.handlers import TABLES
from ohtchat.app.handlers.context import Context
from ohtchat.app.linking import LinkHost
from ohtchat.app.linking_bundle import Bundle
from ohtchat.app.options import NodeError, NodeOptions, open_store
from ohtchat.app.stack import NodeStack, StackSpec, peer_view
from ohtchat.app.tor import TorController
from ohtchat.app.transfers import file_settings
from ohtchat.chat.accounts import ACTIVE, Accounts, LocalAccount
from ohtchat.chat.devices import keep_device_list
from ohtchat.chat.service import ChatService
from ohtchat.chord.node import ChordNode
from ohtchat.chord.service import ChordService
from ohtchat.commands.complete import complete
from ohtchat.config import Config
from ohtchat.crypto.keys import NodeKey
from ohtchat.dht.node import Dht
from ohtchat.ringcast.node import Ringcast
from ohtchat.session.identity import NodeIdentity
from ohtchat.session.pool import SessionPool
from ohtchat.store import Store
from ohtchat.transport.base import Listener, Transport
from ohtchat.transport.tcp import TcpTransport

log = logging.getLogger(__name__)

__all__ = ["ChatNode", "NodeError", "NodeOptions"]


class ChatNode:
    """One node. Create with :meth:`start`; stop with :meth:`stop`."""

    def __init__(self, options: NodeOptions, store: Store, config: Config) -> None:
        self.options = options
        self.store = store
        self.config = config
        self.bus = EventBus()
        self.accounts = Accounts(store)
        self.account: LocalAccount = self.accounts.active()
        self.identity: NodeIdentity = self.account.identity(int(time.time()))
        #: Every operation's handler; ``/webui`` is added by the layer that serves it.
        self.dispatcher: Dispatcher[Context] = Dispatcher(*TABLES)
        self.tor: TorController | None = None  # when the node runs on onions
        #: ``/link`` on this device: the pending code and the device answering it.
        self.linking = LinkHost(self.bus.publish)
        self.stack: NodeStack  # set by start, replaced by rotate_onion
        self._stopped = False
        self.started_at = time.time()

    # The current stack's layers (handlers read them per call: /newonions replaces the stack).
    @property
    def pool(self) -> SessionPool:
        """The session pool of the current stack."""
        return self.stack.pool

    @property
    def chord(self) -> ChordNode:
        """The Chord node of the current stack."""
        return self.stack.chord

    @property
    def ring(self) -> ChordService:
        """The ring operations of the current stack."""
        return self.stack.ring

    @property
    def dht(self) -> Dht:
        """The DHT of the current stack."""
        return self.stack.dht

    @property
    def ringcast(self) -> Ringcast:
        """Ringcast of the current stack."""
        return self.stack.ringcast

    @property
    def chat(self) -> ChatService:
        """The chat service of the current stack."""
        return self.stack.chat

    @property
    def listener(self) -> Listener:
        """Where the current stack accepts sessions."""
        return self.stack.listener

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
            try:
                node.stack = await node._start_stack(await node._transport(), ())
            except BaseException:
                if node.tor is not None:
                    await node.tor.close()
                raise
        except BaseException:
            store.close()
            raise
        return node

    async def _start_stack(self, transport: Transport, known: tuple[str, ...]) -> NodeStack:
        """The stack of the current identity on ``transport``; it joins in the background."""
        bootstrap = (*known, *self.options.bootstrap, *self._configured_bootstrap())
        spec = StackSpec(
            self.options,
            self.store,
            self.bus,
            self.account,
            self.identity,
            bootstrap,
            lambda: file_settings(self.config, self.options),
            link_handler=self.linking.handle_rpc,
        )
        return await NodeStack.start(spec, transport, self._listen_address())

    async def _transport(self) -> Transport:
        kind = self.options.transport
        if kind == "tcp":
            return TcpTransport()
        if kind == "memory":
            if self.options.memory_network is None:
                raise NodeError("the memory transport needs a MemoryNetwork")
            return self.options.memory_network.transport()
        if kind == "onion":
            self.tor = TorController(self.options, self.bus, self._tor_restarted)
            await self.tor.start()
            return self.tor.transport(self.identity.node_key)
        raise NodeError(f"unknown transport {kind!r} (onion, tcp)")

    def _listen_address(self) -> str | None:
        if self.options.transport == "tcp":
            return self.options.listen or "127.0.0.1:0"
        if self.options.transport == "memory":
            return self.options.listen
        return None

    async def _tor_restarted(self) -> None:
        """Tor came back: sessions through the old tor are dead; republish and rejoin."""
        stack = self.stack
        with contextlib.suppress(Exception):
            await stack.listener.wait_published()  # type: ignore[attr-defined]
        for conn in stack.pool.sessions():
            await conn.close("tor restarted")
        with contextlib.suppress(Exception):
            await stack.chord.stabilize()
        with contextlib.suppress(Exception):
            await stack.chat.publish_presence()

    def _configured_bootstrap(self) -> list[str]:
        """``bootstrap = [...]`` from config.toml (CLI --bootstrap comes first)."""
        listed = self.config.get("bootstrap")
        return [a for a in listed if isinstance(a, str)] if isinstance(listed, list) else []

    def reload_config(self) -> None:
        """Re-read ``config.toml`` (SIGHUP on a served node)."""
        if self.options.data_dir is not None and not self.options.memory:
            self.config = Config.load(self.options.data_dir)

    async def ready(self, timeout: float = 60.0) -> None:
        """Wait until the node is a ring member."""
        await asyncio.wait_for(self.stack.joined.wait(), timeout)

    async def rotate_onion(self) -> NodeIdentity:
        """``/newonions``: a new node key, so a new onion address and ring id, certified by the
        account key; the old stack leaves the ring, a new one joins through the peers the old
        one knew and republishes presence."""
        rotated = replace(self.account, node_key=NodeKey())
        return await self._restart_as(rotated, lambda: self.store.put_account(rotated.to_stored()))

    async def _restart_as(self, account: LocalAccount, change: Callable[[], None]) -> NodeIdentity:
        """Stop the stack, ``change`` the store, and start a new stack as ``account`` (a new
        onion transport when its node key is new), joining through the peers the old stack
        knew; returns once the new one published its presence (or after 120 s)."""
        known = tuple(self.stack.known_addresses())
        transport = self.stack.pool.transport
        await self.stack.stop()
        change()
        moved = account.node_key.public != self.account.node_key.public
        self.account = account
        self.identity = account.identity(int(time.time()))
        if self.tor is not None and moved:
            transport = self.tor.transport(self.identity.node_key)
        self.stack = await self._start_stack(transport, known)
        # Return once the ring knows where we are now (the join loop publishes our presence).
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stack.announced.wait(), 120)
        self.bus.publish(StatusEvent.of(self.status_view()))
        return self.identity

    async def adopt_account(self, adopted: LocalAccount, bundle: Bundle) -> NodeIdentity:
        """After linking: run as the account another device sent (same node key, so the same
        onion address and ring id). The stack stops, the throwaway account is replaced by
        ``adopted`` (made active), the bundle's device list, contacts, channels and settings
        are stored, and a new stack starts on the same transport."""
        old = self.account

        def store_bundle() -> None:
            self.store.put_account(adopted.to_stored())
            self.store.set_setting(ACTIVE, adopted.name)
            if old.name != adopted.name:
                self.store.delete_account(old.name)
            # The list the account signed, so this device never publishes one naming only
            # itself.
            keep_device_list(self.store, bundle.devices)
            for contact in bundle.contacts:
                self.store.put_contact(contact)
            for channel in bundle.channels:
                self.store.put_channel(channel)
            for key, value in bundle.config:
                self.config.set(key, value)
            if bundle.config and self.options.data_dir is not None and not self.options.memory:
                self.config.save()

        return await self._restart_as(adopted, store_bundle)

    async def stop(self) -> None:
        """Leave the ring gracefully, close sessions, stop tor, close the store."""
        if self._stopped:
            return
        self._stopped = True
        await self.stack.stop()
        if self.tor is not None:
            await self.tor.close()
        self.store.close()

    # ------------------------------------------------------------------ Backend
    def context(self, conversation: str | None = None) -> Context:
        """What a handler works with, as it is now: the current stack and configuration, and
        the conversation the caller has open."""
        return Context(
            node=self,
            stack=self.stack,
            store=self.store,
            accounts=self.accounts,
            config=self.config,
            options=self.options,
            tor=self.tor,
            conversation=conversation,
        )

    async def execute(self, line: str, conversation: str | None = None) -> CommandResult:
        """Run one console line; plain text goes to ``conversation`` (per call, so clients of
        one served node typing at the same time never see each other's conversation)."""
        return await self.dispatcher.execute(self.context(conversation), line, conversation)

    async def call(self, op: Operation) -> CommandResult:
        """Run one typed operation."""
        conversation = op.conversation if isinstance(op, SendText) else None
        return await self.dispatcher.call(self.context(conversation), op)

    def events(self) -> AsyncIterator[NodeEvent]:
        """The node's events from now on."""
        return self.bus.subscribe()

    async def complete(self, line: str, cursor: int) -> list[str]:
        """Tab completion of commands, contacts, channels, accounts and config keys."""
        return complete(line, cursor, NodeCompletions(self.context()))

    def status_view(self) -> StatusView:
        """Who and where this node is, and whether it is on the ring (``/status``)."""
        info = self.ring.info()
        tor = self.tor.status if self.tor is not None else TorView()
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
