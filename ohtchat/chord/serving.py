"""The Chord methods a node serves (docs/protocol.md §9), over its :class:`ChordHost` interface.

:meth:`ohtchat.chord.node.ChordNode.handle` dispatches incoming calls to the handlers built by
:func:`handlers`; every malformed field raises :class:`BadReply`/:class:`BadRequest` naming it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from ohtchat.chord import maintenance, recursive
from ohtchat.chord.errors import BadRequest, NotMember
from ohtchat.chord.host import ChordHost
from ohtchat.chord.ring import in_open
from ohtchat.chord.rpc import (
    FIND_OWNER,
    FIND_SUCCESSOR,
    GET_PEERS,
    GET_PREDECESSOR,
    GET_SUCCESSOR_LIST,
    LEAVE,
    NOTIFY,
    PING,
    PeerRef,
    check_ordered_from,
    decode_id,
    decode_optional_peer,
    decode_peer,
    decode_peers,
    encode_id,
    encode_peer,
    encode_peers,
)
from ohtchat.chord.state import truncate_at

Handler = Callable[[PeerRef | None, dict[str, Any]], Awaitable[dict[str, Any]]]
#: Most peers a ``get_peers`` reply carries.
MAX_PEERS_REPLY = 32


def handlers(node: ChordHost) -> dict[str, Handler]:
    """The handler of every Chord method, bound to ``node``."""

    def need_ring() -> None:
        if not node.member:
            raise NotMember("this node is not in a ring yet")

    async def ping(caller: PeerRef | None, params: dict[str, Any]) -> dict[str, Any]:
        return {"id": encode_id(node.me.id), "member": node.member}

    async def find_successor(caller: PeerRef | None, params: dict[str, Any]) -> dict[str, Any]:
        need_ring()
        key = decode_id(params.get("key"), "key")
        step = node.state.step(key, node.config.candidates_per_reply, node.suspected)
        return {"done": step.done, "peers": encode_peers(step.peers)}

    async def find_owner(caller: PeerRef | None, params: dict[str, Any]) -> dict[str, Any]:
        need_ring()
        return await recursive.serve(node, caller, params)

    async def get_predecessor(caller: PeerRef | None, params: dict[str, Any]) -> dict[str, Any]:
        need_ring()
        pred = node.state.predecessor
        return {"pred": None if pred is None else encode_peer(pred)}

    async def get_successor_list(caller: PeerRef | None, params: dict[str, Any]) -> dict[str, Any]:
        need_ring()
        succ = node.state.successor
        if node.config.successor_hints and caller is not None and caller.id != node.me.id:
            if succ is None or in_open(caller.id, node.me.id, succ.id):
                # A joiner copying our list, or a node that takes us for its predecessor: it
                # lies between us and our successor. Stabilize soon and try it as successor.
                node.hints.add(caller, node.now() + 2 * node.config.stabilize_interval)
                node.pace.poke()
            elif caller.id == succ.id:
                node.pace.poke()  # our successor got a new predecessor: stabilize soon
        return {"succs": encode_peers(node.state.successors)}

    async def get_peers(caller: PeerRef | None, params: dict[str, Any]) -> dict[str, Any]:
        limit = params.get("max", MAX_PEERS_REPLY)
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
            raise BadRequest("field 'max' must be a non-negative integer")
        seen: dict[int, PeerRef] = {}
        pred = node.state.predecessor
        pool = [*node.state.known(), *([pred] if pred else []), *node.peer_cache.peers()]
        for p in pool:
            if p.id != node.me.id and (caller is None or p.id != caller.id):
                seen.setdefault(p.id, p)
        return {"peers": encode_peers(list(seen.values())[: min(limit, MAX_PEERS_REPLY)])}

    async def notify(caller: PeerRef | None, params: dict[str, Any]) -> dict[str, Any]:
        need_ring()
        peer = decode_peer(params.get("peer"), "peer")
        if caller is not None and caller.onion != peer.onion:
            raise BadRequest("field 'peer' must name the authenticated caller")
        maintenance.rectify(node, peer)
        pred = node.state.predecessor  # the caller itself, or a node between it and us
        return {"pred": None if pred is None else encode_peer(pred)}

    async def leave(caller: PeerRef | None, params: dict[str, Any]) -> dict[str, Any]:
        need_ring()
        if caller is None:
            raise BadRequest("leave needs an authenticated caller")
        # Both fields are checked in full before anything changes.
        theirs = decode_peers(params.get("succs", []), name="succs")
        check_ordered_from(caller.id, theirs, "succs")
        new = decode_optional_peer(params.get("pred"), "pred")
        # Serialised with stabilize: a round waiting on the leaver must not resume afterwards
        # and put it back (or find the successor list emptied under it).
        async with node.stabilize_lock:
            return apply_leave(node, caller, theirs, new)

    return {
        PING: ping,
        FIND_SUCCESSOR: find_successor,
        GET_PREDECESSOR: get_predecessor,
        GET_SUCCESSOR_LIST: get_successor_list,
        NOTIFY: notify,
        GET_PEERS: get_peers,
        LEAVE: leave,
        FIND_OWNER: find_owner,
    }


def apply_leave(
    node: ChordHost, caller: PeerRef, theirs: list[PeerRef], new: PeerRef | None
) -> dict[str, Any]:
    """``caller`` leaves: adopt its list if it is our successor, its predecessor if it is ours."""
    succ = node.state.successor
    if succ is not None and succ.id == caller.id:
        mine = truncate_at(node.me.id, theirs, node.state.r) or node.state.successors[1:]
        node.state.set_successors(mine)
        node.pace.changed()
    pred = node.state.predecessor
    if pred is not None and pred.id == caller.id:
        ok = new is not None and in_open(new.id, node.me.id, caller.id)
        node.set_predecessor(new if ok else None)
    node.state.remove(caller.id)
    node.peer_cache.forget(caller.id)
    return {}
