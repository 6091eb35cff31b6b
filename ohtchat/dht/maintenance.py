"""Replica maintenance: purge expired entries, republish own records, re-replicate, hand off.

Push model, run by every holder (see docs/dht.md): for each group of held entries that
share a responsible set, ask every responsible node which entries it lacks or has older
(``dht_have``), push those, and — if this node is no longer one of the k responsible
nodes — drop the group once at least one responsible node holds it. This one pass covers
both re-replication after a holder died (the k-th successor moves up and is filled) and
hand-off on join (the joiner becomes responsible and is filled by the old holders).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from ohtchat.chord.errors import RpcFailure
from ohtchat.chord.ring import dist
from ohtchat.chord.rpc import PeerRef
from ohtchat.dht import ops
from ohtchat.dht.errors import BadRecord, DhtError
from ohtchat.dht.holder import Entry
from ohtchat.dht.host import DhtHost
from ohtchat.dht.wire import HAVE, MAX_BATCH, MAX_DIGESTS, MBOX_DELETE, MBOX_PUT, STORE, indices
from ohtchat.dht.wire import results as parse_results

log = logging.getLogger(__name__)

#: Wire method and list name used to push each kind of entry.
PUSH = {"r": (STORE, "recs"), "m": (MBOX_PUT, "items"), "x": (MBOX_DELETE, "dels")}
KIND_FIELD = {"r": "recs", "m": "items", "x": "dels"}


async def maintain(dht: DhtHost) -> None:
    """One full pass; passes never overlap."""
    async with dht.maintain_lock:
        dht.metrics.maintenance_runs += 1
        dht.holdings.purge(dht.now())
        await republish(dht)
        if dht.chord.member:
            await replicate(dht)


async def republish(dht: DhtHost) -> None:
    """Write a fresh version of each own record whose remaining lifetime is running out."""
    now = dht.now()
    for key, own in list(dht.own.items()):
        if own.expires - now > own.ttl * dht.config.republish_fraction:
            continue
        try:
            await ops.write(dht, key, own.value, own.ttl, False)
            dht.metrics.republished += 1
        except DhtError as exc:
            log.debug("%s could not republish a record: %s", dht.me, exc)


async def replicate(dht: DhtHost) -> None:
    """Make every held entry present on its k responsible nodes; hand off the rest."""
    entries = dht.holdings.entries()
    i = 0
    while i < len(entries):
        loc = entries[i].location
        try:
            holders = await dht.responsible(loc)
        except DhtError as exc:
            log.debug("%s cannot resolve holders: %s", dht.me, exc)
            j = i
            while j < len(entries) and entries[j].location == loc:
                j += 1
            i = j
            continue
        # Every entry in [loc, owner] has the same owner, so the same responsible set.
        reach = dist(loc, holders[0].id)
        j = i
        while j < len(entries) and dist(loc, entries[j].location) <= reach:
            j += 1
        await sync_group(dht, holders, entries[i:j])
        i = j


async def sync_group(dht: DhtHost, holders: Sequence[PeerRef], group: list[Entry]) -> None:
    """Push ``group`` to each of ``holders`` that lacks parts of it; hand off if not ours."""
    responsible = any(p.id == dht.me.id for p in holders)
    synced = 0
    for peer in holders:
        if peer.id == dht.me.id:
            continue
        try:
            await _sync_peer(dht, peer, group)
            synced += 1
        except RpcFailure as exc:
            log.debug("%s could not sync with %s: %s", dht.me, peer, exc)
        except BadRecord:
            dht.metrics.bad_replies += 1
    if not responsible and synced:
        for e in group:
            dht.holdings.drop(e)
        dht.metrics.handed_off += len(group)


async def _sync_peer(dht: DhtHost, peer: PeerRef, group: list[Entry]) -> None:
    for k in range(0, len(group), MAX_DIGESTS):
        chunk = group[k : k + MAX_DIGESTS]
        by_kind: dict[str, list[Entry]] = {"r": [], "m": [], "x": []}
        for e in chunk:
            by_kind[e.kind].append(e)
        params = {KIND_FIELD[kd]: [e.digest for e in es] for kd, es in by_kind.items()}
        reply = await dht.call(peer, HAVE, params)
        for kd, es in by_kind.items():
            want = [es[n] for n in indices(reply, KIND_FIELD[kd], len(es))]
            await _push(dht, peer, kd, want)


async def _push(dht: DhtHost, peer: PeerRef, kind: str, entries: list[Entry]) -> None:
    """Send entries in batches bounded by count and bytes."""
    method, name = PUSH[kind]
    batch: list[dict[str, Any]] = []
    size = 0
    for e in entries:
        if batch and (len(batch) == MAX_BATCH or size + e.size > dht.config.batch_bytes - 4096):
            await _send(dht, peer, method, name, batch)
            batch, size = [], 0
        batch.append(e.wire)
        size += e.size
    if batch:
        await _send(dht, peer, method, name, batch)


async def _send(
    dht: DhtHost, peer: PeerRef, method: str, name: str, batch: list[dict[str, Any]]
) -> None:
    reply = await dht.call(peer, method, {name: batch})
    res = parse_results(reply, len(batch))
    dht.metrics.pushed += sum(r is None for r in res)


async def run_timer(dht: DhtHost) -> None:
    """Maintain every ``maintain_interval·(1 ± jitter)``, and soon after the predecessor
    changes (a joiner took over part of our arc: hand its entries over early)."""
    cfg = dht.config
    chord = dht.chord

    def pred_id() -> int | None:
        p = chord.state.predecessor
        return None if p is None else p.id

    def period() -> float:
        return cfg.maintain_interval * (1 + cfg.jitter * (2 * dht.rng.random() - 1))

    last_pred = pred_id()
    due = chord.now() + period()
    while True:
        await dht.sleep(cfg.handoff_poll * (1 + cfg.jitter * (2 * dht.rng.random() - 1)))
        if pred_id() == last_pred and chord.now() < due:
            continue
        last_pred = pred_id()
        due = chord.now() + period()
        try:
            await maintain(dht)
        except (DhtError, RpcFailure) as exc:  # maintenance must outlive any one peer
            log.debug("%s dht maintenance failed: %s", dht.me, exc)
