"""Ring maintenance after Pamela Zave, "Reasoning about identifier spaces: How to make Chord
correct" (IEEE TSE 2017) — not the 2001 pseudocode.

* join: find the member ``m`` whose arc ``(m, m.succ]`` holds our id, copy its successor
  list and take ``m`` as predecessor; then notify the new successor.
* stabilize (:mod:`ohtchat.chord.stabilize`): drop dead first successors, ask the first live
  one ``s`` for its predecessor and list, rebuild ``[s] + s.list[:r-1]``, adopt ``s.pred``
  only if it lies in ``(self, s)`` and answers, then notify.
* rectify (on notify): adopt the notifier if it lies in ``(pred, self)`` or the old
  predecessor is verified dead.
* a joiner runs one stabilize right after joining (``stabilize_on_join``); the timers are
  adaptive (:mod:`ohtchat.chord.pace`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from ohtchat.chord.errors import BadReply, ChordError, JoinFailed, RpcFailure
from ohtchat.chord.host import ChordHost
from ohtchat.chord.ring import ID_BITS, dist, finger_target, in_half_open, in_open
from ohtchat.chord.rpc import (
    LEAVE,
    PeerRef,
    encode_peer,
    encode_peers,
)
from ohtchat.chord.stabilize import notify_successor, stabilize_once

log = logging.getLogger(__name__)
_FAILED = (RpcFailure, BadReply)


def create(node: ChordHost) -> None:
    """A ring of one: no successors (we are our own), no predecessor."""
    node.state.set_successors([])
    node.state.clear_fingers()
    node.set_predecessor(None)
    node.member = True


async def join(node: ChordHost, via: PeerRef) -> None:
    """Zave's join through the member whose arc holds our id (found by a lookup via ``via``)."""
    if via.id == node.me.id:
        raise JoinFailed("cannot join through ourselves")
    me = node.me.id
    try:
        owner = (await node.lookup(me, start=[via])).owner
        if owner.id == me:
            raise JoinFailed("a node with our id is already in the ring")
        pred = await node.get_predecessor(owner)
        for _ in range(node.state.r):
            if pred is None or pred.id == me or not in_open(pred.id, me, owner.id):
                break
            try:  # it joined after the list we were given was copied: a closer successor
                pred, owner = await node.get_predecessor(pred), pred  # type: ignore[assignment]
            except RpcFailure:
                break  # a dead predecessor pointer: keep the owner we have
        owner_list = await node.get_successor_list(owner)
    except ChordError as exc:
        raise JoinFailed(f"join via {via} failed: {exc}") from exc
    m: PeerRef | None = None
    m_list: list[PeerRef] = []
    if pred is None and not owner_list:
        m = owner  # a lone owner precedes us too
    elif pred is not None and pred.id != me and in_open(me, pred.id, owner.id):
        try:
            m, m_list = pred, await node.get_successor_list(pred)
        except _FAILED:
            m = None  # cannot reach who precedes us: fall back to 2001's join
    if m is not None and (not m_list or in_half_open(me, m.id, m_list[0].id)):
        succs = m_list or [m]
        node.set_predecessor(m)
    else:
        succs = [owner, *owner_list]
        node.set_predecessor(None)
    node.state.clear_fingers()
    node.state.set_successors([p for p in succs if p.id != me])
    node.member = True
    node.next_finger = 0
    node.pace.changed()
    if node.config.stabilize_on_join:
        async with node.stabilize_lock:  # links us past joiners that landed before us
            await stabilize_once(node)
    else:
        await notify_successor(node)
    with contextlib.suppress(*_FAILED):
        await node.get_peers(via)


async def join_any(node: ChordHost, candidates: Sequence[PeerRef | str]) -> PeerRef:
    """Bootstrap: try configured addresses / cached peers in order until one join works."""
    errors: list[str] = []
    for cand in candidates:
        try:
            if isinstance(cand, str):
                cand = await node.client.identify(cand, node.config.rpc_timeout)
            assert isinstance(cand, PeerRef)
            await join(node, cand)
            return cand
        except (ChordError, OSError) as exc:
            errors.append(f"{cand}: {exc}")
    raise JoinFailed("no bootstrap peer worked: " + "; ".join(errors[-5:]) if errors else "none")


def rectify(node: ChordHost, peer: PeerRef) -> None:
    """Zave's rectify: adopt ``peer`` as predecessor if closer, or once the old one is dead."""
    me = node.me.id
    if peer.id == me:
        return
    pred = node.state.predecessor
    if pred is None or pred.id == peer.id or in_open(peer.id, pred.id, me):
        node.set_predecessor(peer)
        if pred is not None and pred.id != peer.id and node.config.successor_hints:
            # The old predecessor still takes us for its successor, while ``peer`` now lies
            # between: asking for its list is its hint to stabilize now (and adopt ``peer``).
            node.metrics.displaced_hints += 1
            node.spawn(_hint(node, pred))
        return
    task = node.rectify_task
    if task is None or task.done():  # one verification at a time bounds the work
        node.rectify_task = node.spawn(_rectify_check(node, pred, peer))


