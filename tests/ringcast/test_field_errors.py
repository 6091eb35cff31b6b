"""``ringcast_deliver``: a bad or missing field is refused (``bad_request``), naming it."""

from __future__ import annotations

import os
from typing import Any

import pytest

from ohtchat.chord.errors import BadRequest
from ohtchat.crypto.keys import AccountKey
from ohtchat.ringcast.message import signed_body
from ohtchat.ringcast.node import DELIVER, Ringcast
from ohtchat.ringcast.session import serve_ringcast
from ohtchat.session.rpc import RpcError
from tests.ringcast.test_ringcast_guard import T0, Origin, receiver
from tests.tcpring import TcpRingNode

Params = dict[str, Any]

BAD_VALUES: dict[str, list[object]] = {
    "v": [2, "1", True, None],
    "id": [b"i" * 15, b"i" * 17, "id", None],
    "acct": [b"a" * 31, None],
    "sig": [b"s" * 63, None],
    "onion": [5, "x" * 71, None],
    "ts": [-1, 2**63, "now", None],
    "ct": [2, -1, None],
    "hops": [0, 1025, True, None],
    "body": ["text", None, b"x" * 8193],
    "cert": [b"c" * 143, "cert"],
    "limit": [b"l" * 31, None],
}


def cases() -> list[tuple[str, object]]:
    return [(name, bad) for name, bads in BAD_VALUES.items() for bad in bads]


@pytest.mark.parametrize(("name", "bad"), cases())
async def test_a_malformed_field_is_named(name: str, bad: object) -> None:
    rc, _, got = receiver()
    params = Origin().msg()
    if bad is None:
        del params[name]
    else:
        params[name] = bad
    with pytest.raises(BadRequest) as info:
        await rc.handle(None, DELIVER, params)
    assert str(info.value).startswith(f"field '{name}'"), str(info.value)
    assert got == []


def _resigned(origin: Origin, params: Params, **changes: Any) -> Params:
    """``params`` with ``changes`` applied and a fresh, valid origin signature over them."""
    p = {**params, **changes}
    body = signed_body(p["id"], p["acct"], p["onion"], p["ts"], p["ct"], p["body"])
    return {**p, "sig": origin.acct.sign(body)}


async def test_checks_after_the_shape_also_name_their_field() -> None:
    rc, _, got = receiver()
    o = Origin()
    good = o.msg()
    other = Origin()
    failing: list[tuple[Params, str]] = [
        ({**good, "sig": bytes(64)}, "sig"),  # does not verify
        ({**good, "body": b"tampered"}, "sig"),
        ({**good, "onion": good["onion"].upper()}, "onion"),  # not canonical
        ({**good, "onion": other.node.onion}, "sig"),  # signed for another node key
        (_resigned(o, good, ct=1, body=b"\xc1"), "body"),  # ct 1: not msgpack
        (_resigned(o, good, ct=1, body=b"\x93\x01\x02\x03"), "body"),  # ct 1: not a map
        ({**good, "cert": AccountKey().certify(o.node.public, int(T0) - 10).to_bytes()}, "cert"),
    ]
    for params, name in failing:
        with pytest.raises(BadRequest) as info:
            await rc.handle(None, DELIVER, params)
        assert str(info.value).startswith(f"field '{name}'"), str(info.value)
    assert got == []
    assert (await rc.handle(None, DELIVER, good)) == {"ok": True, "dup": False}


async def test_over_a_session_the_error_is_bad_request_naming_the_field() -> None:
    x, asker = await TcpRingNode.start(), await TcpRingNode.start()
    x.node.create()
    serve_ringcast(x.router, x.pool, Ringcast(x.node, x.account))
    try:
        assert x.pool.listen_address
        params = {**Origin().msg(), "hops": 0, "id": os.urandom(16)}
        with pytest.raises(RpcError) as info:
            await asker.pool.request(x.pool.listen_address, x.identity.onion, DELIVER, params, 10)
        assert info.value.code == "bad_request"
        assert info.value.detail.startswith("field 'hops' must be an integer in [1, 1024]")
    finally:
        await x.kill()
        await asker.kill()
