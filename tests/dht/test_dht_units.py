"""Records, codecs, holder checks and limits, replica stores, and the request parser."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from ohtchat.chord.errors import BadRequest
from ohtchat.crypto.ids import key_id
from ohtchat.crypto.keys import AccountKey
from ohtchat.dht import (
    BadRecord,
    DeleteMarker,
    Deposit,
    Dht,
    DhtConfig,
    ForgedRecord,
    MailboxItem,
    MemoryReplicas,
    NoSigner,
    QuotaExceeded,
    Record,
    StoreReplicas,
    key_location,
    mailbox_id,
)
from ohtchat.dht.holder import Holdings
from ohtchat.dht.metrics import DhtMetrics
from ohtchat.dht.record import mailbox_of_key, pack
from ohtchat.sim.loop import run_virtual
from ohtchat.store import Store
from tests.dht.simdht import DhtRing

NOW = 1_700_000_000
ALICE = AccountKey(b"\x0a" * 32)
BOB = AccountKey(b"\x0b" * 32)


def rec(key: bytes = b"k", value: bytes = b"v", seq: int = 1, who: AccountKey = ALICE) -> Record:
    return Record.create(who, key, value, seq, NOW + 3600)


def holdings(config: DhtConfig | None = None, replicas: Any = None) -> Holdings:
    return Holdings(replicas or MemoryReplicas(), config or DhtConfig(), DhtMetrics())


def test_record_codec_and_signature() -> None:
    r = rec()
    assert Record.from_wire(r.to_wire()) == r
    r.verify()
    assert r.body().startswith(b"ohtchat dht record v1\x00")
    for field, bad in [("v", b"w"), ("s", 2), ("e", NOW), ("t", True), ("o", BOB.public)]:
        w = r.to_wire()
        w[field] = bad
        if field == "t":
            w["v"] = b""
        with pytest.raises(ForgedRecord):
            Record.from_wire(w).verify()
    # Location is domain-separated from the plain key hash.
    assert key_location(b"k") != key_id(b"k")


@pytest.mark.parametrize(
    "field,value",
    [
        ("k", b""),
        ("k", b"x" * 257),
        ("k", "text"),
        ("o", b"short"),
        ("s", -1),
        ("s", 1 << 64),
        ("s", True),
        ("e", 1.5),
        ("t", 1),
        ("g", b"x" * 63),
        ("v", None),
    ],
)
def test_malformed_records_are_bad(field: str, value: object) -> None:
    w = rec().to_wire()
    w[field] = value
    with pytest.raises(BadRecord):
        Record.from_wire(w)


def test_tombstone_carries_no_value_and_maps_are_required() -> None:
    w = rec().to_wire()
    w["t"] = True
    with pytest.raises(BadRecord):
        Record.from_wire(w)
    with pytest.raises(BadRecord):
        Record.from_wire([1, 2])
    with pytest.raises(BadRecord):
        MailboxItem.from_wire({"m": b"x" * 32, "i": b"", "e": 1})


def test_mailbox_ids_and_delete_markers() -> None:
    mbox = mailbox_id(ALICE.account_id)
    assert mbox == hashlib.sha3_256(b"mailbox" + bytes.fromhex(ALICE.account_id)).digest()
    assert mbox == mailbox_of_key(ALICE.public)
    with pytest.raises(BadRecord):
        mailbox_id("not hex")
    m = DeleteMarker.create(ALICE, b"\x01" * 32, NOW)
    m.verify()
    assert DeleteMarker.from_wire(m.to_wire()) == m
    other = DeleteMarker(mbox, b"\x02" * 32, ALICE.public, m.signature, NOW)
    with pytest.raises(ForgedRecord):
        other.verify()  # signature is for another item


def test_config_validation() -> None:
    for bad in (
        {"replicas": 0},
        {"max_value": 0},
        {"max_item": 70_000},
        {"default_ttl": 10, "max_ttl": 5},
        {"jitter": 1.0},
        {"rpc_timeout": 0},
        {"batch_bytes": 300 * 1024},
    ):
        with pytest.raises(ValueError):
            DhtConfig(**bad)  # type: ignore[arg-type]


def test_holder_quotas() -> None:
    h = holdings(DhtConfig(owner_max_records=2, max_entries=3))
    assert h.accept_record(rec(b"a"), NOW)
    assert not h.accept_record(rec(b"a"), NOW)  # identical: idempotent
    assert h.accept_record(rec(b"a", seq=2), NOW)  # replacing costs no new slot
    assert h.accept_record(rec(b"b"), NOW)
    with pytest.raises(QuotaExceeded):
        h.accept_record(rec(b"c"), NOW)  # per-owner count
    assert h.accept_record(rec(b"c", who=BOB), NOW)
    with pytest.raises(QuotaExceeded):
        h.accept_record(rec(b"d", who=BOB), NOW)  # node entry limit
    assert h.metrics.refused["quota"] == 2
    small = holdings(DhtConfig(owner_max_bytes=300))
    small.accept_record(rec(b"a", b"x" * 100), NOW)
    with pytest.raises(QuotaExceeded):
        small.accept_record(rec(b"b", b"x" * 100), NOW)


def test_expired_records_lose_ownership_and_are_purged() -> None:
    h = holdings()
    h.accept_record(Record.create(ALICE, b"k", b"v", 5, NOW + 10), NOW)
    later = NOW + 20
    assert h.record(b"k", later) is None
    assert h.accept_record(Record.create(BOB, b"k", b"mine", 1, later + 100), later)
    assert h.purge(later + 200) == 1 and not h.records and h.total_bytes == 0


def test_wanted_digests() -> None:
    h = holdings()
    h.accept_record(rec(b"a", seq=5), NOW)
    assert h.wanted("r", [[b"a", 5], [b"a", 6], [b"b", 1]]) == [1, 2]
    mbox = mailbox_of_key(ALICE.public)
    h.accept_item(MailboxItem.create(Deposit(BOB), mbox, b"box", NOW + 100), NOW)
    iid = hashlib.sha3_256(b"box").digest()
    assert h.wanted("m", [[mbox, iid], [mbox, b"\x00" * 32]]) == [1]
    assert h.wanted("x", [[mbox, iid]]) == [0]
    with pytest.raises(BadRecord):
        h.wanted("r", [[b"a"]])


def test_replicas_persist_through_the_store() -> None:
    store = Store.memory()
    reps = StoreReplicas(store)
    h = holdings(replicas=reps)
    h.accept_record(rec(b"a"), NOW)
    mbox = mailbox_of_key(ALICE.public)
    h.accept_item(MailboxItem.create(Deposit(BOB), mbox, b"item", NOW + 100), NOW)
    h.accept_marker(DeleteMarker.create(ALICE, b"\x03" * 32, NOW + 100), NOW)
    store.put_replica(b"r" + b"junk", b"\xc1")  # unreadable: dropped on load
    again = holdings(replicas=reps)
    assert again.records == h.records and again.items == h.items and again.markers == h.markers
    assert again.total_bytes == h.total_bytes and store.get_replica(b"rjunk") is None
    mem = MemoryReplicas()
    mem.put(b"r" + b"a", pack(rec(b"a").to_wire()))
    assert b"a" in holdings(replicas=mem).records


def test_handle_refuses_malformed_requests() -> None:
    async def main() -> None:
        r = DhtRing(1)
        d = r.live()[0]
        bad: list[tuple[str, Any]] = [
            ("dht_nope", {}),
            ("dht_store", []),
            ("dht_store", {}),
            ("dht_store", {"recs": "x"}),
            ("dht_store", {"recs": [rec().to_wire()] * 65}),
            ("dht_store", {"recs": [{"k": b"k"}]}),
            ("dht_fetch", {"key": "text"}),
            ("dht_fetch", {"key": b""}),
            ("dht_have", {"recs": [[b"k", "one"]]}),
            ("dht_have", {"items": [[b"k", b"short"]]}),
            ("dht_mbox_fetch", {"mbox": b"short"}),
            ("dht_mbox_fetch", {"mbox": b"x" * 32, "after": 5}),
            ("dht_mbox_put", {"items": [{"m": b"x" * 32, "i": b"y", "e": -1}]}),
            ("dht_mbox_delete", {"dels": [{"m": b"x"}]}),
        ]
        for method, params in bad:
            with pytest.raises(BadRequest):
                await d.handle(None, method, params)
        assert d.metrics.bad_requests == len(bad)

    run_virtual(main())


def test_lone_node_and_read_only_node() -> None:
    async def main() -> None:
        r = DhtRing(1)
        d = r.live()[0]
        res = await d.put(b"solo", b"v", ttl=60)
        assert res.stored_on == 1
        got = await d.get("solo")
        assert got is not None and got.value == b"v"
        ro = Dht(d.chord, None, MemoryReplicas(), d.config)
        with pytest.raises(NoSigner):
            await ro.put("x", b"y")
        with pytest.raises(BadRecord):
            await d.put("", b"y")
        with pytest.raises(BadRecord):
            await d.put("k", b"y", ttl=10**9)

    run_virtual(main())
