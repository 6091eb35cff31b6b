"""Client operations of the DHT: put, get, delete and the mailbox, against k replicas.

Writes go to every responsible node in parallel and count acceptances; reads ask every
responsible node in parallel, verify each answer (shape, key, signature, expiry) and keep
the newest. Nothing a peer returns is trusted.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ohtchat.chord.errors import RpcFailure
from ohtchat.chord.rpc import PeerRef
from ohtchat.crypto.keys import AccountKey, SigningKey
from ohtchat.dht.config import MAX_KEY
from ohtchat.dht.errors import (
    REFUSALS,
    BadRecord,
    DhtUnavailable,
    ForgedRecord,
    NoSigner,
    RecordTooLarge,
)
from ohtchat.dht.host import DhtHost, OwnRecord
from ohtchat.dht.mailbox import Deposit, MailboxItem
from ohtchat.dht.quorum import Answer, Mark, decide
from ohtchat.dht.record import DeleteMarker, Record, key_location, mailbox_id
from ohtchat.dht.wire import (
    FETCH,
    MAX_BATCH,
    MAX_PAGE_ITEMS,
    MBOX_DELETE,
    MBOX_FETCH,
    MBOX_PUT,
    STORE,
    results,
)

#: Most pages read from one holder's mailbox in one fetch.
MAX_PAGES = 64


@dataclass(frozen=True)
class PutResult:
    """Where a write landed: ``stored_on`` of the ``holders`` accepted it."""

    key: bytes
    seq: int
    expires: int
    stored_on: int
    holders: tuple[PeerRef, ...]
    #: Refusals by code (e.g. ``{"stale": 1}``).
    refused: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class MailboxResult:
    """A mailbox item stored on ``stored_on`` of its mailbox's responsible nodes."""

    item_id: bytes
    stored_on: int


def as_key(key: str | bytes) -> bytes:
    """A DHT key from text (UTF-8) or bytes; :class:`BadRecord` if empty or too long."""
    raw = key.encode() if isinstance(key, str) else key
    if not isinstance(raw, bytes) or not 1 <= len(raw) <= MAX_KEY:
        raise BadRecord(f"key must be 1..{MAX_KEY} bytes")
    return raw


async def _gather(
    dht: DhtHost, peers: Sequence[PeerRef], method: str, params: dict[str, Any]
) -> list[dict[str, Any] | None]:
    """Call every peer in parallel; ``None`` for each failed call."""

    async def one(p: PeerRef) -> dict[str, Any] | None:
        try:
            return await dht.call(p, method, params)
        except RpcFailure:
            return None

    return list(await asyncio.gather(*(one(p) for p in peers)))


def _count(dht: DhtHost, replies: list[dict[str, Any] | None], n: int) -> tuple[int, Counter[str]]:
    """How many holders accepted all ``n`` entries, and the refusal codes seen."""
    ok, refused = 0, Counter[str]()
    for reply in replies:
        if reply is None:
            continue
        try:
            res = results(reply, n)
        except BadRecord:
            dht.metrics.bad_replies += 1
            continue
        codes = [c for c in res if c is not None]
        refused.update(codes)
        ok += not codes
    return ok, refused


async def store(dht: DhtHost, rec: Record) -> PutResult:
    """Store a signed record on the k responsible nodes of its key."""
    holders = await dht.responsible(rec.location)
    replies = await _gather(dht, holders, STORE, {"recs": [rec.to_wire()]})
    ok, refused = _count(dht, replies, 1)
    return PutResult(rec.key, rec.seq, rec.expires, ok, tuple(holders), dict(refused))


def _raise_for(result: PutResult) -> None:
    if result.stored_on:
        return
    if result.refused:
        code = max(result.refused, key=lambda c: result.refused[c])
        raise REFUSALS[code](f"every holder refused the record ({code})")
    raise DhtUnavailable("no responsible node stored the record")


def _signer(dht: DhtHost) -> AccountKey:
    if dht.signer is None:
        raise NoSigner("this node has no account key to sign records with")
    return dht.signer


