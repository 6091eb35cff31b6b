"""Chat stacks on the in-memory network under virtual time (the helper of the chat logic tests).

A :class:`ChatNet` runs N nodes, each built as :class:`ohtchat.app.stack.NodeStack` builds one
(a session pool with the real handshake and a method router, Chord, the DHT, ringcast and the
:class:`~ohtchat.chat.service.ChatService`), but on a :class:`MemoryNetwork` inside a
:class:`~ohtchat.sim.loop.VirtualTimeLoop`: every clock reads virtual unix time, every sleep and
timeout is virtual. Hours of heartbeats and mailbox rounds take a fraction of a second, and
nothing depends on how loaded the machine is.

Write a test as a scenario and run it with :func:`simulate`::

    def test_x() -> None:
        async def scenario(net: ChatNet) -> None:
            alice, bob = await net.ring("alice", "bob")
            ...
        simulate(scenario)

On virtual time a test moves the clock on purpose (:meth:`ChatNet.advance`) or waits for a
condition the nodes reach by themselves (:meth:`ChatNet.until`, bounded in virtual seconds).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from ohtchat.api.bus import EventBus
from ohtchat.api.events import NodeEvent
from ohtchat.chat.accounts import LocalAccount
from ohtchat.chat.devices import device_key
from ohtchat.chat.presence import parse_presence
from ohtchat.chat.service import METHODS as CHAT_METHODS
from ohtchat.chat.service import ChatService
from ohtchat.chat.tasks import Background
from ohtchat.chord.config import ChordConfig
from ohtchat.chord.errors import ChordError
from ohtchat.chord.node import ChordNode
from ohtchat.chord.rpc import METHODS as CHORD_METHODS
from ohtchat.chord.rpc import PeerRef
from ohtchat.chord.service import ChordService
from ohtchat.chord.session_client import SessionChordClient, serve_methods
from ohtchat.crypto import kem
from ohtchat.crypto.keys import AccountKey, NodeKey
from ohtchat.dht.config import DhtConfig
from ohtchat.dht.node import METHODS as DHT_METHODS
from ohtchat.dht.node import Dht
from ohtchat.dht.replicas import StoreReplicas
from ohtchat.ringcast.node import METHODS as RINGCAST_METHODS
from ohtchat.ringcast.node import Ringcast
from ohtchat.session.pool import SessionPool
from ohtchat.session.router import Router
from ohtchat.sim.loop import run_virtual
from ohtchat.store import Store
from ohtchat.transport.memory import MemoryNetwork

T = TypeVar("T")

#: Virtual unix time at loop time 0 (certificates, records and messages carry unix times).
BASE = 1_700_000_000.0
#: The ring layers with a node's default timers (a virtual hour costs little wall time).
CHORD = ChordConfig(successors=4, rpc_timeout=5.0, lookup_timeout=30.0)
DHT = DhtConfig(rpc_timeout=5.0, maintain_interval=30.0)
#: One-way delay of every write on the memory network, virtual seconds. Zero: with a delay,
#: ``MemoryStream`` schedules each write with ``call_later``, and writes due at the same
#: instant may be delivered out of order (the session then closes: "frame counter out of
#: order"); without one, every write is delivered at once, in order.
LATENCY = 0.0
#: Chat timers as a node runs them by default (``NodeOptions``).
HEARTBEAT = 30.0
MAILBOX = 60.0
DELIVER_TIMEOUT = 20.0
#: Pause between attempts to join the ring (``NodeOptions.join_retry``), and how many.
JOIN_RETRY = 10.0
JOIN_ATTEMPTS = 30
#: How long, in virtual seconds, :meth:`ChatNet.until` waits before failing the test.
WITHIN = 600.0


def clock() -> float:
    """Unix seconds on the running virtual loop."""
    return BASE + asyncio.get_running_loop().time()


class RecordingBus(EventBus):
    """An event bus that also keeps every event it published, with its virtual unix time."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[float, NodeEvent]] = []

    def publish(self, event: NodeEvent) -> NodeEvent:
        """Keep ``event``, then publish it."""
        self.seen.append((clock(), event))
        return super().publish(event)

    def of(self, kind: str) -> list[dict[str, Any]]:
        """The data of every event of ``kind`` published so far, in order."""
        return [dict(e.data) for _, e in self.seen if e.kind == kind]

    def times(self, kind: str, **match: Any) -> list[float]:
        """When each event of ``kind`` whose data has the ``match`` values was published."""
        return [
            t
            for t, e in self.seen
            if e.kind == kind and all(e.data.get(k) == v for k, v in match.items())
        ]


