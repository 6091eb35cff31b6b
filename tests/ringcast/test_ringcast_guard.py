"""What a receiver refuses: forged, tampered, replayed, stale, oversize, malformed, rate-limited."""

from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ohtchat.chord.errors import BadRequest
from ohtchat.chord.rpc import PeerRef
from ohtchat.crypto.keys import AccountKey, NodeKey
from ohtchat.ringcast.config import RingcastConfig
from ohtchat.ringcast.errors import BadPayload, PayloadTooLarge, RateLimited
from ohtchat.ringcast.message import Broadcast, RingcastMessage
from ohtchat.ringcast.node import DELIVER, Ringcast
from ohtchat.sim.harness import SimRing

T0 = 1_800_000_000.0


class Clock:
    def __init__(self) -> None:
        self.t = T0

    def __call__(self) -> float:
        return self.t


def receiver(config: RingcastConfig | None = None) -> tuple[Ringcast, Clock, list[Broadcast]]:
    """A lone ring member (so nothing is relayed) with a controllable clock."""
    node = SimRing(seed=1).build_ideal(1)[0]
    clock = Clock()
    got: list[Broadcast] = []
    rc = Ringcast(node, AccountKey(), config, clock=clock, on_deliver=got.append)
    return rc, clock, got


class Origin:
    def __init__(self) -> None:
        self.acct = AccountKey()
        self.node = NodeKey()

    def msg(self, payload: Any = b"hi", ts: float = T0, msg_id: bytes | None = None) -> dict:
        m = RingcastMessage.create(
            self.acct, self.node.onion, int(ts * 1000), payload, msg_id or os.urandom(16)
        )
        return m.routed(12345, 1).to_params()


async def test_valid_message_is_delivered_once_and_replay_is_a_duplicate() -> None:
    rc, clock, got = receiver()
    params = Origin().msg({"text": "hello"})
    assert await rc.handle(None, DELIVER, params) == {"ok": True, "dup": False}
    assert await rc.handle(None, DELIVER, dict(params)) == {"ok": True, "dup": True}
    clock.t += 30
    assert (await rc.handle(None, DELIVER, params))["dup"] is True
    assert len(got) == 1 and got[0].payload == {"text": "hello"} and got[0].hops == 1
    assert got[0].sent_at == pytest.approx(T0)
    assert rc.metrics.delivered == 1 and rc.metrics.duplicates == 2


async def test_replay_after_expiry_is_refused_as_too_old() -> None:
    rc, clock, got = receiver(RingcastConfig(max_age=60))
    params = Origin().msg()
    await rc.handle(None, DELIVER, params)
    clock.t += 61
    rc.seen.purge(clock.t)
    assert len(rc.seen) == 0  # forgotten: the age check now carries the refusal
    assert await rc.handle(None, DELIVER, params) == {"ok": False, "why": "too_old"}
    assert await rc.handle(None, DELIVER, Origin().msg(ts=T0 + 200)) == {
        "ok": False,
        "why": "in_future",
    }
    assert len(got) == 1 and rc.metrics.refused_stale == 2


async def test_full_dedup_memory_raises_a_watermark_so_no_double_delivery() -> None:
    rc, _, got = receiver(RingcastConfig(seen_capacity=2))
    o = Origin()
    first = o.msg(ts=T0 - 3)
    for p in (first, o.msg(ts=T0 - 2), o.msg(ts=T0 - 1)):
        assert (await rc.handle(None, DELIVER, p))["ok"] is True
    assert rc.seen.evictions == 1
    assert await rc.handle(None, DELIVER, first) == {"ok": False, "why": "too_old"}
    assert (await rc.handle(None, DELIVER, o.msg(ts=T0)))["ok"] is True
    assert len(got) == 4


@pytest.mark.parametrize("field", ["body", "id", "ts", "ct", "acct", "sig", "onion"])
async def test_tampered_or_forged_messages_are_refused(field: str) -> None:
    rc, _, got = receiver()
    params = Origin().msg(b"original")
    other = Origin().msg(b"other")
    forged = dict(params)
    if field == "body":
        forged["body"] = b"changed!"
    elif field == "ts":
        forged["ts"] = params["ts"] - 1
    elif field == "ct":
        forged["ct"] = 1
    else:  # swap in another origin's id / key / signature / onion
        forged[field] = other[field]
    with pytest.raises(BadRequest):
        await rc.handle(None, DELIVER, forged)
    assert got == [] and rc.metrics.refused_bad == 1
    # The genuine message is not shadowed by the forgery.
    assert (await rc.handle(None, DELIVER, params))["dup"] is False


async def test_oversize_payload_refused_both_ways() -> None:
    rc, _, got = receiver(RingcastConfig(max_payload=100))
    with pytest.raises(BadRequest, match=r"field 'body' has 101 bytes, more than 100"):
        await rc.handle(None, DELIVER, Origin().msg(b"x" * 101))
    assert (await rc.handle(None, DELIVER, Origin().msg(b"x" * 100)))["ok"] is True
    with pytest.raises(PayloadTooLarge):
        await rc.broadcast(b"y" * 101)
    with pytest.raises(PayloadTooLarge):
        await rc.broadcast({"t": "y" * 100})
    for bad in ("text", 3, [b"x"], {1: "int key"}, {"k": object()}):
        with pytest.raises(BadPayload):
            await rc.broadcast(bad)  # type: ignore[arg-type]
    assert len(got) == 1


