"""Ringcast on one node: start broadcasts, accept and relay them (El-Ansary et al.).

"Efficient broadcast in structured P2P networks": a node responsible for the arc
``(self, limit)`` delivers the message, then sends it to each distinct live finger ``f_i``
in that arc, in ring order, handing ``f_i`` the arc ``(f_i, f_{i+1})``; the last finger
inherits ``limit``. The origin's limit is itself (the whole ring). The arcs partition the
ring, so on a stable ring every node receives the message exactly once: N−1 messages.

Fingers here are the node's distinct fingers plus its successor list (the nearest
entries), deduplicated and sorted by distance. A finger that does not answer does not cut
off its arc: the sender looks up the live successor of the dead finger and hands it the same
arc (repeated up to ``max_resends`` times). Message ids are remembered (bounded, see
:mod:`ohtchat.ringcast.guard`), so a node that gets a message twice after a resend delivers
it once.

Like :class:`~ohtchat.chord.node.ChordNode`, this class never opens connections: outgoing
calls go through ``chord.rpc`` (the node's client, with its timeout and failure bookkeeping),
incoming ones arrive at :meth:`Ringcast.handle`.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from ohtchat.chord.errors import BadReply, BadRequest, ChordError, NotInRing, RpcFailure
from ohtchat.chord.node import ChordNode
from ohtchat.chord.ring import ID_SPACE, dist, in_open
from ohtchat.chord.rpc import PeerRef
from ohtchat.crypto.keys import AccountKey, NodeCertificate
from ohtchat.crypto.onion import pubkey_from_onion
from ohtchat.ringcast.config import RingcastConfig
from ohtchat.ringcast.errors import PayloadTooLarge, RateLimited
from ohtchat.ringcast.guard import RateLimiter, SeenCache
from ohtchat.ringcast.message import ID_LEN, Broadcast, Payload, RingcastMessage
from ohtchat.ringcast.metrics import RingcastMetrics

log = logging.getLogger(__name__)

DELIVER = "ringcast_deliver"
#: Every wire method ringcast serves.
METHODS = (DELIVER,)

DeliverCallback = Callable[[Broadcast], Awaitable[None] | None]


@dataclass(frozen=True)
class BroadcastResult:
    """What the origin's own sends achieved (relays report in their own metrics)."""

    msg_id: bytes
    #: Arcs the origin handed out (its distinct live fingers at send time).
    children: int
    #: Arcs whose first receiver (possibly after resends) answered.
    reached: int
    #: Resends to the successor of a failed finger.
    resends: int


@dataclass(frozen=True)
class _Outcome:
    reached: bool
    resends: int