@dataclass
class ChatPeer:
    """One node: its account and store (kept across restarts) and its running stack."""

    name: str
    account: LocalAccount
    store: Store
    bus: RecordingBus
    pool: SessionPool
    chord: ChordNode
    ring: ChordService
    dht: Dht
    ringcast: Ringcast
    chat: ChatService
    timers: Background = field(default_factory=Background)
    running: bool = True

    @property
    def id(self) -> str:
        """The account id."""
        return self.account.account_id

    @property
    def address(self) -> str:
        """Where the node listens on the memory network."""
        return self.chord.me.address

    @property
    def onion(self) -> str:
        """The node's onion address (proved in every handshake)."""
        return self.pool.me.onion

    def presences(self, acct_id: str) -> list[str]:
        """The presences announced for ``acct_id``, in order."""
        return [d["presence"] for d in self.bus.of("presence") if d["account_id"] == acct_id]

    def texts(self, conversation: str) -> list[str]:
        """The texts of a conversation, oldest first."""
        return [m.text for m in reversed(self.store.history(conversation, limit=1000))]


class ChatNet:
    """Chat nodes on one memory network, all on the running virtual loop."""

    def __init__(
        self,
        seed: int = 0,
        *,
        heartbeat_interval: float = HEARTBEAT,
        mailbox_interval: float = MAILBOX,
        deliver_timeout: float = DELIVER_TIMEOUT,
        latency: float = LATENCY,
    ) -> None:
        self.rng = random.Random(seed)
        self.net = MemoryNetwork(delay=latency, seed=seed)
        self.heartbeat_interval = heartbeat_interval
        self.mailbox_interval = mailbox_interval
        self.deliver_timeout = deliver_timeout
        self.peers: list[ChatPeer] = []

    # ------------------------------------------------------------------ nodes
    def account(self, name: str) -> LocalAccount:
        """A fresh local account with keys from the net's random source."""
        return LocalAccount(
            name,
            AccountKey(self.rng.randbytes(32)),
            NodeKey(self.rng.randbytes(32)),
            kem.KemKeyPair.generate(),
            clock(),
        )

    async def start(
        self,
        name: str,
        *,
        seed: ChatPeer | None = None,
        account: LocalAccount | None = None,
        store: Store | None = None,
        address: str | None = None,
        timers: bool = True,
    ) -> ChatPeer:
        """Start a node named ``name``: it creates the ring, or joins through ``seed``; then it
        publishes its presence and (``timers``) runs heartbeats and the mailbox pickup like a
        node does. ``account`` and ``store`` restart an earlier node; ``address`` is its memory
        address (default: its name)."""
        account = account or self.account(name)
        store = store or Store.memory()
        identity = account.identity(int(clock()))
        router = Router()
        where = address or name
        pool = SessionPool(self.net.transport(where), identity, router, now=clock)
        listener = await pool.listen(where)
        pool.advertise = listener.address
        me = PeerRef(identity.node_id, identity.onion, listener.address)
        rng = random.Random(self.rng.random())
        chord = ChordNode(me, SessionChordClient(pool), CHORD, rng=rng)
        ring = ChordService(chord, [seed.address] if seed else [])
        dht = Dht(chord, account.key, StoreReplicas(store), DHT, clock=clock, rng=rng)
        bus = RecordingBus()
        chat = ChatService(
            account,
            store,
            pool,
            dht,
            bus,
            advertise=listener.address,
            now=clock,
            sleep=asyncio.sleep,
            deliver_timeout=self.deliver_timeout,
            heartbeat_interval=self.heartbeat_interval,
        )
        cast = Ringcast(
            chord, account.key, certificate=identity.cert, on_deliver=chat.on_ringcast, clock=clock
        )
        serve_methods(router, pool, CHORD_METHODS, chord.handle)
        serve_methods(router, pool, DHT_METHODS, dht.handle)
        serve_methods(router, pool, RINGCAST_METHODS, cast.handle)
        router.add(CHAT_METHODS, chat.handle_rpc)
        peer = ChatPeer(name, account, store, bus, pool, chord, ring, dht, cast, chat)
        await self._join(peer, seed)
        dht.start()
        await chat.publish_presence()
        if timers:
            peer.timers.spawn(chat.heartbeat_loop())
            peer.timers.spawn(self._pickup_loop(peer))
        self.peers.append(peer)
        return peer

    async def _join(self, peer: ChatPeer, seed: ChatPeer | None) -> None:
        """Create the ring, or join it through ``seed``, retrying as a node does (a joiner
        can meet routing state that still names a node that just left)."""
        if seed is None:
            await peer.ring.create()
            return
        for _ in range(JOIN_ATTEMPTS - 1):
            try:
                await peer.ring.connect()
                return
            except (ChordError, OSError):
                await asyncio.sleep(JOIN_RETRY)
        await peer.ring.connect()

    async def _pickup_loop(self, peer: ChatPeer) -> None:
        """The node's mailbox pickup: now, then every ``mailbox_interval``."""
        while True:
            with contextlib.suppress(Exception):  # the DHT may be briefly unreachable
                await peer.chat.drain_mailbox()
            await asyncio.sleep(self.mailbox_interval)

    async def ring(self, *names: str, timers: bool = True) -> list[ChatPeer]:
        """Start one node per name (the first creates the ring) and :meth:`settle`."""
        first = await self.start(names[0], timers=timers)
        nodes = [first]
        for name in names[1:]:
            nodes.append(await self.start(name, seed=first, timers=timers))
        await self.settle()
        return nodes

    async def stop(self, peer: ChatPeer) -> None:
        """Stop a node as a node stops: leave the ring, close every session."""
        if not peer.running:
            return
        peer.running = False
        await peer.timers.stop()
        if peer.chord.member:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(peer.chord.leave(), 5.0)
        await peer.chat.stop()
        await peer.dht.stop()
        await peer.ringcast.stop()
        await peer.chord.stop()
        await peer.pool.close()

    async def restart(
        self, peer: ChatPeer, seed: ChatPeer, *, new_onion: bool = False, timers: bool = True
    ) -> ChatPeer:
        """Start a stopped node again with its account and store, joining through ``seed``: at
        its address, or (``new_onion``, as ``/newonions`` does) with a new node key at a new
        address."""
        self.peers.remove(peer)
        account, address = peer.account, peer.address
        if new_onion:
            account = replace(account, node_key=NodeKey(self.rng.randbytes(32)))
            address = f"{address}+"
        return await self.start(
            peer.name,
            seed=seed,
            account=account,
            store=peer.store,
            address=address,
            timers=timers,
        )

    def live(self) -> list[ChatPeer]:
        """The running nodes."""
        return [p for p in self.peers if p.running]

    async def stop_all(self) -> None:
        """Stop every running node."""
        for p in self.live():
            await self.stop(p)

    # ------------------------------------------------------------------ time
    async def advance(self, seconds: float) -> None:
        """Let ``seconds`` of virtual time pass (every node's timers run meanwhile)."""
        await asyncio.sleep(seconds)

    async def until(
        self,
        check: Callable[[], Any],
        what: str,
        within: float = WITHIN,
        step: float = 0.5,
    ) -> Any:
        """Let virtual time pass in ``step``s until ``check()`` (sync or async) is truthy, and
        return it; fail naming ``what`` after ``within`` virtual seconds."""
        loop = asyncio.get_running_loop()
        end = loop.time() + within
        last: object = None
        while True:
            try:
                value = check()
                if asyncio.iscoroutine(value):
                    value = await value
                if value:
                    return value
                last = value
            except (AssertionError, LookupError) as err:
                last = err
            if loop.time() >= end:
                raise AssertionError(f"{what}: not reached in {within:g} virtual s ({last!r})")
            await asyncio.sleep(step)

    # ------------------------------------------------------------------ ring state
    def ring_problems(self) -> list[str]:
        """How the ring of the running nodes differs from the exact one (empty when exact)."""
        nodes = self.live()
        ids = sorted(p.chord.me.id for p in nodes)
        problems = []
        for p in nodes:
            i = ids.index(p.chord.me.id)
            count = len(ids)
            want = [ids[(i + k) % count] for k in range(1, min(CHORD.successors, count - 1) + 1)]
            pred = p.chord.state.predecessor
            if not p.chord.member:
                problems.append(f"{p.name}: not a member")
            elif [s.id for s in p.chord.state.successors] != want:
                problems.append(f"{p.name}: successors not exact")
            elif (pred.id if pred else None) != (ids[i - 1] if count > 1 else None):
                problems.append(f"{p.name}: predecessor not exact")
        return problems

    async def finds(self, reader: ChatPeer, peer: ChatPeer) -> bool:
        """Whether ``reader`` finds ``peer``'s device presence (naming its onion) in the DHT
        now (the device's own record: several devices of one account share ``presence:``)."""
        try:
            record = await reader.dht.get(device_key(peer.id, peer.account.node_key.public))
        except Exception:  # the DHT's own errors (unavailable, ...): not found yet
            return False
        if record is None:
            return False
        found = parse_presence(peer.id, record.owner, record.value, clock())
        return found.onion == peer.onion

    async def settle(self) -> None:
        """Until the ring of the running nodes is exact; then republish every presence (so
        each record is on its true holders) and until every node finds every other one."""
        await self.until(lambda: not self.ring_problems(), "an exact ring")
        nodes = self.live()
        for p in nodes:
            await p.chat.publish_presence()
        for a in nodes:
            for b in nodes:
                if a is not b:
                    await self.until(lambda a=a, b=b: self.finds(a, b), f"{a.name} finds {b.name}")


def simulate(scenario: Callable[[ChatNet], Awaitable[T]], seed: int = 0, **options: Any) -> T:
    """Run ``scenario`` on a fresh :class:`ChatNet` (``options`` for it) on a virtual-time loop;
    every node is stopped afterwards."""

    async def main() -> T:
        net = ChatNet(seed, **options)
        try:
            return await scenario(net)
        finally:
            await net.stop_all()

    return run_virtual(main())