async def write(dht: DhtHost, key: bytes, value: bytes, ttl: int, tombstone: bool) -> PutResult:
    """Sign a new version of ``key`` (seq above anything we wrote) and store it.

    If every holder answers "stale" (another device of the account wrote a higher seq), read
    the newest seq and retry once above it.
    """
    signer = _signer(dht)
    now = int(dht.now())
    own = dht.own.get(key)
    seq = max(own.seq + 1 if own else 0, int(dht.now() * 1000))
    result: PutResult | None = None
    for _ in range(2):
        rec = Record.create(signer, key, value, seq, now + ttl, tombstone)
        result = await store(dht, rec)
        if result.stored_on or set(result.refused) != {"stale"}:
            break
        newest = await fetch_newest(dht, key)
        if newest is None:
            break
        seq = newest.seq + 1
    assert result is not None
    _raise_for(result)
    if tombstone:
        dht.own.pop(key, None)
    else:
        dht.own[key] = OwnRecord(value, ttl, result.seq, result.expires)
    return result


async def put(dht: DhtHost, key: str | bytes, value: bytes, ttl: int | None) -> PutResult:
    """``/put``: validate locally, then :func:`write`."""
    cfg = dht.config
    raw = as_key(key)
    if not isinstance(value, bytes):
        raise BadRecord("value must be bytes")
    if len(value) > cfg.max_value:
        raise RecordTooLarge(f"value exceeds {cfg.max_value} bytes")
    t = cfg.default_ttl if ttl is None else ttl
    if not 0 < t <= cfg.max_ttl:
        raise BadRecord(f"ttl must be in (0, {cfg.max_ttl}] seconds")
    dht.metrics.puts += 1
    return await write(dht, raw, value, t, False)


async def delete(dht: DhtHost, key: str | bytes) -> int:
    """``/delete``: a tombstone lasting the longest TTL, so it outlives every older version."""
    dht.metrics.deletes += 1
    result = await write(dht, as_key(key), b"", dht.config.max_ttl, True)
    return result.stored_on


def check_record(dht: DhtHost, obj: object, key: bytes) -> Record | None:
    """A record a holder returned for ``key``, verified; ``None`` (counted) if bad or expired."""
    try:
        rec = Record.from_wire(obj, where="rec")
        if rec.key != key:
            raise BadRecord("field 'rec.k' is not the key asked for")
        rec.verify()
    except (BadRecord, ForgedRecord):
        dht.metrics.bad_replies += 1
        return None
    return rec if rec.expires > dht.now() else None


async def fetch_newest(dht: DhtHost, key: bytes) -> Record | None:
    """The newest valid record (tombstones included) of the key's owner among the responsible
    nodes.

    Holders may disagree on who owns a key (one of them may be lying, or an attacker squatted
    the key on one holder): the owner is the one the most holders answer with, ties going to
    the holder nearest the key, and only that owner's records count. A single holder can then
    neither hide a record behind a forged newer one nor substitute its own owner.

    The read returns as soon as a strict majority of the holders agree on that answer
    (:func:`ohtchat.dht.quorum.decide`) instead of waiting for the slowest holder; the calls
    still running finish in the background (a dial they complete leaves a session open).
    """
    holders = await dht.responsible(key_location(key))
    answers: list[Answer] = [Mark.PENDING] * len(holders)
    pending = {dht.chord.spawn(_fetch_one(dht, p, key)): i for i, p in enumerate(holders)}
    rec: Record | None = None
    while pending:
        done, _ = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            answers[pending.pop(task)] = task.result()
        settled, rec = decide(answers)
        if settled:
            break
    if all(a is Mark.FAILED for a in answers):
        raise DhtUnavailable("no responsible node answered")
    return rec


async def _fetch_one(dht: DhtHost, peer: PeerRef, key: bytes) -> Answer:
    """One holder's answer for ``key``: its verified record, or what it amounts to."""
    try:
        reply = await dht.call(peer, FETCH, {"key": key})
    except RpcFailure:
        return Mark.FAILED
    obj = reply.get("rec")
    rec = None if obj is None else check_record(dht, obj, key)
    return Mark.EMPTY if rec is None else rec


async def get(dht: DhtHost, key: str | bytes) -> Record | None:
    """``/get``: the newest live value, ``None`` when absent or deleted."""
    dht.metrics.gets += 1
    rec = await fetch_newest(dht, as_key(key))
    if rec is None or rec.tombstone:
        return None
    dht.metrics.get_hits += 1
    return rec


