"""One identity's network stack: sessions, ring, DHT, ringcast and chat, as one unit.

A :class:`NodeStack` is built for one node identity on one transport, joins the ring, runs
the timers of its layers and stops as a whole. ``/newonions`` stops the stack and starts the
next one for the new identity; nothing holds a piece of an old stack, because handlers get
the current stack with each call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ohtchat.api.bus import EventBus
from ohtchat.api.constants import JOIN_TOPIC
from ohtchat.api.events import LogEvent, RingEvent
from ohtchat.api.views import PeerView
from ohtchat.app.options import NodeOptions
from ohtchat.app.transfers import OfferItems, OfferSender, locator
from ohtchat.chat.accounts import LocalAccount
from ohtchat.chat.history import HISTORY_METHODS, DeviceHistory
from ohtchat.chat.service import METHODS as CHAT_METHODS
from ohtchat.chat.service import ChatService
from ohtchat.chord.errors import ChordError
from ohtchat.chord.node import ChordNode
from ohtchat.chord.rpc import METHODS as CHORD_METHODS
from ohtchat.chord.rpc import PeerRef
from ohtchat.chord.service import ChordService
from ohtchat.chord.session_client import SessionChordClient, serve_methods
from ohtchat.dht.node import METHODS as DHT_METHODS
from ohtchat.dht.node import Dht
from ohtchat.dht.replicas import StoreReplicas
from ohtchat.files.ports import FileSettings
from ohtchat.files.protocol import METHODS as FILE_METHODS
from ohtchat.files.service import FileTransfers
from ohtchat.ringcast.node import METHODS as RINGCAST_METHODS
from ohtchat.ringcast.node import Ringcast
from ohtchat.session.identity import NodeIdentity
from ohtchat.session.pool import SessionPool
from ohtchat.session.router import Router
from ohtchat.session.rpc import Handler, RpcError
from ohtchat.store import Store
from ohtchat.transport.base import Listener, Transport
from ohtchat.wire.envelope import pack, unpack

log = logging.getLogger(__name__)

#: Where the verified peers of the last run are kept (msgpack list of {id, onion, addr}).
PEER_CACHE_SETTING = "ring.peers"


#: The device-linking methods (served by ohtchat.app.linking.LinkHost; docs/protocol.md).
LINK_METHODS = ("link_request", "link_fetch")


async def _no_linking(peer: Any, method: str, params: Any) -> dict[str, Any]:
    raise RpcError("link_none", "no link code is pending on this device")


def peer_view(p: PeerRef | None) -> PeerView | None:
    """A ring peer as UIs see it."""
    return None if p is None else PeerView(f"{p.id:064x}", p.onion, p.address)


@dataclass(frozen=True)
class StackSpec:
    """What a stack is built from: the node's options, store and event bus, the account and
    node identity it runs as, and the addresses to join through."""

    options: NodeOptions
    store: Store
    bus: EventBus
    account: LocalAccount
    identity: NodeIdentity
    bootstrap: tuple[str, ...]
    #: The file settings now in force (read at each use: ``/set`` applies at once).
    file_settings: Callable[[], FileSettings] = lambda: FileSettings(Path("downloads"))
    #: Serves ``link_request`` / ``link_fetch`` (the node's LinkHost; refused without one).
    link_handler: Handler | None = None


class NodeStack:
    """The running layers of one identity. Build with :meth:`start`; end with :meth:`stop`."""

    def __init__(self, spec: StackSpec, pool: SessionPool, listener: Listener) -> None:
        self.spec = spec
        self.pool = pool
        self.listener = listener
        opts, identity = spec.options, spec.identity
        onion = opts.transport == "onion"
        self.advertise = identity.onion if onion else listener.address
        pool.advertise = None if onion else self.advertise
        me = PeerRef(identity.node_id, identity.onion, self.advertise)
        self.chord = ChordNode(me, SessionChordClient(pool), opts.chord)
        self.ring = ChordService(self.chord, list(spec.bootstrap))
        self.dht = Dht(self.chord, spec.account.key, StoreReplicas(spec.store), opts.dht)
        self.chat = ChatService(
            spec.account,
            spec.store,
            pool,
            self.dht,
            spec.bus,
            advertise=self.advertise,
            now=time.time,
            sleep=asyncio.sleep,
            deliver_timeout=opts.deliver_timeout,
            heartbeat_interval=opts.heartbeat_interval,
        )
        #: File transfers of this identity's account (offers travel as chat items).
        self.files = FileTransfers(
            spec.account.account_id,
            spec.store,
            spec.bus,
            requester=pool,
            locate=locator(self.chat),
            send_offer=OfferSender(self.chat),
            settings=spec.file_settings,
            now=time.time,
            sleep=asyncio.sleep,
        )
        self.chat.inbox.files = OfferItems(self.files)
        #: History transfer to and from our other devices (over their E2E sessions).
        self.history = DeviceHistory(
            spec.store,
            requester=pool,
            is_own_device=lambda peer: self.chat.devices.is_own_device(peer),
            bus=spec.bus,
        )
        self.ringcast = Ringcast(
            self.chord,
            spec.account.key,
            certificate=identity.cert,
            on_deliver=self.chat.on_ringcast,
        )
        self.joined = asyncio.Event()  # a ring member (set once per stack)
        self.announced = asyncio.Event()  # our presence was published after joining
        self._tasks: set[asyncio.Task[Any]] = set()
        self._stopped = False

    @classmethod
    async def start(cls, spec: StackSpec, transport: Transport, listen: str | None) -> NodeStack:
        """Listen on ``transport`` (at ``listen``, when the transport takes an address), serve
        every layer's methods and start joining the ring (in the background: see
        :attr:`joined`)."""
        router = Router()
        idle = spec.options.session_idle_timeout
        pool = SessionPool(transport, spec.identity, router, idle_timeout=idle)
        listener = await pool.listen(listen)
        stack = cls(spec, pool, listener)
        stack._load_peer_cache()
        serve_methods(router, pool, CHORD_METHODS, stack.chord.handle)
        serve_methods(router, pool, DHT_METHODS, stack.dht.handle)
        serve_methods(router, pool, RINGCAST_METHODS, stack.ringcast.handle)
        router.add(CHAT_METHODS, stack.chat.handle_rpc)
        router.add(FILE_METHODS, stack.files.handle_rpc)
        router.add(LINK_METHODS, spec.link_handler or _no_linking)
        router.add(HISTORY_METHODS, stack.history.handle_rpc)
        stack.files.start()
        # Idle sessions close; the ring's neighbours and fingers (bounded) are kept warm on
        # purpose, with a one-way ``ping`` when quiet so the peer's sweep keeps them too.
        keep = stack.chord.neighbour_onions
        stack.spawn(pool.sweep_idle(keep, idle / 4, keepalive="ping"))
        stack.spawn(stack._join_loop())
        return stack

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run ``coro`` until the stack stops."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _join_loop(self) -> None:
        """Publish the onion service (onion mode), join or create the ring, then run chat timers."""
        opts = self.spec.options
        if opts.transport == "onion":
            await self.listener.wait_published()  # type: ignore[attr-defined]
        while not self._stopped and not self.chord.member:
            try:
                if self.ring.bootstrap or self.chord.peer_cache.peers():
                    await self.ring.connect()
                else:
                    await self.ring.create()
            except (ChordError, OSError) as exc:
                event = LogEvent("warning", f"joining the ring failed: {exc}", JOIN_TOPIC)
                self.spec.bus.publish(event)
                await asyncio.sleep(opts.join_retry)
        self.dht.start()
        self.joined.set()
        self.publish_ring()
        self.spawn(self._after_join())

    async def _after_join(self) -> None:
        with contextlib.suppress(Exception):
            await self.chat.publish_presence()
        self.announced.set()
        with contextlib.suppress(Exception):  # first come: the name may already be taken
            await self.chat.claim_handle(self.spec.account.name)
        self.spawn(self.chat.heartbeat_loop())
        self.spawn(self._ring_watch())
        while not self._stopped:
            try:
                await self.chat.drain_mailbox()
            except Exception as exc:  # the DHT may be briefly unreachable; try again later
                log.info("mailbox drain failed: %s", exc)
            await asyncio.sleep(self.spec.options.mailbox_interval)

    async def _ring_watch(self) -> None:
        last: tuple[Any, ...] = ()
        while not self._stopped:
            info = self.ring.info()
            now = (info.successor, info.predecessor, len(self.ring.peers()))
            if now != last:
                last = now
                self.publish_ring()
                self.save_peer_cache()
            await asyncio.sleep(1.0)

    def publish_ring(self) -> None:
        """Tell the UIs where the node is on the ring."""
        info = self.ring.info()
        succ, pred = peer_view(info.successor), peer_view(info.predecessor)
        self.spec.bus.publish(RingEvent(info.member, succ, pred, len(self.ring.peers())))

    def _load_peer_cache(self) -> None:
        """Peers that answered in earlier runs: bootstrap candidates when no seed is given."""
        blob = self.spec.store.get_setting(PEER_CACHE_SETTING)
        if isinstance(blob, bytes):
            with contextlib.suppress(Exception):  # a damaged cache only costs a bootstrap hint
                self.chord.peer_cache.load(unpack(blob))

    def save_peer_cache(self) -> None:
        """Keep the verified peers for the next run."""
        peers = self.chord.peer_cache.export()
        if peers and not self._stopped:
            self.spec.store.set_setting(PEER_CACHE_SETTING, pack(peers))

    def known_addresses(self) -> list[str]:
        """Addresses of the peers this stack knows (to rejoin through after ``/newonions``)."""
        mine = self.spec.identity.onion
        return [p.address for p in self.ring.peers() if p.onion != mine]

    async def stop(self) -> None:
        """Leave the ring gracefully and close every session of this identity."""
        with contextlib.suppress(Exception):
            self.save_peer_cache()
        self._stopped = True
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.chord.member:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.chord.leave(), 5.0)
        await self.files.stop()
        await self.chat.stop()
        await self.dht.stop()
        await self.ringcast.stop()
        await self.chord.stop()
        await self.pool.close()