class Ringcast:
    """Broadcast to every node of ``chord``'s ring, signed by ``signer`` (the account key).

    ``certificate`` (the account's certificate for this node's onion key) is attached to
    every broadcast so receivers can tell the onion really serves the account.
    ``on_deliver`` (sync or async) receives each message once, own broadcasts included.
    ``clock`` returns unix seconds (default :func:`time.time`): timestamps cross nodes.
    """

    METHODS = METHODS

    def __init__(
        self,
        chord: ChordNode,
        signer: AccountKey,
        config: RingcastConfig | None = None,
        *,
        clock: Callable[[], float] | None = None,
        certificate: NodeCertificate | None = None,
        on_deliver: DeliverCallback | None = None,
    ) -> None:
        self.chord = chord
        self.signer = signer
        self.config = config or RingcastConfig()
        self._clock = clock or time.time
        if certificate is not None and (
            certificate.account_public != signer.public
            or certificate.node_public != pubkey_from_onion(chord.me.onion)
        ):
            raise ValueError("certificate must bind this account to this node's onion key")
        self.certificate = certificate
        self.on_deliver = on_deliver
        self.metrics = RingcastMetrics()
        self.seen = SeenCache(self.config.seen_capacity)
        self.limiter = RateLimiter(self.config.rate, self.config.burst, self.config.max_origins)
        self.callers = RateLimiter(
            self.config.caller_rate, self.config.caller_burst, self.config.max_origins
        )
        self._tasks: set[asyncio.Task[Any]] = set()

    def __repr__(self) -> str:
        return f"Ringcast({self.chord.me})"

    def now(self) -> float:
        """Unix time in seconds (injected clock)."""
        return self._clock()

    # ------------------------------------------------------------- sending
    async def broadcast(self, payload: Payload) -> BroadcastResult:
        """Deliver ``payload`` locally, then to every node of the ring; wait for our own sends.

        Raises :class:`~ohtchat.ringcast.errors.BadPayload`, :class:`PayloadTooLarge`,
        :class:`RateLimited` or :class:`~ohtchat.chord.errors.NotInRing`.
        """
        if not self.chord.member:
            raise NotInRing("ringcast needs a ring: create one or connect first")
        now = self.now()
        msg = RingcastMessage.create(
            self.signer,
            self.chord.me.onion,
            int(now * 1000),
            payload,
            os.urandom(ID_LEN),
            self.certificate,
        )
        if len(msg.body) > self.config.max_payload:
            raise PayloadTooLarge(f"{len(msg.body)} bytes > {self.config.max_payload}")
        if not self.limiter.allow(self.signer.public, now):
            raise RateLimited("broadcast rate limit reached; try again later")
        self._remember(msg, now)
        self.metrics.originated += 1
        self._deliver(msg.broadcast(self.certificate is not None))
        outcomes = await self._forward(msg, self.chord.me.id, 1)
        return BroadcastResult(
            msg.msg_id,
            len(outcomes),
            sum(o.reached for o in outcomes),
            sum(o.resends for o in outcomes),
        )

    def candidates(self) -> list[PeerRef]:
        """Distinct known peers, nearest first: fingers, plus the successor list if configured."""
        state = self.chord.state
        if self.config.use_successors:
            return state.known()
        me = self.chord.me.id
        peers = {row.peer.id: row.peer for row in state.finger_rows() if row.peer.id != me}
        return sorted(peers.values(), key=lambda p: dist(me, p.id))

    def children(self, limit: int) -> list[tuple[PeerRef, int]]:
        """The arcs to hand out for our arc ``(self, limit)``: ``(finger, its limit)``.

        Peers suspected dead are left out, so the previous finger's arc covers theirs.
        """
        me = self.chord.me.id
        reach = dist(me, limit) or ID_SPACE  # limit == self: the whole ring
        fingers = [
            p
            for p in self.candidates()
            if 0 < dist(me, p.id) < reach and not self.chord.suspected(p.id)
        ]
        if not fingers:
            return []  # a leaf: nobody we know lies in our arc
        limits = [p.id for p in fingers[1:]] + [limit]
        return list(zip(fingers, limits, strict=True))

    async def _forward(self, msg: RingcastMessage, limit: int, hops: int) -> list[_Outcome]:
        kids = self.children(limit)
        return list(await asyncio.gather(*(self._send_arc(msg, f, lim, hops) for f, lim in kids)))

    async def _send_arc(
        self, msg: RingcastMessage, target: PeerRef, limit: int, hops: int
    ) -> _Outcome:
        """Hand ``(target, limit)`` to ``target``, or to the live successor of a failed one."""
        params = msg.routed(limit, hops).to_params()
        timeout = self.config.send_timeout or self.chord.config.rpc_timeout
        resends = 0
        while True:
            try:
                reply = await self.chord.rpc(target, DELIVER, params, timeout)
            except (RpcFailure, BadReply) as exc:
                self.metrics.send_failures += 1
                log.debug("%s: ringcast to %s failed: %s", self.chord.me, target, exc)
            else:
                self.metrics.sent += 1
                if reply.get("ok") is not True:
                    self.metrics.refused_by_peer += 1
                return _Outcome(True, resends)
            if resends >= self.config.max_resends:
                self.metrics.abandoned += 1
                return _Outcome(False, resends)
            nxt = await self._successor_within(target, limit)
            if nxt is None:
                return _Outcome(False, resends)
            target = nxt
            resends += 1
            self.metrics.resends += 1

    async def _successor_within(self, dead: PeerRef, limit: int) -> PeerRef | None:
        """The live node right after ``dead`` if it lies in ``(dead, limit)``, else ``None``."""
        try:
            owner = (await self.chord.lookup((dead.id + 1) % ID_SPACE)).owner
        except ChordError as exc:
            # Cannot route: fall back on our own list (may skip nodes we do not know).
            log.debug("%s: lookup after failed ringcast send: %s", self.chord.me, exc)
            for p in self.candidates():
                if in_open(p.id, dead.id, limit) and not self.chord.suspected(p.id):
                    return p
            self.metrics.abandoned += 1
            return None
        return owner if in_open(owner.id, dead.id, limit) else None

    # ------------------------------------------------------------ receiving
    async def handle(
        self, caller: PeerRef | None, method: str, params: dict[str, Any]
    ) -> dict[str, Any]:
        """Serve one incoming call: ``{"ok": true, "dup": bool}`` or ``{"ok": false, "why"}``.

        Malformed, oversize and forged messages raise :class:`BadRequest`. Policy refusals
        (stale timestamp, rate limit) are answered normally, so the sender does not mistake
        them for a dead node and resend.
        """
        if method != DELIVER or not isinstance(params, dict):
            self.metrics.refused_bad += 1
            raise BadRequest(f"unknown method or bad params: {str(method)[:40]!r}")
        self.metrics.received += 1
        try:
            msg = RingcastMessage.from_params(params, self.config.max_payload)
            return self._accept(msg, caller)
        except BadRequest:
            self.metrics.refused_bad += 1
            raise

    def _accept(self, msg: RingcastMessage, caller: PeerRef | None = None) -> dict[str, Any]:
        # No await in here: the seen check and the insert are atomic under asyncio.
        if (msg.account_public, msg.msg_id) in self.seen:
            self.metrics.duplicates += 1
            return {"ok": True, "dup": True}
        now = self.now()
        why = self._freshness(msg.ts_ms, now)
        if why is not None:
            self.metrics.refused_stale += 1
            return {"ok": False, "why": why}
        certified = msg.verify(now)
        if self.config.require_certificate and not certified:
            raise BadRequest("field 'cert' is required by this node")
        event = msg.broadcast(certified)
        # After verification, so a forger cannot spend an honest origin's tokens. The
        # forwarder's budget is spent only on messages new to us and otherwise acceptable.
        forwarder = caller.onion.encode() if caller is not None else None
        if forwarder is not None and not self.callers.allow(forwarder, now):
            self.metrics.refused_rate += 1
            return {"ok": False, "why": "rate_limited"}
        if not self.limiter.allow(msg.account_public, now):
            self.metrics.refused_rate += 1
            return {"ok": False, "why": "rate_limited"}
        self._remember(msg, now)
        self.metrics.max_hops = max(self.metrics.max_hops, msg.hops)
        self.metrics.hops_total += msg.hops
        self._deliver(event)
        self._spawn(self._forward(msg, msg.limit, msg.hops + 1))
        return {"ok": True, "dup": False}

    def _freshness(self, ts_ms: int, now: float) -> str | None:
        if ts_ms < (now - self.config.max_age) * 1000:
            return "too_old"
        if ts_ms > (now + self.config.max_skew) * 1000:
            return "in_future"
        if self.seen.below_watermark(ts_ms):
            return "too_old"  # its id may have been evicted from the dedup memory
        return None

    def _remember(self, msg: RingcastMessage, now: float) -> None:
        expires = msg.ts_ms / 1000 + self.config.max_age
        self.seen.add((msg.account_public, msg.msg_id), msg.ts_ms, expires, now)

    def _deliver(self, event: Broadcast) -> None:
        self.metrics.delivered += 1
        cb = self.on_deliver
        if cb is None:
            return
        try:
            result = cb(event)
        except Exception:
            log.exception("ringcast on_deliver callback failed")
            return
        if inspect.isawaitable(result):
            self._spawn(_guarded(result))

    # ---------------------------------------------------------- background
    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("%s: ringcast task failed", self.chord.me, exc_info=task.exception())

    @property
    def busy(self) -> bool:
        """True while relays or delivery callbacks are still running."""
        return bool(self._tasks)

    async def drain(self) -> None:
        """Wait for this node's relays and callbacks to finish."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def stop(self) -> None:
        """Cancel relays and callbacks still running."""
        tasks = list(self._tasks)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _guarded(aw: Awaitable[Any]) -> None:
    try:
        await aw
    except Exception:
        log.exception("ringcast on_deliver callback failed")
