"""What one node holds for the DHT: validation on write, limits, expiry, persistence.

Storage keys in the :class:`~ohtchat.dht.replicas.ReplicaStore`:
``b"r" ‖ key`` → record, ``b"m" ‖ mailbox ‖ item id`` → mailbox item,
``b"x" ‖ mailbox ‖ item id`` → deletion marker; each value is the msgpack of its wire dict.
An in-memory index mirrors the store so limits and lookups cost no I/O.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ohtchat.dht.config import MAX_KEY, DhtConfig
from ohtchat.dht.errors import (
    BadRecord,
    ExpiredRecord,
    FutureRecord,
    NotOwner,
    QuotaExceeded,
    RecordRefused,
    RecordTooLarge,
    StaleRecord,
)
from ohtchat.dht.mailbox import MailboxItem
from ohtchat.dht.metrics import DhtMetrics
from ohtchat.dht.quota import MailboxQuotas
from ohtchat.dht.record import DeleteMarker, Record, key_location, pack, unpack
from ohtchat.dht.replicas import ReplicaStore

log = logging.getLogger(__name__)

REC, ITEM, MARK = b"r", b"m", b"x"


@dataclass(frozen=True)
class Entry:
    """One held entry as maintenance sees it: where it lives and how to send it."""

    #: ``"r"`` record, ``"m"`` mailbox item, ``"x"`` deletion marker.
    kind: str
    location: int
    #: What ``dht_have`` compares: ``[key, seq]`` or ``[mailbox, item id]``.
    digest: list[Any]
    wire: dict[str, Any]
    skey: bytes
    size: int


class Holdings:
    """The entries this node stores for others, with every holder-side check."""

    def __init__(self, replicas: ReplicaStore, config: DhtConfig, metrics: DhtMetrics) -> None:
        self.replicas = replicas
        self.config = config
        self.metrics = metrics
        self.records: dict[bytes, Record] = {}
        self.items: dict[bytes, dict[bytes, MailboxItem]] = {}
        self.markers: dict[bytes, dict[bytes, DeleteMarker]] = {}
        self.total_bytes = 0
        self.total_entries = 0
        self._owner: Counter[bytes] = Counter()
        self._owner_n: Counter[bytes] = Counter()
        self._mbox: Counter[bytes] = Counter()
        #: The ticketed and open pools of every mailbox, with each signer's share.
        self.quotas = MailboxQuotas(config)
        self._load()

    # ----------------------------------------------------------------- loading
    def _load(self) -> None:
        for skey, blob in self.replicas.items():
            try:
                self._load_one(skey, unpack(blob))
            except BadRecord as exc:
                log.warning("dropping unreadable replica entry: %s", exc)
                self.replicas.delete(skey)

    def _load_one(self, skey: bytes, obj: object) -> None:
        kind = skey[:1]
        if kind == REC:
            self._add_record(Record.from_wire(obj))
        elif kind == ITEM:
            self._add_item(MailboxItem.from_wire(obj))
        elif kind == MARK:
            self._add_marker(DeleteMarker.from_wire(obj))
        else:
            raise BadRecord("unknown replica entry kind")

    # -------------------------------------------------------- index bookkeeping
    def _account(self, size: int, n: int) -> None:
        self.total_bytes += size
        self.total_entries += n

    def _add_record(self, rec: Record) -> None:
        self._account(rec.size, 1)
        self._owner[rec.owner] += rec.size
        self._owner_n[rec.owner] += 1
        self.records[rec.key] = rec

    def _drop_record(self, key: bytes) -> Record | None:
        rec = self.records.pop(key, None)
        if rec is not None:
            self._account(-rec.size, -1)
            self._owner[rec.owner] -= rec.size
            self._owner_n[rec.owner] -= 1
        return rec

    def _add_item(self, item: MailboxItem) -> None:
        self._account(item.size, 1)
        self._mbox[item.mailbox] += item.size
        self.quotas.add(item)
        self.items.setdefault(item.mailbox, {})[item.item_id] = item

    def _drop_item(self, mbox: bytes, iid: bytes) -> MailboxItem | None:
        box = self.items.get(mbox, {})
        item = box.pop(iid, None)
        if item is not None:
            self._account(-item.size, -1)
            self._mbox[mbox] -= item.size
            self.quotas.remove(item)
            if not box:
                del self.items[mbox]
        return item

    def _add_marker(self, m: DeleteMarker) -> None:
        self._account(m.size, 1)
        self.markers.setdefault(m.mailbox, {})[m.item_id] = m

    def _drop_marker(self, mbox: bytes, iid: bytes) -> DeleteMarker | None:
        marks = self.markers.get(mbox, {})
        m = marks.pop(iid, None)
        if m is not None:
            self._account(-m.size, -1)
            if not marks:
                del self.markers[mbox]
        return m

    def _room(self, size: int, entries: int = 1) -> None:
        cfg = self.config
        if (
            self.total_bytes + size > cfg.max_bytes
            or self.total_entries + entries > cfg.max_entries
        ):
            raise QuotaExceeded("node storage limit reached")

    def _refuse(self, exc: RecordRefused) -> RecordRefused:
        self.metrics.refused[exc.code] += 1
        return exc

    def _lifetime(self, expires: int, now: float, ttl: int) -> None:
        if expires <= now:
            raise ExpiredRecord("already expired")
        if expires > now + ttl + self.config.clock_skew:
            raise FutureRecord("expires further ahead than the longest lifetime")

    # ------------------------------------------------------------------ writes
    def accept_record(self, rec: Record, now: float) -> bool:
        """Validate and store ``rec``; True if stored, False if identical to the held one.

        Raises a :class:`RecordRefused` subclass (counted) when refused.
        """
        try:
            return self._accept_record(rec, now)
        except RecordRefused as exc:
            raise self._refuse(exc) from None

    def _accept_record(self, rec: Record, now: float) -> bool:
        cfg = self.config
        if len(rec.value) > cfg.max_value:
            raise RecordTooLarge(f"value exceeds {cfg.max_value} bytes")
        self._lifetime(rec.expires, now, cfg.max_ttl)
        rec.verify()
        held = self.records.get(rec.key)
        if held is not None and held.expires > now:
            if held.owner != rec.owner:
                raise NotOwner("key is held by another owner")
            if rec.seq == held.seq and rec.signature == held.signature:
                self.metrics.unchanged += 1
                return False
            if rec.seq <= held.seq:
                raise StaleRecord(f"held sequence {held.seq} is not older")
        old_size = held.size if held is not None else 0
        same_owner = held is not None and held.owner == rec.owner
        owner_bytes = self._owner[rec.owner] + rec.size - (old_size if same_owner else 0)
        owner_n = self._owner_n[rec.owner] + (0 if same_owner else 1)
        if owner_bytes > cfg.owner_max_bytes or owner_n > cfg.owner_max_records:
            raise QuotaExceeded("per-owner limit reached")
        self._room(rec.size - old_size, 0 if held is not None else 1)
        self._drop_record(rec.key)
        self._add_record(rec)
        self.replicas.put(REC + rec.key, rec.to_bytes())
        self.metrics.stored += 1
        return True

    def accept_item(self, item: MailboxItem, now: float) -> bool:
        """Validate and append a mailbox item; False if already held. Refusals raise."""
        try:
            return self._accept_item(item, now)
        except RecordRefused as exc:
            raise self._refuse(exc) from None

    def _accept_item(self, item: MailboxItem, now: float) -> bool:
        cfg = self.config
        if len(item.data) > cfg.max_item:
            raise RecordTooLarge(f"item exceeds {cfg.max_item} bytes")
        self._lifetime(item.expires, now, cfg.mailbox_ttl)
        item.verify()
        iid = item.item_id
        marks = self.markers.get(item.mailbox, {})
        if iid in marks:
            raise StaleRecord("item was deleted by the recipient")
        if item.signer in marks:
            raise StaleRecord("the recipient revoked this deposit key")
        if iid in self.items.get(item.mailbox, {}):
            self.metrics.unchanged += 1
            return False
        box = self.items.get(item.mailbox, {})
        # The pools split the mailbox limits: the ticketed pool only the owner's contacts can
        # fill, the small open pool any key; each signer has a share (see ohtchat.dht.quota).
        evict = self.quotas.make_room(item, box)
        freed = sum(e.size for e in evict)
        self._room(item.size - freed, 1 - len(evict))
        for e in evict:
            self._drop_item(e.mailbox, e.item_id)
            self.replicas.delete(ITEM + e.mailbox + e.item_id)
        self.metrics.mailbox_evicted += len(evict)
        self._add_item(item)
        self.replicas.put(ITEM + item.mailbox + iid, pack(item.to_wire()))
        self.metrics.stored += 1
        return True

    def accept_marker(self, m: DeleteMarker, now: float) -> bool:
        """Validate a signed deletion, drop the item, keep the marker; False if known."""
        try:
            return self._accept_marker(m, now)
        except RecordRefused as exc:
            raise self._refuse(exc) from None

    def _accept_marker(self, m: DeleteMarker, now: float) -> bool:
        self._lifetime(m.expires, now, self.config.mailbox_ttl)
        m.verify()
        held = self.markers.get(m.mailbox, {}).get(m.item_id)
        if held is not None and held.expires >= m.expires:
            self.metrics.unchanged += 1
            return False
        # A marker names an item id, or a deposit key it revokes (a removed contact's ticket
        # key, a stranger's key): that signer's items go too (32-byte ids and keys never meet).
        box = self.items.get(m.mailbox, {})
        gone = [it for iid, it in box.items() if m.item_id in (iid, it.signer)]
        freed = sum(it.size for it in gone) + (held.size if held is not None else 0)
        self._room(m.size - freed, 1 - len(gone) - (held is not None))
        for it in gone:
            self._drop_item(m.mailbox, it.item_id)
            self.replicas.delete(ITEM + m.mailbox + it.item_id)
        if held is not None:  # a renewed marker (a revocation re-sent) lasts longer
            self._drop_marker(m.mailbox, m.item_id)
        self._add_marker(m)
        self.replicas.put(MARK + m.mailbox + m.item_id, pack(m.to_wire()))
        self.metrics.stored += 1
        return True

    # ------------------------------------------------------------------- reads
    def record(self, key: bytes, now: float) -> Record | None:
        """The unexpired record held under ``key`` (tombstones included)."""
        rec = self.records.get(key)
        return rec if rec is not None and rec.expires > now else None

    def mailbox(self, mbox: bytes, now: float) -> list[MailboxItem]:
        """Unexpired items of a mailbox, ordered by item id."""
        box = self.items.get(mbox, {})
        return [box[i] for i in sorted(box) if box[i].expires > now]

    def wanted(self, kind: str, digests: Iterable[object], name: str = "digests") -> list[int]:
        """Indices of ``digests`` (``dht_have`` entries of field ``name``) this holder lacks or
        has older; :class:`BadRecord` naming the malformed entry."""
        out: list[int] = []
        for n, d in enumerate(digests):
            at = f"{name}[{n}]"
            if not isinstance(d, list | tuple) or len(d) != 2:
                raise BadRecord(f"field {at!r} must be a pair")
            a, b = d
            if kind == "r":
                if not isinstance(a, bytes) or not 1 <= len(a) <= MAX_KEY:
                    raise BadRecord(f"field '{at}[0]' must be a key of 1..{MAX_KEY} bytes")
                if not isinstance(b, int) or isinstance(b, bool):
                    raise BadRecord(f"field '{at}[1]' must be an integer (seq)")
                held = self.records.get(a)
                if held is None or held.seq < b:
                    out.append(n)
                continue
            if not isinstance(a, bytes) or len(a) != 32:
                raise BadRecord(f"field '{at}[0]' must be a 32-byte mailbox id")
            if not isinstance(b, bytes) or len(b) != 32:
                raise BadRecord(f"field '{at}[1]' must be a 32-byte item id")
            if b not in self.markers.get(a, {}) and (kind == "x" or b not in self.items.get(a, {})):
                out.append(n)
        return out

    def entries(self) -> list[Entry]:
        """Every held entry, ordered by ring location."""
        out = [
            Entry("r", key_location(k), [k, r.seq], r.to_wire(), REC + k, r.size)
            for k, r in self.records.items()
        ]
        for mbox, box in self.items.items():
            loc = int.from_bytes(mbox, "big")
            for iid, it in box.items():
                out.append(Entry("m", loc, [mbox, iid], it.to_wire(), ITEM + mbox + iid, it.size))
        for mbox, marks in self.markers.items():
            loc = int.from_bytes(mbox, "big")
            for iid, m in marks.items():
                out.append(Entry("x", loc, [mbox, iid], m.to_wire(), MARK + mbox + iid, m.size))
        out.sort(key=lambda e: e.location)
        return out

    # ---------------------------------------------------------------- removal
    def drop(self, entry: Entry) -> None:
        """Forget an entry (after handing it off)."""
        a, b = entry.digest
        if entry.kind == "r":
            self._drop_record(a)
        elif entry.kind == "m":
            self._drop_item(a, b)
        else:
            self._drop_marker(a, b)
        self.replicas.delete(entry.skey)

    def purge(self, now: float) -> int:
        """Drop every expired entry; returns how many."""
        gone = [e for e in self.entries() if e.wire["e"] <= now]
        for e in gone:
            self.drop(e)
        self.metrics.purged += len(gone)
        return len(gone)
