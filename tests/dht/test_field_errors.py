"""Every DHT method's params and results: a bad or missing field is refused, naming it."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from ohtchat.chord.errors import BadRequest
from ohtchat.crypto.keys import AccountKey, SigningKey
from ohtchat.dht import BadRecord, DeleteMarker, Deposit, Dht, MailboxItem, MemoryReplicas, Record
from ohtchat.dht.ops import _page, check_record
from ohtchat.dht.session import serve_dht
from ohtchat.dht.wire import indices, results
from ohtchat.session.rpc import RpcError
from ohtchat.sim.loop import run_virtual
from tests.dht.simdht import BASE, DhtRing
from tests.tcpring import TcpRingNode

Params = dict[str, Any]
ALICE = AccountKey(b"\x0a" * 32)
EXPIRES = int(BASE) + 3600
MBOX = b"m" * 32
DEPOSIT = Deposit(SigningKey(b"\x05" * 32))


def _rec() -> Params:
    return Record.create(ALICE, b"key", b"value", 1, EXPIRES).to_wire()


def _item() -> Params:
    return MailboxItem.create(DEPOSIT, MBOX, b"sealed", EXPIRES).to_wire()


def _marker() -> Params:
    return DeleteMarker.create(ALICE, b"i" * 32, EXPIRES).to_wire()


def _broken(entry: Params, changes: dict[str, list[object]]) -> list[tuple[Params, str]]:
    """``entry`` with each field replaced by each bad value, and removed: (entry, field)."""
    out = [({k: v for k, v in entry.items() if k != name}, name) for name in changes]
    out += [({**entry, name: bad}, name) for name, bads in changes.items() for bad in bads]
    return out


RECORD_FIELDS: dict[str, list[object]] = {
    "k": [b"", b"k" * 257, "key"],
    "v": ["value", b"v" * (192 * 1024 + 1)],
    "o": [b"o" * 31, None],
    "s": [-1, True, 2**64, 1.5],
    "e": ["soon", -5],
    "t": [1, None],
    "g": [b"g" * 63, "sig"],
}
ITEM_FIELDS: dict[str, list[object]] = {
    "m": [b"m" * 31, "mbox"],
    "i": [b"", b"i" * (64 * 1024 + 1), "sealed"],
    "e": [-1, False],
    "s": [b"s" * 31, None],
    "g": [b"g" * 63],
}
MARKER_FIELDS: dict[str, list[object]] = {
    "m": [b"m" * 33],
    "d": [b"d"],
    "p": [b"p" * 31],
    "g": [b"g" * 65],
    "e": [2**64],
}


def request_cases() -> list[tuple[str, Params, str]]:
    """(method, params, field the error must name) for every DHT method."""
    cases: list[tuple[str, Params, str]] = [
        ("dht_store", {}, "recs"),
        ("dht_store", {"recs": "x"}, "recs"),
        ("dht_store", {"recs": [_rec()] * 65}, "recs"),
        ("dht_store", {"recs": [5]}, "recs[0]"),
        ("dht_store", {"recs": [_rec(), {**_rec(), "o": b""}]}, "recs[1].o"),
        ("dht_store", {"recs": [{**_rec(), "t": True}]}, "recs[0].v"),  # a tombstone's value
        ("dht_fetch", {}, "key"),
        ("dht_fetch", {"key": b""}, "key"),
        ("dht_fetch", {"key": "text"}, "key"),
        ("dht_have", {"recs": "x"}, "recs"),
        ("dht_have", {"recs": [[b"k", 1]] * 513}, "recs"),
        ("dht_have", {"recs": [[b"k"]]}, "recs[0]"),
        ("dht_have", {"recs": [[b"", 1]]}, "recs[0][0]"),
        ("dht_have", {"recs": [[b"k", 1], [b"k", "one"]]}, "recs[1][1]"),
        ("dht_have", {"items": [[b"x" * 31, b"y" * 32]]}, "items[0][0]"),
        ("dht_have", {"items": [[b"x" * 32, b"y"]]}, "items[0][1]"),
        ("dht_have", {"dels": [5]}, "dels[0]"),
        ("dht_have", {"dels": [[b"x" * 32, None]]}, "dels[0][1]"),
        ("dht_mbox_put", {}, "items"),
        ("dht_mbox_put", {"items": [None]}, "items[0]"),
        ("dht_mbox_fetch", {}, "mbox"),
        ("dht_mbox_fetch", {"mbox": b"x"}, "mbox"),
        ("dht_mbox_fetch", {"mbox": MBOX, "after": 5}, "after"),
        ("dht_mbox_fetch", {"mbox": MBOX, "after": b"a"}, "after"),
        ("dht_mbox_delete", {}, "dels"),
        ("dht_mbox_delete", {"dels": {}}, "dels"),
    ]
    cases += [
        ("dht_store", {"recs": [r]}, f"recs[0].{f}") for r, f in _broken(_rec(), RECORD_FIELDS)
    ]
    cases += [
        ("dht_mbox_put", {"items": [i]}, f"items[0].{f}") for i, f in _broken(_item(), ITEM_FIELDS)
    ]
    # The ticket is optional, but when present it must be a well-formed map.
    cases += [
        ("dht_mbox_put", {"items": [{**_item(), "t": "ticket"}]}, "items[0].t"),
        ("dht_mbox_put", {"items": [{**_item(), "t": {"a": b"a" * 32}}]}, "items[0].t.g"),
    ]
    cases += [
        ("dht_mbox_delete", {"dels": [d]}, f"dels[0].{f}")
        for d, f in _broken(_marker(), MARKER_FIELDS)
    ]
    return cases


def test_every_bad_request_field_is_named() -> None:
    async def main() -> None:
        d = DhtRing(1).live()[0]
        cases = request_cases()
        for method, params, name in cases:
            with pytest.raises(BadRequest) as info:
                await d.handle(None, method, params)
            assert f"field '{name}'" in str(info.value), (method, name, str(info.value))
        assert d.metrics.bad_requests == len(cases)
        # The well-formed versions of the same entries are answered (refusals in the result).
        ok = await d.handle(None, "dht_store", {"recs": [_rec()]})
        assert ok == {"res": [None]}

    run_virtual(main())


@pytest.mark.parametrize(
    ("reply", "count", "name"),
    [
        ({}, 1, "res"),
        ({"res": None}, 1, "res"),
        ({"res": [None]}, 2, "res"),
        ({"res": [None, "nope"]}, 2, "res[1]"),
        ({"res": [None, 3]}, 2, "res[1]"),
    ],
)
def test_write_results_name_the_field(reply: Params, count: int, name: str) -> None:
    with pytest.raises(BadRecord, match=re.escape(f"field '{name}'")):
        results(reply, count)


def test_have_indices_fetch_records_and_mailbox_pages_name_the_field() -> None:
    for reply, name in (
        ({"recs": "x"}, "recs"),
        ({"recs": [0, 5]}, "recs[1]"),
        ({"recs": [1, 0]}, "recs[1]"),
        ({"recs": [True]}, "recs[0]"),
    ):
        with pytest.raises(BadRecord, match=re.escape(f"field '{name}'")):
            indices(reply, "recs", 3)
    for rec, name in _broken(_rec(), RECORD_FIELDS):
        with pytest.raises(BadRecord, match=re.escape(f"field 'rec.{name}'")):
            Record.from_wire(rec, where="rec")
    first = MailboxItem.create(DEPOSIT, MBOX, b"a", EXPIRES)
    second = MailboxItem.create(DEPOSIT, MBOX, b"b", EXPIRES)
    low, high = sorted((first, second), key=lambda i: i.item_id)
    for page, name in (
        ({"more": False}, "items"),
        ({"items": [low.to_wire()]}, "more"),
        ({"items": [low.to_wire()], "more": 1}, "more"),
        ({"items": [{**low.to_wire(), "m": b"n" * 32}], "more": False}, "items[0].m"),
        ({"items": [{**low.to_wire(), "e": "x"}], "more": False}, "items[0].e"),
        ({"items": [high.to_wire(), low.to_wire()], "more": False}, "items[1]"),
    ):
        with pytest.raises(BadRecord, match=re.escape(f"field '{name}'")):
            _page(page, MBOX, None)
    assert _page({"items": [low.to_wire(), high.to_wire()], "more": False}, MBOX, None)


def test_a_fetched_record_for_another_key_is_discarded_and_counted() -> None:
    async def main() -> None:
        d = DhtRing(1).live()[0]
        assert check_record(d, _rec(), b"other key") is None
        assert check_record(d, {**_rec(), "k": 5}, b"key") is None
        assert d.metrics.bad_replies == 2
        assert check_record(d, _rec(), b"key") is not None

    run_virtual(main())


async def test_over_a_session_a_bad_entry_is_bad_request_naming_it() -> None:
    x, asker = await TcpRingNode.start(), await TcpRingNode.start()
    serve_dht(x.router, x.pool, Dht(x.node, x.account, MemoryReplicas(), clock=time.time))
    try:
        assert x.pool.listen_address
        params = {"recs": [{**_rec(), "g": b"short"}]}
        with pytest.raises(RpcError) as info:
            await asker.pool.request(
                x.pool.listen_address, x.identity.onion, "dht_store", params, 10
            )
        assert info.value.code == "bad_request"
        assert info.value.detail.startswith("field 'recs[0].g' must be 64 bytes")
    finally:
        await x.kill()
        await asker.kill()