async def _hint(node: ChordHost, peer: PeerRef) -> None:
    with contextlib.suppress(*_FAILED):
        await node.get_successor_list(peer)


async def _rectify_check(node: ChordHost, old: PeerRef, peer: PeerRef) -> None:
    try:
        await node.ping(old)
        return
    except _FAILED:
        pass
    cur = node.state.predecessor
    if cur is None or cur.id == old.id or in_open(peer.id, cur.id, node.me.id):
        node.set_predecessor(peer)


async def check_predecessor(node: ChordHost) -> None:
    """Forget a predecessor that does not answer a ping."""
    pred = node.state.predecessor
    if pred is None:
        return
    try:
        await node.ping(pred)
    except _FAILED:
        if node.state.predecessor is pred:
            node.set_predecessor(None)


async def fix_fingers(node: ChordHost) -> None:
    """Refresh the next distinct finger: ~log2 N calls make a full sweep."""
    st = node.state
    succ = st.successor
    if not node.member or succ is None:
        node.next_finger = 0
        return
    i = node.next_finger
    if (1 << i) <= dist(node.me.id, succ.id):
        nxt = st.set_finger(i, succ)  # targets up to the successor all map to it
    else:
        target = finger_target(node.me.id, i)
        owner = await _still_owner(node, st.finger(i), target)
        if owner is None:
            try:
                owner = (await node.lookup(target)).owner
            except ChordError:
                node.next_finger = 0
                return
        nxt = st.set_finger(i, owner)
    node.next_finger = 0 if nxt >= ID_BITS else nxt


async def _still_owner(node: ChordHost, cur: PeerRef | None, target: int) -> PeerRef | None:
    """``cur`` if it still owns ``target`` — its predecessor does not lie in ``[target, cur)``
    — asked over its open session (no lookup, no dial); else ``None``."""
    if cur is None or not node.config.prefer_warm or node.suspected(cur.id):
        return None
    try:
        q = await node.get_predecessor(cur)
    except _FAILED:
        return None
    if q is not None and dist(target, q.id) < dist(target, cur.id):
        return None  # a node joined in [target, cur): look it up
    node.metrics.fingers_confirmed += 1
    return cur


async def fix_all_fingers(node: ChordHost) -> None:
    """One full sweep of :func:`fix_fingers`."""
    node.next_finger = 0
    for _ in range(ID_BITS + 1):
        await fix_fingers(node)
        if node.next_finger == 0:
            return


async def leave(node: ChordHost) -> None:
    """Graceful leave: stop, then predecessor gets our list, successor our predecessor.

    The timers stop *first*: a stabilize round still in flight would otherwise notify our
    successor after it processed our leave, and it would take us back as its predecessor.
    """
    was_member = node.member
    node.member = False
    await node.stop()
    st = node.state
    if was_member:
        params: dict[str, Any] = {
            "succs": encode_peers(st.successors),
            "pred": None if st.predecessor is None else encode_peer(st.predecessor),
        }
        targets = {p.id: p for p in (st.predecessor, st.successor) if p is not None}
        for p in targets.values():
            with contextlib.suppress(*_FAILED):
                await node.rpc(p, LEAVE, params)


def start_timers(node: ChordHost) -> list[asyncio.Task[Any]]:
    """Adaptive stabilize and jittered periodic check_predecessor / fix_fingers tasks."""
    cfg = node.config
    loop = asyncio.get_running_loop()
    return [
        loop.create_task(_stabilize_timer(node)),
        loop.create_task(_every(node, cfg.check_predecessor_interval, node.check_predecessor)),
        loop.create_task(_every(node, cfg.fix_fingers_interval, node.fix_fingers)),
    ]


async def _every(node: ChordHost, period: float, action: Callable[[], Awaitable[None]]) -> None:
    j = node.config.jitter
    while True:
        await node.sleep(period * (1 + j * (2 * node.rng.random() - 1)))
        try:
            await action()
        except ChordError as exc:  # maintenance must outlive any one peer's misbehaviour
            log.debug("%s maintenance step failed: %s", node.me, exc)


async def _stabilize_timer(node: ChordHost) -> None:
    pace = node.pace
    while True:
        await pace.wait(node.now, node.sleep)
        if pace.fast:
            node.metrics.fast_stabilizes += 1
        pace.ran()
        try:
            await node.stabilize()
        except ChordError as exc:
            log.debug("%s stabilize failed: %s", node.me, exc)
