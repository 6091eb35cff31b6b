"""Recursive lookups: each hop forwards the query over its own open sessions.

An iterative lookup (:mod:`ohtchat.chord.lookup`) asks every hop itself, and every hop after
the first is a node it holds no session with: on Tor a cold onion connect (4–29 s) per hop.
Here the origin asks one peer of its own warm set (``find_owner``); that peer takes the next
hop from *its* routing table — successors and fingers, whose sessions it keeps open — and so
on, so every hop is a call over an open session (~1 s). The safety the iterative design gives
is kept:

* **hop limit**: ``hops`` shrinks by one per forward; a node never forwards with ``hops ≤ 1``;
* **deadlines**: ``budget_ms`` shrinks by :data:`HOP_MARGIN` per forward and every forwarder
  waits for its next hop at most its own budget; the origin waits at most
  ``recursive_timeout`` and then falls back to the iterative lookup;
* **strict progress**, checked by every forwarder: the next hop lies in ``(me, key)``, and the
  answer coming back must be a final answer whose responder lies in ``[next hop, key)``, its
  successor-list tail ordered from it and its first entry ``s`` with ``key ∈ (responder, s]``;
  the origin checks the same of the answer it gets (ids are checked against their onion keys
  by every decoder);
* **caps**: a node serves at most ``max_forwards`` forwarded lookups at once, at most
  ``max_forwards_per_peer`` of them for one calling peer (:class:`ForwardGate`), and refuses
  the rest with ``{"fail": "busy"}`` — a flooding peer exhausts its own share only;
* **the owner is confirmed by the origin** (``verify_owner``: its predecessor, as in the
  iterative lookup), and on any failure, refusal or bad answer the origin runs the iterative
  lookup.

A forwarder that cannot complete answers ``{"fail": CODE}`` (``busy``, ``hop_limit``,
``no_route``) rather than an error, so the peer that asked it does not take it for dead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ohtchat.chord.errors import (
    BadReply,
    BadRequest,
    LookupFailed,
    OutOfRange,
    RemoteRefusal,
    RpcFailure,
)
from ohtchat.chord.lookup import LookupHost, LookupResult, LookupState, lookup, pick_owner
from ohtchat.chord.ring import ID_SPACE, dist, in_half_open, in_open
from ohtchat.chord.rpc import (
    FIND_OWNER,
    MAX_LIST,
    PeerRef,
    check_ordered_from,
    decode_id,
    decode_optional_peer,
    decode_peers,
    encode_id,
    encode_peer,
    encode_peers,
    reply_field,
)

#: Seconds a forwarder keeps back from its own budget for the reply's way back.
HOP_MARGIN = 1.5
#: Next hops one forwarder tries (closest warm ones first) before it answers ``no_route``.
FORWARD_TRIES = 3
#: Largest ``budget_ms`` a node accepts (longer ones are cut to it).
MAX_BUDGET_MS = 120_000
#: ``fail`` codes a forwarder answers with.
FAIL_CODES = ("busy", "hop_limit", "no_route")


@dataclass
class ForwardGate:
    """Counts forwarded lookups in progress, in total and per calling peer (sans-IO)."""

    per_peer: int
    total: int
    _by_peer: dict[int, int] = field(default_factory=dict)
    _count: int = 0

    def enter(self, peer_id: int) -> bool:
        """Take a slot for ``peer_id``; False (nothing taken) when a cap is reached."""
        if self._count >= self.total or self._by_peer.get(peer_id, 0) >= self.per_peer:
            return False
        self._count += 1
        self._by_peer[peer_id] = self._by_peer.get(peer_id, 0) + 1
        return True

    def leave(self, peer_id: int) -> None:
        """Give back a slot taken by :meth:`enter`."""
        self._count -= 1
        left = self._by_peer[peer_id] - 1
        if left:
            self._by_peer[peer_id] = left
        else:
            del self._by_peer[peer_id]

    @property
    def in_flight(self) -> int:
        """Forwarded lookups in progress."""
        return self._count


class ForwardHost(LookupHost, Protocol):
    """What serving and starting a recursive lookup need of a node."""

    gate: ForwardGate

    def absolve(self, peer_id: int) -> None:
        """Stop suspecting ``peer_id`` (it answered, with a refusal)."""
        ...


@dataclass(frozen=True)
class Final:
    """A final answer: ``by`` names ``peers`` — its successor-list tail — for the key."""

    by: PeerRef
    peers: tuple[PeerRef, ...]


def parse_final(reply: dict[str, Any], key: int, lo: PeerRef) -> Final | str:
    """A ``find_owner`` reply from ``lo`` (asked about ``key``): a checked :class:`Final`, or
    the ``fail`` code. :class:`BadReply` when it is malformed or breaks strict progress."""
    fail = reply.get("fail")
    if fail is not None:
        if fail not in FAIL_CODES:
            raise BadReply(f"field 'fail' must be one of {', '.join(FAIL_CODES)}")
        return str(fail)
    by = decode_optional_peer(reply_field(reply, "by"), "by")
    if by is None:
        raise BadReply("field 'by' must name the node that answered")
    peers = decode_peers(reply_field(reply, "peers"), MAX_LIST, "peers")
    if not peers:
        raise BadReply("field 'peers' must name the owner")
    if dist(lo.id, by.id) > dist(lo.id, key):
        raise OutOfRange("field 'by' does not lie in [asked peer, key]")
    if peers[0].id == by.id:  # it owns the key: only its own id (an alone node is refused)
        if len(peers) > 1 or by.id != key:
            raise OutOfRange("field 'peers': a responder may name itself only for its own id")
    else:
        check_ordered_from(by.id, peers, "peers")
        if not in_half_open(key, by.id, peers[0].id):
            raise OutOfRange("field 'peers[0]' does not follow the key: not its owner")
    return Final(by, tuple(peers))


def _params(params: dict[str, Any], max_hops: int) -> tuple[int, int, float]:
    key = decode_id(params.get("key"), "key")
    hops = params.get("hops")
    if not isinstance(hops, int) or isinstance(hops, bool) or not 1 <= hops <= 256:
        raise BadRequest("field 'hops' must be an integer in [1, 256]")
    budget = params.get("budget_ms")
    if not isinstance(budget, int) or isinstance(budget, bool) or budget < 1:
        raise BadRequest("field 'budget_ms' must be a positive integer")
    return key, min(hops, max_hops), min(budget, MAX_BUDGET_MS) / 1000.0


def _order(host: LookupHost, peers: Sequence[PeerRef]) -> list[PeerRef]:
    """Next hops closest to the key first, those over open sessions before those that dial."""
    return [p for p in peers if host.warm(p)] + [p for p in peers if not host.warm(p)]


async def serve(
    host: ForwardHost, caller: PeerRef | None, params: dict[str, Any]
) -> dict[str, Any]:
    """Serve ``find_owner``: answer from our own state, or forward one hop closer."""
    key, hops, budget = _params(params, host.config.max_hops)
    who = caller.id if caller is not None else -1
    if not host.gate.enter(who):
        host.metrics.forwards_refused += 1
        return {"fail": "busy"}
    try:
        return await _forward(host, key, hops, host.now() + budget)
    finally:
        host.gate.leave(who)


async def _forward(host: ForwardHost, key: int, hops: int, deadline: float) -> dict[str, Any]:
    step = host.state.step(key, host.config.candidates_per_reply, host.suspected)
    if step.done:
        if step.peers[0].id == host.me.id and key != host.me.id:
            return {"fail": "no_route"}  # alone: the asker would refuse "it is mine"
        return {"by": encode_peer(host.me), "peers": encode_peers(step.peers)}
    if hops <= 1:
        return {"fail": "hop_limit"}
    host.metrics.forwards_served += 1
    for nxt in _order(host, step.peers)[:FORWARD_TRIES]:
        remaining = deadline - host.now()
        if remaining <= HOP_MARGIN:
            break
        params = {"key": encode_id(key), "hops": hops - 1, "budget_ms": _ms(remaining - HOP_MARGIN)}
        try:
            reply = await host.rpc(nxt, FIND_OWNER, params, remaining, budget=remaining)
            got = parse_final(reply, key, nxt)
        except RemoteRefusal:
            host.absolve(nxt.id)  # (it answered: e.g. an older node, not a dead one)
            continue
        except RpcFailure:
            continue
        except BadReply as exc:
            host.count_bad(exc)
            continue
        if isinstance(got, str):
            if got == "hop_limit":
                return {"fail": got}
            continue
        return {"by": encode_peer(got.by), "peers": encode_peers(got.peers)}
    return {"fail": "no_route"}


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))


def _first_hop(host: LookupHost, key: int) -> PeerRef | None:
    """The closest peer in ``(me, key)`` among our routing table and cached peers, preferring
    one with an open session when one makes progress (any of them does)."""
    cands = list(host.state.step(key, MAX_LIST, host.suspected).peers)
    for p in host.peer_cache.peers():
        if in_open(p.id, host.me.id, key) and not host.suspected(p.id):
            cands.append(p)
    warm = [p for p in cands if host.warm(p)]
    return min(warm or cands, key=lambda p: dist(p.id, key), default=None)


async def recursive_lookup(host: ForwardHost, key: int) -> LookupResult:
    """The live successor of ``key``, found through peers that forward over their own
    sessions; the iterative :func:`~ohtchat.chord.lookup.lookup` when that fails."""
    k = key % ID_SPACE
    if not host.member or host.state.step(k, 1).done:
        return await lookup(host, key)  # a local answer: no forwarding needed
    first = _first_hop(host, k)
    if first is None:
        return await lookup(host, key)
    cfg = host.config
    host.metrics.recursive_lookups += 1
    ctx = LookupState(k, host.now() + cfg.recursive_timeout + cfg.dial_timeout)
    ctx.hops = ctx.messages = 1
    ctx.cold = not host.warm(first)
    params = {"key": encode_id(k), "hops": cfg.max_hops, "budget_ms": _ms(cfg.recursive_timeout)}
    try:
        try:
            reply = await host.rpc(first, FIND_OWNER, params, cfg.recursive_timeout + HOP_MARGIN)
        except RemoteRefusal:
            host.absolve(first.id)  # (it answered: e.g. an older node, not a dead one)
            raise
        got = parse_final(reply, k, first)
        if isinstance(got, str):
            raise LookupFailed(f"forwarding failed: {got}")
        ctx.answered[first.id] = first
        ctx.path.append(first)
        ctx.deadline = host.now() + cfg.lookup_timeout
        owner = await pick_owner(host, got.peers, k, ctx)
        if owner is None:
            raise LookupFailed("every node of the final answer is dead")
    except (RpcFailure, BadReply, LookupFailed) as exc:
        if isinstance(exc, BadReply):
            host.count_bad(exc)
        host.metrics.recursive_fallbacks += 1
        host.metrics.lookup_cold_dials += ctx.cold
        res = await lookup(host, key)
        return LookupResult(
            res.key,
            res.owner,
            res.hops + ctx.hops,
            res.messages + ctx.messages,
            res.path,
            res.cold_dials + ctx.cold,
        )
    host.metrics.lookups += 1
    host.metrics.lookup_cold_dials += ctx.cold
    return LookupResult(key, owner, ctx.hops, ctx.messages, (first, got.by), ctx.cold)
