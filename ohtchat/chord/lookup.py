"""Iterative lookup: the origin asks each hop for the next one and keeps control.

Over Tor the origin decides every hop, so it enforces the hop limit, a per-call timeout and
an overall deadline itself, and no node relays another's query (a relayed query would make
each relay a party to the lookup and let one slow relay stall it). Every candidate a peer
offers must lie in ``(peer, key)`` — strict progress toward the key — and each node is asked
at most once per walk, so a lying peer cannot make a lookup loop.

A hop over an open session costs one round trip (~1 s on Tor), one that must dial first a cold
onion connect (4–29 s). So among the candidates that make progress — closer to the key than the
last peer that answered — the walk asks the closest one with an open session
(``prefer_warm``), and dials only when none has one; the origin's own candidates include the
cached peers it still holds sessions with. Each result counts its cold dials.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ohtchat.chord.config import ChordConfig
from ohtchat.chord.errors import BadReply, LookupFailed, OutOfRange, RpcFailure, RpcTimeout
from ohtchat.chord.metrics import ChordMetrics
from ohtchat.chord.peers import PeerCache
from ohtchat.chord.ring import ID_SPACE, dist, in_half_open, in_open
from ohtchat.chord.rpc import (
    FIND_SUCCESSOR,
    MAX_LIST,
    PeerRef,
    check_ordered_from,
    decode_peers,
    encode_id,
    reply_field,
)
from ohtchat.chord.state import RoutingState, Step


@dataclass(frozen=True)
class LookupResult:
    """The live owner (successor) of ``key`` and what it cost to find it."""

    key: int
    owner: PeerRef
    #: Remote ``find_successor`` queries sent, failed ones included.
    hops: int
    #: Every RPC the lookup sent (hops plus owner-liveness pings).
    messages: int
    #: The peers that answered a step, in order.
    path: tuple[PeerRef, ...]
    #: Calls of this lookup that had to open a session first.
    cold_dials: int = 0


class LookupHost(Protocol):
    """What a lookup needs from its node."""

    me: PeerRef
    state: RoutingState
    config: ChordConfig
    metrics: ChordMetrics
    member: bool
    peer_cache: PeerCache

    def now(self) -> float:
        """Current time (the node's injected clock)."""
        ...

    def suspected(self, peer_id: int) -> bool:
        """True while ``peer_id`` is presumed dead after a failed call."""
        ...

    def count_bad(self, exc: BadReply) -> None:
        """Count a discarded reply."""
        ...

    def warm(self, peer: PeerRef) -> bool:
        """True when a call to ``peer`` needs no dial."""
        ...

    async def rpc(
        self,
        peer: PeerRef,
        method: str,
        params: dict[str, Any],
        timeout: float | None = None,
        *,
        budget: float | None = None,
    ) -> dict[str, Any]:
        """One outgoing call with timeout and bookkeeping (``budget`` caps it)."""
        ...

    async def get_predecessor(
        self, peer: PeerRef, timeout: float | None = None, *, budget: float | None = None
    ) -> PeerRef | None:
        """``peer``'s predecessor (validated)."""
        ...


@dataclass
class LookupState:
    """One lookup in progress: its key, deadline, counters and what the peers told it (shared
    by the iterative lookup and the recursive one's owner check)."""

    key: int
    deadline: float
    hops: int = 0
    messages: int = 0
    cold: int = 0
    #: Distance to the key of the closest peer that answered (or of the origin).
    progress: int = ID_SPACE
    dead: set[int] = field(default_factory=set)
    answered: dict[int, PeerRef] = field(default_factory=dict)
    path: list[PeerRef] = field(default_factory=list)
    #: The live node closest past the key that refuted a peer's claim to own it.
    refuter: PeerRef | None = None


def parse_step(reply: dict[str, Any], responder: PeerRef, key: int, k: int) -> Step:
    """Validate a ``find_successor`` reply from ``responder`` about ``key``.

    A final answer (``done``) is either exactly ``[responder]`` — the responder owns the key:
    the key is its own id, or it is alone — or a tail of the responder's successor list,
    strictly clockwise from it, whose first entry ``s`` satisfies ``key ∈ (responder, s]``.
    Otherwise ``peers`` are candidates strictly inside ``(responder, key)`` (the first ``k``
    are used). See docs/protocol.md, ``find_successor``.
    """
    done = reply_field(reply, "done")
    if not isinstance(done, bool):
        raise BadReply("field 'done' must be a boolean")
    peers = decode_peers(reply_field(reply, "peers"), name="peers")
    if done:
        if not peers:
            raise BadReply("field 'peers' must name the owner when 'done' is true")
        if peers[0].id == responder.id:
            if len(peers) > 1:
                raise BadReply("field 'peers': a responder naming itself must name only itself")
            return Step(True, (responder,))  # it owns the key (its own id, or it is alone)
        check_ordered_from(responder.id, peers, "peers")
        if not in_half_open(key, responder.id, peers[0].id):
            raise OutOfRange("field 'peers[0]' does not follow the key: not its owner")
        return Step(True, tuple(peers))
    peers = peers[:k]
    for i, p in enumerate(peers):
        if not in_open(p.id, responder.id, key):
            raise OutOfRange(f"field 'peers[{i}]' is not strictly between responder and key")
    return Step(False, tuple(peers))


async def lookup(
    host: LookupHost, key: int, start: Sequence[PeerRef] | None = None
) -> LookupResult:
    """The live successor of ``key``: from local state, or through ``start`` peers (joining).

    When every entry of a final successor list turns out dead, the owner of ``key`` is the
    owner of the id just past the last of them, so the walk continues from there.
    """
    host.metrics.lookups += 1
    ctx = LookupState(key % ID_SPACE, host.now() + host.config.lookup_timeout)
    k = key % ID_SPACE
    try:
        while True:
            owner, exhausted = await _walk(host, k, start, ctx)
            if owner is not None:
                return _result(host, key, owner, ctx)
            nk = (exhausted + 1) % ID_SPACE
            if dist(key, nk) <= dist(key, k):
                raise LookupFailed("successor lists wrapped without a live node")
            if host.member and start is None and dist(key, nk) > dist(key, host.me.id):
                return _result(host, key, host.me, ctx)
            k = nk
    except LookupFailed:
        host.metrics.lookup_failures += 1
        host.metrics.lookup_cold_dials += ctx.cold
        raise


def _result(host: LookupHost, key: int, owner: PeerRef, ctx: LookupState) -> LookupResult:
    host.metrics.lookup_cold_dials += ctx.cold
    return LookupResult(key, owner, ctx.hops, ctx.messages, tuple(ctx.path), ctx.cold)


def _next_hop(
    host: LookupHost, cands: dict[int, PeerRef], key: int, ctx: LookupState
) -> PeerRef | None:
    """The candidate closest to ``key``, or, when it has no open session, the closest one
    that has and still makes progress (is closer to the key than every peer that answered)."""
    best = min(cands.values(), key=lambda p: dist(p.id, key), default=None)
    if best is None or not host.config.prefer_warm or host.warm(best):
        return best
    warm = [p for p in cands.values() if dist(p.id, key) < ctx.progress and host.warm(p)]
    return min(warm, key=lambda p: dist(p.id, key), default=best)


async def _walk(
    host: LookupHost, key: int, start: Sequence[PeerRef] | None, ctx: LookupState
) -> tuple[PeerRef | None, int]:
    cfg = host.config
    cands: dict[int, PeerRef] = {}
    visited: set[int] = set()
    step: Step | None = None
    ctx.progress = ID_SPACE  # (a walk may restart from a later key)
    ctx.refuter = None
    if start is None:
        if not host.member:
            raise LookupFailed("not in a ring")
        # Locally every known preceding peer is a candidate (not just the k a remote offers),
        # so the walk can fall back all the way when the nearest ones are dead.
        step = host.state.step(key, MAX_LIST, _skipper(host, ctx))
        if not step.done and not step.peers:  # everyone suspected: try them anyway
            step = host.state.step(key, MAX_LIST, ctx.dead.__contains__)
        ctx.progress = min(ctx.progress, dist(host.me.id, key))
        if not step.done and host.config.prefer_warm:
            # Peers that answered us lately and still have a session open are hops too: one
            # closer to the key saves the cold dials of the hops it skips.
            for p in host.peer_cache.peers():
                if in_open(p.id, host.me.id, key) and not host.suspected(p.id) and host.warm(p):
                    cands[p.id] = p
    else:
        cands = {p.id: p for p in start if p.id != host.me.id}
    while True:
        if step is not None:
            if step.done:
                owner = await pick_owner(host, step.peers, key, ctx)
                return owner, step.peers[-1].id
            for p in step.peers:
                if p.id not in visited and p.id not in ctx.dead and p.id != host.me.id:
                    cands[p.id] = p
        best = _next_hop(host, cands, key, ctx)
        if best is None:
            fb = ctx.refuter
            if fb is None or fb.id in ctx.dead:
                raise LookupFailed("no live candidate left")
            # A stale peer (e.g. one that believes it is alone) named itself owner and no
            # route is left: the live node that refuted it is the closest known owner.
            ctx.refuter = None
            return await pick_owner(host, [fb], key, ctx), fb.id
        if ctx.hops >= cfg.max_hops:
            raise LookupFailed(f"hop limit {cfg.max_hops} reached")
        remaining = ctx.deadline - host.now()
        if remaining <= 0:
            raise LookupFailed("lookup deadline passed")
        del cands[best.id]
        visited.add(best.id)
        ctx.hops += 1
        ctx.messages += 1
        ctx.cold += not host.warm(best)
        step = None
        try:
            reply = await host.rpc(
                best, FIND_SUCCESSOR, {"key": encode_id(key)}, cfg.rpc_timeout, budget=remaining
            )
            got = parse_step(reply, best, key, cfg.candidates_per_reply)
            if got.done and got.peers[0].id == best.id:
                _check_self_claim(host, best, key, ctx)
            step = got
        except RpcFailure:
            ctx.dead.add(best.id)
            continue
        except BadReply as exc:
            host.count_bad(exc)
            ctx.dead.add(best.id)  # never ask a lying peer again in this lookup
            continue
        ctx.answered[best.id] = best
        ctx.path.append(best)
        ctx.progress = min(ctx.progress, dist(best.id, key))


def _check_self_claim(host: LookupHost, responder: PeerRef, key: int, ctx: LookupState) -> None:
    """Refuse a lone ``done`` in which ``responder`` names itself owner of ``key``.

    It owns ``key`` only if ``key ∈ (pred(responder), responder]``: no live node lies in
    ``[key, responder)``. An honest node says so only for its own id or when it is alone, so
    the claim is refuted by any node the origin knows to be live in that arc: the origin
    itself (a member) and every peer that answered this lookup. Every hop after the first
    was offered as lying in ``(answering peer, key)``, so only its first hop — a start peer
    of a joining node — can ever own a key other than its id this way. The refuted peer is
    skipped for the rest of the lookup; the closest refuter is kept as the owner to confirm
    should no route be left (an honest but stale peer, e.g. one that thinks it is alone).
    """
    if key == responder.id:
        return
    live = list(ctx.answered.values())
    if host.member:
        live.append(host.me)
    span = dist(key, responder.id)
    closer = [n for n in live if n.id != responder.id and dist(key, n.id) < span]
    if closer:
        if ctx.refuter is not None:
            closer.append(ctx.refuter)
        ctx.refuter = min(closer, key=lambda n: dist(key, n.id))
        raise OutOfRange(
            "field 'peers': the responder names itself owner of a key it does not follow"
        )


def _skipper(host: LookupHost, ctx: LookupState) -> Any:
    def skip(peer_id: int) -> bool:
        return peer_id in ctx.dead or host.suspected(peer_id)

    return skip


async def pick_owner(
    host: LookupHost, peers: Sequence[PeerRef], key: int, ctx: LookupState
) -> PeerRef | None:
    """The live owner of the lookup's key given a final successor-list tail for ``key``
    (the key of this walk), or ``None`` if every entry is dead."""
    for p in peers:
        if p.id in ctx.dead or (p.id == host.me.id and not host.member):
            continue  # (a stale entry for our own id while joining)
        if not host.config.verify_owner:
            return p
        owner = await _confirm(host, p, ctx.key, ctx)
        if owner is not None:
            return owner
    return None


async def _confirm(host: LookupHost, p: PeerRef, key: int, ctx: LookupState) -> PeerRef | None:
    """Ask the claimed owner for its predecessor: one message that proves it is alive and
    catches a stale claim (a node that joined in ``[key, p)`` since the list was copied, or
    that a stale successor list skipped): walked back while the predecessor lies in
    ``[key, p)``, at most ``max_hops`` steps (each is strictly closer to the key).

    A call that fails without timing out (on Tor: a failed connect, ~5% of them) is tried once
    more before the node is taken for dead, so a live owner is rarely passed over for its
    successor; a node that does not answer in time is not asked again."""
    best: PeerRef | None = None
    retries = 1
    for _ in range(host.config.max_hops):
        if p.id == host.me.id:
            if not host.member:
                break
            q = host.state.predecessor  # ourselves: no message needed
        else:
            remaining = ctx.deadline - host.now()
            if remaining <= 0:
                raise LookupFailed("lookup deadline passed")
            ctx.messages += 1
            ctx.cold += not host.warm(p)
            try:
                q = await host.get_predecessor(p, host.config.rpc_timeout, budget=remaining)
            except RpcTimeout:
                ctx.dead.add(p.id)
                break
            except RpcFailure:
                if retries:
                    retries -= 1
                    continue  # the same p once more
                ctx.dead.add(p.id)
                break
            except BadReply as exc:
                host.count_bad(exc)
                ctx.dead.add(p.id)
                break
        best = p
        ctx.answered[p.id] = p
        if q is None or q.id in ctx.dead or not dist(key, q.id) < dist(key, p.id):
            break
        p = q
    return best
