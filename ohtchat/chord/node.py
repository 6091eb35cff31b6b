"""A Chord node: routing state, outgoing calls with timeouts, and the incoming-call dispatcher.

Ring maintenance (Zave's join/stabilize/rectify, fingers, leave) lives in
:mod:`ohtchat.chord.maintenance`; the methods here delegate to it.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

from ohtchat.chord import maintenance, recursive, serving, stabilize
from ohtchat.chord.adaptive import Hints, Pace
from ohtchat.chord.config import ChordConfig
from ohtchat.chord.errors import (
    BadIdentity,
    BadReply,
    BadRequest,
    OutOfRange,
    RpcFailure,
    RpcTimeout,
)
from ohtchat.chord.lookup import LookupResult
from ohtchat.chord.lookup import lookup as _lookup
from ohtchat.chord.metrics import ChordMetrics
from ohtchat.chord.peers import PeerCache
from ohtchat.chord.rpc import (
    GET_PEERS,
    GET_PREDECESSOR,
    GET_SUCCESSOR_LIST,
    PING,
    ChordClient,
    PeerRef,
    WarmthAware,
    check_ordered_from,
    decode_id,
    decode_optional_peer,
    decode_peers,
    reply_field,
)
from ohtchat.chord.state import RoutingState

log = logging.getLogger(__name__)

MAX_PEERS_REPLY = serving.MAX_PEERS_REPLY


class ChordNode:
    """One member (or would-be member) of a Chord ring.

    ``client`` carries outgoing calls; feed incoming ones to :meth:`handle`. ``clock`` and
    ``sleep`` default to the running event loop's (virtual under :mod:`ohtchat.sim`).
    """

    def __init__(
        self,
        me: PeerRef,
        client: ChordClient,
        config: ChordConfig | None = None,
        *,
        rng: random.Random | None = None,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        self.me = me
        self.client = client
        self.config = config or ChordConfig()
        self.rng = rng or random.Random()
        self._clock = clock
        self.sleep: Callable[[float], Awaitable[None]] = sleep or asyncio.sleep
        self.state = RoutingState(me, self.config.successors)
        self.metrics = ChordMetrics()
        self.peer_cache = PeerCache(self.config.peer_cache_size, me.id)
        #: True once this node created or joined a ring (a member in Zave's sense).
        self.member = False
        self.next_finger = 0
        self._suspects: dict[int, float] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._timers: list[asyncio.Task[Any]] = []
        self.rectify_task: asyncio.Task[Any] | None = None
        self.stabilize_lock = asyncio.Lock()
        self.pace = Pace(self.config, self.rng)
        self.hints = Hints(me.id)
        self.gate = recursive.ForwardGate(
            self.config.max_forwards_per_peer, self.config.max_forwards
        )
        self._warm = client.is_warm if isinstance(client, WarmthAware) else None
        self._handlers = serving.handlers(self)

    def __repr__(self) -> str:
        return f"ChordNode({self.me})"

    # ------------------------------------------------------------------ clock
    def now(self) -> float:
        """The node's clock (the event loop's time unless injected)."""
        if self._clock is not None:
            return self._clock()
        return asyncio.get_running_loop().time()

    # ------------------------------------------------------------- bookkeeping
    def suspected(self, peer_id: int) -> bool:
        """True while ``peer_id`` is presumed dead after a failed call."""
        until = self._suspects.get(peer_id)
        if until is None:
            return False
        if until <= self.now():
            del self._suspects[peer_id]
            return False
        return True

    def absolve(self, peer_id: int) -> None:
        """Stop suspecting ``peer_id`` (its call failed with a refusal, not for being dead)."""
        self._suspects.pop(peer_id, None)

    def warm(self, peer: PeerRef) -> bool:
        """True when a call to ``peer`` needs no dial (always, if the client cannot tell)."""
        return self._warm is None or self._warm(peer)

    def warm_peers(self) -> list[PeerRef]:
        """Successors, predecessor and at most ``warm_fingers`` fingers (farthest first): the
        peers whose sessions a node keeps open on purpose (maintenance and lookups use them)."""
        st = self.state
        out = {p.id: p for p in st.successors}
        if st.predecessor is not None:
            out.setdefault(st.predecessor.id, st.predecessor)
        for p in st.fingers()[: self.config.warm_fingers]:
            out.setdefault(p.id, p)
        return list(out.values())

    def neighbour_onions(self) -> set[str]:
        """The onions of :meth:`warm_peers` (the session pool's idle sweep keeps them)."""
        return {p.onion for p in self.warm_peers()}

    def count_bad(self, exc: BadReply) -> None:
        """Count a discarded reply by kind."""
        if isinstance(exc, BadIdentity):
            self.metrics.bad_identities += 1
        elif isinstance(exc, OutOfRange):
            self.metrics.out_of_range += 1
        else:
            self.metrics.bad_replies += 1
        log.debug("%s discarded a reply: %s", self.me, exc)

    def set_predecessor(self, peer: PeerRef | None) -> None:
        """Change the predecessor (counted)."""
        old = self.state.predecessor
        if (old is None) != (peer is None) or (old and peer and old.id != peer.id):
            self.metrics.predecessor_changes += 1
            self.pace.changed()
        self.state.predecessor = None if peer is None or peer.id == self.me.id else peer

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run a background task owned by this node (cancelled by :meth:`stop`)."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def drain(self) -> None:
        """Wait for this node's background tasks (rectify checks, rejoins)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # ----------------------------------------------------------- outgoing calls
    async def rpc(
        self,
        peer: PeerRef,
        method: str,
        params: dict[str, Any],
        timeout: float | None = None,
        *,
        budget: float | None = None,
    ) -> dict[str, Any]:
        """Call ``peer`` with a hard timeout; failures mark it suspected.

        ``timeout`` (default ``rpc_timeout``) is for a call over an open session; a call that
        must dial first gets ``dial_timeout`` more. ``budget`` caps the total.
        """
        t = self.config.rpc_timeout if timeout is None else timeout
        if not self.warm(peer):
            self.metrics.cold_dials += 1
            t += self.config.dial_timeout
        if budget is not None:
            t = min(t, budget)
        self.metrics.rpc_calls += 1
        try:
            async with asyncio.timeout(t):
                reply = await self.client.call(peer, method, params, t)
        except TimeoutError as exc:
            self.metrics.rpc_timeouts += 1
            self._fail(peer)
            raise RpcTimeout(f"{method} to {peer} timed out after {t:g}s") from exc
        except (RpcFailure, OSError, ConnectionError) as exc:
            self.metrics.rpc_failures += 1
            self._fail(peer)
            if isinstance(exc, RpcFailure):
                raise
            raise RpcFailure(f"{method} to {peer}: {exc}") from exc
        if not isinstance(reply, dict):
            raise BadReply("reply must be a map")
        self._suspects.pop(peer.id, None)
        self.peer_cache.confirm(peer)
        return reply

    def _fail(self, peer: PeerRef) -> None:
        self._suspects[peer.id] = self.now() + self.config.suspect_for
        self.peer_cache.forget(peer.id)

    async def ping(self, peer: PeerRef, timeout: float | None = None) -> None:
        """Raise :class:`RpcFailure`/:class:`BadReply` unless ``peer`` answers as itself."""
        reply = await self.rpc(peer, PING, {}, timeout)
        if decode_id(reply_field(reply, "id")) != peer.id:
            raise BadIdentity("field 'id' of the ping reply is another node's id")

    async def get_predecessor(
        self, peer: PeerRef, timeout: float | None = None, *, budget: float | None = None
    ) -> PeerRef | None:
        """``peer``'s predecessor (validated)."""
        reply = await self.rpc(peer, GET_PREDECESSOR, {}, timeout, budget=budget)
        return decode_optional_peer(reply_field(reply, "pred"), "pred")

    async def get_successor_list(self, peer: PeerRef) -> list[PeerRef]:
        """``peer``'s successor list, checked to be ordered clockwise from ``peer``."""
        reply = await self.rpc(peer, GET_SUCCESSOR_LIST, {})
        succs = decode_peers(reply_field(reply, "succs"), name="succs")
        if len(succs) == 1 and succs[0].id == peer.id:
            return []  # a lone node may name itself (it should send an empty list)
        check_ordered_from(peer.id, succs, "succs")
        return succs

    async def get_peers(self, peer: PeerRef, limit: int = MAX_PEERS_REPLY) -> list[PeerRef]:
        """Peer exchange: live peers ``peer`` knows (added to our cache as heard-of)."""
        reply = await self.rpc(peer, GET_PEERS, {"max": limit})
        peers = decode_peers(reply_field(reply, "peers"), limit, "peers")
        self.peer_cache.hear(peers)
        return peers

    async def lookup(self, key: int, start: Sequence[PeerRef] | None = None) -> LookupResult:
        """The live successor of ``key`` (see :mod:`ohtchat.chord.lookup`), recursively when
        configured (:mod:`ohtchat.chord.recursive`)."""
        if self.config.recursive and start is None:
            return await recursive.recursive_lookup(self, key)
        return await _lookup(self, key, start)

    # ------------------------------------------------------------- ring ops
    def create(self) -> None:
        """Start a new ring with this node alone in it."""
        maintenance.create(self)

    async def join(self, via: PeerRef) -> None:
        """Join the ring ``via`` is a member of."""
        await maintenance.join(self, via)

    async def join_any(self, candidates: Sequence[PeerRef | str]) -> PeerRef:
        """Join through the first candidate (reference or address) that works."""
        return await maintenance.join_any(self, candidates)

    async def stabilize(self) -> None:
        """One round of Zave's stabilize (with the additions of :mod:`ohtchat.chord.stabilize`)."""
        await stabilize.stabilize(self)

    async def check_predecessor(self) -> None:
        """Forget the predecessor if it no longer answers."""
        await maintenance.check_predecessor(self)

    async def fix_fingers(self) -> None:
        """Refresh the next distinct finger."""
        await maintenance.fix_fingers(self)

    async def fix_all_fingers(self) -> None:
        """Refresh every distinct finger (one full sweep)."""
        await maintenance.fix_all_fingers(self)

    async def leave(self) -> None:
        """Leave gracefully: hand neighbours to each other, then stop."""
        await maintenance.leave(self)

    def start(self) -> None:
        """Start the jittered maintenance timers."""
        if not self._timers:
            self._timers = maintenance.start_timers(self)

    async def stop(self) -> None:
        """Cancel timers and background tasks."""
        tasks = [*self._timers, *self._tasks]
        self._timers = []
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # --------------------------------------------------------- incoming calls
    async def handle(
        self, caller: PeerRef | None, method: str, params: dict[str, Any]
    ) -> dict[str, Any]:
        """Serve one incoming call; :class:`BadRequest` on anything malformed or refused.

        ``caller`` is the authenticated peer (``None`` only for local/unauthenticated use).
        """
        handler = self._handlers.get(method) if isinstance(method, str) else None
        if handler is None or not isinstance(params, dict):
            self.metrics.refused_requests += 1
            raise BadRequest(f"unknown method or bad params: {str(method)[:40]!r}")
        try:
            return await handler(caller, params)
        except BadReply as exc:
            self.metrics.refused_requests += 1
            raise BadRequest(str(exc)) from exc
        except BadRequest:
            self.metrics.refused_requests += 1
            raise