async def test_rate_limit_per_origin() -> None:
    rc, clock, got = receiver(RingcastConfig(rate=0.5, burst=3))
    spammer, other = Origin(), Origin()
    replies = [await rc.handle(None, DELIVER, spammer.msg()) for _ in range(5)]
    assert [r["ok"] for r in replies] == [True, True, True, False, False]
    assert replies[-1]["why"] == "rate_limited" and rc.metrics.refused_rate == 2
    assert (await rc.handle(None, DELIVER, other.msg()))["ok"] is True
    clock.t += 2.0  # one token back
    assert (await rc.handle(None, DELIVER, spammer.msg(ts=clock.t)))["ok"] is True
    assert (await rc.handle(None, DELIVER, spammer.msg(ts=clock.t)))["ok"] is False
    assert len(got) == 5
    # The origin's own budget: its broadcasts stop before the receivers would refuse them.
    for _ in range(3):
        await rc.broadcast(b"mine")
    with pytest.raises(RateLimited):
        await rc.broadcast(b"one too many")


async def test_a_flood_of_fresh_accounts_through_one_peer_is_bounded() -> None:
    # Accounts are free: 150 ringcasts, each from a new account, all handed over by one
    # attacking peer. Its forwarder budget (burst 30) stops the flood; a broadcast relayed by
    # an honest peer still gets through, and the attacker's budget refills only slowly.
    rc, clock, got = receiver()
    attacker = PeerRef(1, "a" * 56 + ".onion", "attacker")
    honest = PeerRef(2, "b" * 56 + ".onion", "honest")
    replies = [await rc.handle(attacker, DELIVER, Origin().msg()) for _ in range(150)]
    accepted = sum(r["ok"] for r in replies)
    assert accepted == RingcastConfig().caller_burst and len(got) == accepted
    assert {r.get("why") for r in replies if not r["ok"]} == {"rate_limited"}
    assert (await rc.handle(honest, DELIVER, Origin().msg()))["ok"] is True
    clock.t += 1.0  # two tokens back for the attacker, not thirty
    later = [await rc.handle(attacker, DELIVER, Origin().msg(ts=clock.t)) for _ in range(10)]
    assert sum(r["ok"] for r in later) == 2


async def test_certificate_checked_when_present_or_required() -> None:
    rc, _, got = receiver(RingcastConfig(require_certificate=True))
    o = Origin()
    with pytest.raises(BadRequest, match="field 'cert' is required"):
        await rc.handle(None, DELIVER, o.msg())
    cert = o.acct.certify(o.node.public, int(T0) - 10)
    ok = RingcastMessage.create(o.acct, o.node.onion, int(T0 * 1000), b"c", os.urandom(16), cert)
    assert (await rc.handle(None, DELIVER, ok.routed(1, 1).to_params()))["ok"] is True
    assert got[-1].certified is True
    stranger = AccountKey().certify(o.node.public, int(T0) - 10)
    bad = RingcastMessage.create(
        o.acct, o.node.onion, int(T0 * 1000), b"c", os.urandom(16), stranger
    )
    with pytest.raises(BadRequest, match="another account"):
        await rc.handle(None, DELIVER, bad.routed(1, 1).to_params())
    wrong_node = o.acct.certify(NodeKey().public, int(T0) - 10)
    bad2 = RingcastMessage.create(
        o.acct, o.node.onion, int(T0 * 1000), b"c", os.urandom(16), wrong_node
    )
    with pytest.raises(BadRequest, match="certificate"):
        await rc.handle(None, DELIVER, bad2.routed(1, 1).to_params())
    assert len(got) == 1
    with pytest.raises(ValueError):
        Ringcast(rc.chord, AccountKey(), certificate=cert)  # not our node key


async def test_unknown_method_and_callback_failures() -> None:
    rc, _, _ = receiver()
    with pytest.raises(BadRequest):
        await rc.handle(None, "ringcast_nope", {})
    with pytest.raises(BadRequest):
        await rc.handle(None, DELIVER, "not a map")  # type: ignore[arg-type]

    def boom(_: Broadcast) -> None:
        raise RuntimeError("UI crashed")

    seen: list[bytes] = []

    async def slow(b: Broadcast) -> None:
        seen.append(b.msg_id)

    rc.on_deliver = boom
    assert (await rc.handle(None, DELIVER, Origin().msg()))["ok"] is True
    rc.on_deliver = slow
    assert (await rc.handle(None, DELIVER, Origin().msg()))["ok"] is True
    await rc.drain()
    assert len(seen) == 1 and rc.metrics.delivered == 2


_field = st.sampled_from(
    ["v", "id", "acct", "onion", "ts", "ct", "body", "sig", "cert", "limit", "hops"]
)
_junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True),
    st.binary(max_size=80),
    st.text(max_size=80),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=3),
)


@settings(max_examples=300, deadline=None)
@given(changes=st.dictionaries(_field, _junk, min_size=1, max_size=4), drop=st.sets(_field))
def test_fuzzed_params_are_refused_cleanly(changes: dict, drop: set) -> None:
    import asyncio

    async def main() -> None:
        rc, _, got = receiver()
        params = Origin().msg()
        orig = dict(params)
        params.update(changes)
        for f in drop:
            params.pop(f, None)
        try:
            reply = await rc.handle(None, DELIVER, params)
        except BadRequest:
            assert got == []
            return
        if reply["ok"] is False:  # a well-formed but stale timestamp
            assert reply["why"] in {"too_old", "in_future"} and got == []
            return
        # Only changes that keep the signed content intact may pass.
        assert reply == {"ok": True, "dup": False} and len(got) == 1
        changed = {f for f, v in changes.items() if type(v) is not type(orig[f]) or v != orig[f]}
        assert not {"id", "acct", "onion", "ts", "ct", "body", "sig"} & (changed | drop)

    asyncio.run(main())