# --------------------------------------------------------------------- mailbox
async def mailbox_put(
    dht: DhtHost,
    recipient_account_id: str,
    data: bytes,
    ttl: int | None,
    deposit: Deposit | None = None,
) -> MailboxResult:
    """Append ``data`` (an opaque sealed box) to the recipient's mailbox on k nodes, signed
    with ``deposit`` (a contact's ticket key and ticket); without one, with the deposit key
    this node's account derives for that mailbox (a fresh key if it has no account)."""
    cfg = dht.config
    mbox = mailbox_id(recipient_account_id)
    if not isinstance(data, bytes) or not data:
        raise BadRecord("item must be non-empty bytes")
    if len(data) > cfg.max_item:
        raise RecordTooLarge(f"item exceeds {cfg.max_item} bytes")
    t = cfg.mailbox_ttl if ttl is None else ttl
    if not 0 < t <= cfg.mailbox_ttl:
        raise BadRecord(f"ttl must be in (0, {cfg.mailbox_ttl}] seconds")
    dht.metrics.mailbox_puts += 1
    if deposit is None:
        deposit = Deposit.derived(dht.signer, mbox) if dht.signer else Deposit(SigningKey())
    item = MailboxItem.create(deposit, mbox, data, int(dht.now()) + t)
    holders = await dht.responsible(int.from_bytes(mbox, "big"))
    replies = await _gather(dht, holders, MBOX_PUT, {"items": [item.to_wire()]})
    ok, refused = _count(dht, replies, 1)
    _raise_for(PutResult(mbox, 0, item.expires, ok, tuple(holders), dict(refused)))
    return MailboxResult(item.item_id, ok)


async def _fetch_all(dht: DhtHost, peer: PeerRef, mbox: bytes) -> dict[bytes, bytes]:
    """Every item one holder has, page by page; a bad page ends the walk (counted)."""
    out: dict[bytes, bytes] = {}
    after: bytes | None = None
    for _ in range(MAX_PAGES):
        try:
            reply = await dht.call(peer, MBOX_FETCH, {"mbox": mbox, "after": after})
        except RpcFailure:
            break
        try:
            page = _page(reply, mbox, after)
        except BadRecord:
            dht.metrics.bad_replies += 1
            break
        out.update(page)
        if not page or reply.get("more") is not True:
            break
        after = max(page)
    return out


def _page(reply: dict[str, Any], mbox: bytes, after: bytes | None) -> dict[bytes, bytes]:
    raw = reply.get("items")
    if not isinstance(raw, list) or len(raw) > MAX_PAGE_ITEMS:
        raise BadRecord(f"field 'items' must be an array of at most {MAX_PAGE_ITEMS} items")
    if not isinstance(reply.get("more"), bool):
        raise BadRecord("field 'more' must be a boolean")
    page: dict[bytes, bytes] = {}
    last = after or b""
    for n, obj in enumerate(raw):
        item = MailboxItem.from_wire(obj, f"items[{n}]")
        iid = item.item_id
        if item.mailbox != mbox:
            raise BadRecord(f"field 'items[{n}].m' is not the mailbox asked for")
        if iid <= last:
            raise BadRecord(f"field 'items[{n}]' is out of order (ids must increase past 'after')")
        page[iid] = item.data
        last = iid
    return page


async def mailbox_fetch(dht: DhtHost, recipient_account_id: str) -> list[tuple[bytes, bytes]]:
    """The union of the mailbox over every responsible node, ordered by item id."""
    dht.metrics.mailbox_fetches += 1
    mbox = mailbox_id(recipient_account_id)
    holders = await dht.responsible(int.from_bytes(mbox, "big"))
    found: dict[bytes, bytes] = {}
    for part in await asyncio.gather(*(_fetch_all(dht, p, mbox) for p in holders)):
        found.update(part)
    return sorted(found.items())


async def mailbox_delete(dht: DhtHost, account: AccountKey, item_ids: Sequence[bytes]) -> int:
    """Signed deletions of items from ``account``'s mailbox, on every responsible node."""
    ids = list(dict.fromkeys(item_ids))
    if not all(isinstance(i, bytes) and len(i) == 32 for i in ids):
        raise BadRecord("item ids must be 32 bytes")
    dht.metrics.mailbox_deletes += 1
    if not ids:
        return 0
    expires = int(dht.now()) + dht.config.mailbox_ttl
    marks = [DeleteMarker.create(account, i, expires).to_wire() for i in ids]
    holders = await dht.responsible(int.from_bytes(marks[0]["m"], "big"))
    chunks = [marks[k : k + MAX_BATCH] for k in range(0, len(marks), MAX_BATCH)]
    accepted = [0] * len(holders)  # chunks each holder accepted in full
    for chunk in chunks:
        replies = await _gather(dht, holders, MBOX_DELETE, {"dels": chunk})
        for n, reply in enumerate(replies):
            accepted[n] += _count(dht, [reply], len(chunk))[0]
    return sum(a == len(chunks) for a in accepted)
