"""Stabilize after Zave, with the additions that link concurrent joiners within a round or two.

Zave's round: drop dead first successors (shifting the list), ask the first live one ``s`` for
its predecessor and list, rebuild ``[s] + s.list[:r-1]``, adopt ``p = s.pred`` only if it lies
in ``(self, s)`` and answers (its own list then rebuilds ours), then notify ``s``.

Concurrent joiners into one gap used to be linked one per round (each notify keeps only the
closest predecessor). Three additions, each adopting only a live member in ``(self, s)`` — the
step Zave's proof allows — remove that (see docs/chord.md):

* **walk**: after adopting ``s.pred``, ask the new successor for *its* predecessor and repeat
  (``stabilize_walk`` steps at most);
* **notify replies**: ``notify`` answers with the responder's predecessor; one that lies
  between us and the responder is adopted at once and notified in turn;
* **hints**: a node between us and our successor that asks for our successor list (a joiner
  copying it; a node that takes us for its predecessor, which asks while its neighbourhood
  changes) is a candidate successor, adopted like ``s.pred`` if it answers.
"""

from __future__ import annotations

import contextlib
import logging

from ohtchat.chord.errors import BadReply, JoinFailed, RpcFailure
from ohtchat.chord.host import ChordHost
from ohtchat.chord.ring import dist, in_open
from ohtchat.chord.rpc import NOTIFY, PeerRef, decode_optional_peer, encode_peer

log = logging.getLogger(__name__)
_FAILED = (RpcFailure, BadReply)
#: Candidates (``s.pred`` and hints) tried per walk step before giving up on the step.
_TRIES = 2


async def stabilize(node: ChordHost) -> None:
    """One stabilize round (serialised per node)."""
    if not node.member:
        return
    async with node.stabilize_lock:
        await stabilize_once(node)


async def stabilize_once(node: ChordHost) -> None:
    """One stabilize round; the caller holds ``node.stabilize_lock``."""
    st = node.state
    if not st.successors:  # alone: our successor is ourselves, its predecessor ours
        new = await _walk(node, node.me, st.predecessor, [])
        if new:
            st.set_successors(new)
            node.pace.changed()
            await notify_successor(node)
        return
    while True:
        if not st.successors:
            return  # a failed rejoin (spawned below) left us alone meanwhile
        s = st.successors[0]
        try:
            s_pred = await node.get_predecessor(s)
            s_list = await node.get_successor_list(s)
            break
        except _FAILED as exc:
            if isinstance(exc, BadReply):
                node.count_bad(exc)
            node.metrics.successors_dropped += 1
            if len(st.successors) == 1:
                # Every successor is gone: outside Zave's failure assumption. Keep the dead
                # entry (we are not alone) and try to rejoin through anyone we know.
                node.spawn(_rejoin(node))
                return
            st.set_successors(st.successors[1:])
    first = s.id
    st.set_successors(await _walk(node, s, s_pred, s_list))
    if st.successors and st.successors[0].id != first:
        node.metrics.successor_changes += 1
        node.pace.changed()
    await notify_successor(node)
    await _remind_predecessor(node)


async def _answers(node: ChordHost, peer: PeerRef) -> list[PeerRef] | None:
    """``peer``'s successor list, or ``None`` when it does not answer (counted)."""
    try:
        return await node.get_successor_list(peer)
    except _FAILED as exc:
        if isinstance(exc, BadReply):
            node.count_bad(exc)
        return None


async def _walk(
    node: ChordHost, s: PeerRef, s_pred: PeerRef | None, s_list: list[PeerRef]
) -> list[PeerRef]:
    """``[s] + s.list``; or, while ``s.pred`` or a hint lies in ``(self, s)`` and answers, the
    same from the closest such node (each step is Zave's adoption of a live member in
    ``(self, s)``; at most ``stabilize_walk`` steps). ``s`` is ourselves when we are alone."""
    cfg, me, r = node.config, node.me.id, node.state.r
    new = [s, *s_list[: r - 1]] if s.id != me else []
    for step in range(cfg.stabilize_walk):
        cands: dict[int, PeerRef] = {}
        if s_pred is not None and in_open(s_pred.id, me, s.id):
            cands[s_pred.id] = s_pred
        if cfg.successor_hints:
            for h in node.hints.between(s.id, node.now()):
                cands.setdefault(h.id, h)
        adopted: tuple[PeerRef, list[PeerRef]] | None = None
        for c in sorted(cands.values(), key=lambda p: dist(me, p.id))[:_TRIES]:
            c_list = await _answers(node, c)
            node.hints.discard(c.id)
            if c_list is not None:
                adopted = c, c_list
                break
        if adopted is None:
            break
        s, new = adopted[0], [adopted[0], *adopted[1][: r - 1]]
        if step:
            node.metrics.stabilize_walk_steps += 1
        if step + 1 == cfg.stabilize_walk:
            break
        try:
            s_pred = await node.get_predecessor(s)
        except _FAILED as exc:
            if isinstance(exc, BadReply):
                node.count_bad(exc)
            break
    return new


async def notify_successor(node: ChordHost) -> None:
    """Notify the first successor. Its reply names its predecessor: one between us and it
    (a concurrent joiner) is adopted at once if it answers, and notified in turn — at most
    ``stabilize_walk - 1`` times."""
    st, me = node.state, node.me.id
    for step in range(node.config.stabilize_walk):
        succ = st.successor
        if succ is None:
            return
        try:
            reply = await node.rpc(succ, NOTIFY, {"peer": encode_peer(node.me)})
            pred = decode_optional_peer(reply.get("pred"), "pred")
        except _FAILED as exc:
            if isinstance(exc, BadReply):
                node.count_bad(exc)
            return
        if step + 1 == node.config.stabilize_walk:
            return
        if pred is None or pred.id == me or not in_open(pred.id, me, succ.id):
            return
        p_list = await _answers(node, pred)
        if p_list is None:
            return
        st.set_successors([pred, *p_list[: st.r - 1]])
        node.metrics.successor_changes += 1
        node.metrics.notify_walk_steps += 1
        node.pace.changed()


async def _remind_predecessor(node: ChordHost) -> None:
    """Once per new predecessor, ask it for its list: if its successor skips us, the call is
    its hint that we lie between (see :mod:`ohtchat.chord.adaptive`)."""
    pred, succ = node.state.predecessor, node.state.successor
    if not node.config.successor_hints or pred is None or node.pace.reminded == pred.id:
        return
    node.pace.reminded = pred.id
    if succ is not None and succ.id == pred.id:
        return  # a ring of two: our successor's stabilize already covers it
    node.metrics.predecessor_reminders += 1
    with contextlib.suppress(*_FAILED):
        await node.get_successor_list(pred)


async def _rejoin(node: ChordHost) -> None:
    node.metrics.rejoins += 1
    pred = node.state.predecessor
    cands = [*([pred] if pred else []), *node.state.known(), *node.peer_cache.peers()]
    dead = node.state.successor
    seen = {node.me.id} | ({dead.id} if dead else set())
    uniq = []
    for p in cands:
        if p.id not in seen:
            seen.add(p.id)
            uniq.append(p)
    try:
        await node.join_any(uniq)
    except JoinFailed as exc:
        # Alone rather than out: a node that is no ring's member refuses every joiner, so
        # peers restarting through it (all its neighbours died at once) could never get in.
        log.warning("%s lost the ring, rejoin failed (%s): alone until joined", node.me, exc)
        node.create()
