"""Ring arithmetic, peer codecs, routing state and config validation."""

from __future__ import annotations

import random

import pytest

from ohtchat.chord.config import ChordConfig
from ohtchat.chord.errors import BadIdentity, BadReply, OutOfRange
from ohtchat.chord.lookup import parse_step
from ohtchat.chord.peers import PeerCache
from ohtchat.chord.ring import ID_SPACE, dist, finger_target, in_half_open, in_open
from ohtchat.chord.rpc import (
    PeerRef,
    check_ordered_from,
    decode_peer,
    decode_peers,
    encode_id,
    encode_peer,
    encode_peers,
)
from ohtchat.chord.state import RoutingState, truncate_at
from ohtchat.crypto.onion import onion_address


def make_peers(n: int, seed: int = 0) -> list[PeerRef]:
    rng = random.Random(seed)
    return [PeerRef.from_onion(onion_address(rng.randbytes(32)), f"p{i}") for i in range(n)]


def test_intervals_wrap_and_degenerate() -> None:
    top = ID_SPACE - 1
    assert in_open(0, top, 5) and in_open(top, 10, 0)
    assert not in_open(10, 10, 20) and not in_open(20, 10, 20)
    assert in_half_open(20, 10, 20) and not in_half_open(10, 10, 20)
    assert in_open(3, 7, 7) and not in_open(7, 7, 7)  # whole circle but the point
    assert in_half_open(7, 7, 7)
    assert dist(top, 1) == 2 and dist(5, 5) == 0
    assert finger_target(top, 0) == 0
    with pytest.raises(ValueError):
        finger_target(0, 256)


def test_peer_roundtrip_and_identity_check() -> None:
    p, q = make_peers(2)
    assert decode_peer(encode_peer(p)) == p
    lying = encode_peer(p) | {"id": encode_id(q.id)}
    with pytest.raises(BadIdentity):
        decode_peer(lying)
    for bad in (
        None,
        {},
        encode_peer(p) | {"id": b"short"},
        encode_peer(p) | {"onion": p.onion.upper()},
        encode_peer(p) | {"onion": "x" * 56 + ".onion"},
        encode_peer(p) | {"addr": ""},
        encode_peer(p) | {"addr": 5},
    ):
        with pytest.raises(BadReply):
            decode_peer(bad)
    with pytest.raises(BadReply):
        decode_peers([encode_peer(p)] * 65)


def test_ordered_lists() -> None:
    peers = sorted(make_peers(6), key=lambda p: p.id)
    origin = peers[0].id
    check_ordered_from(origin, peers[1:])
    for bad in (peers[1:][::-1], [peers[1], peers[1]], [peers[0]], [peers[2], peers[1]]):
        with pytest.raises(BadReply):
            check_ordered_from(origin, bad)
    # truncate_at stops where a copied list wraps back past its new owner
    assert truncate_at(peers[2].id, [peers[3], peers[4], peers[0], peers[1], peers[2]], 8) == [
        peers[3],
        peers[4],
        peers[0],
        peers[1],
    ]
    assert truncate_at(peers[2].id, peers[3:], 2) == peers[3:5]


def test_routing_state_steps_and_fingers() -> None:
    peers = sorted(make_peers(40, seed=3), key=lambda p: p.id)
    me = peers[0]
    st = RoutingState(me, 4)
    assert st.step(123, 8).peers == (me,)  # alone: we own everything
    st.set_successors(peers[1:5])
    for i in (100, 200, 250, 254, 255):
        st.set_finger(i, peers[20 + i % 7])
    key = (peers[3].id - 1) % ID_SPACE
    s = st.step(key, 8)
    assert s.done and s.peers == tuple(peers[3:5])
    far = (peers[30].id + 1) % ID_SPACE
    s = st.step(far, 3)
    assert not s.done and len(s.peers) <= 3
    assert all(in_open(p.id, me.id, far) for p in s.peers)
    dists = [dist(p.id, far) for p in s.peers]
    assert dists == sorted(dists)  # closest to the key first
    assert st.step(far, 3, skip=lambda i: i == s.peers[0].id).peers[0] != s.peers[0]
    rows = st.finger_rows()
    assert rows[0].peer == peers[1] and all(r.first <= r.last for r in rows)
    finger = peers[20 + 100 % 7]
    assert finger in st.known() and st.remove(finger.id)
    assert finger not in st.known() and not st.remove(finger.id)


def test_set_finger_skips_covered_indices() -> None:
    peers = make_peers(2, seed=9)
    me, other = peers
    st = RoutingState(me, 4)
    nxt = st.set_finger(0, other)
    assert nxt == dist(me.id, other.id).bit_length()
    assert st.set_finger(nxt, me) == 256  # wrapped: no more fingers


def test_parse_step_rejects_out_of_range_and_accepts_good() -> None:
    peers = sorted(make_peers(10, seed=5), key=lambda p: p.id)
    responder = peers[2]
    key = (peers[6].id - 1) % ID_SPACE
    good = parse_step(
        {"done": False, "peers": encode_peers([peers[5], peers[4]])}, responder, key, 8
    )
    assert good.peers == (peers[5], peers[4])
    with pytest.raises(OutOfRange):  # not strictly between responder and key
        parse_step({"done": False, "peers": encode_peers([peers[7]])}, responder, key, 8)
    with pytest.raises(OutOfRange):
        parse_step({"done": False, "peers": encode_peers([responder])}, responder, key, 8)
    with pytest.raises(OutOfRange):  # an owner that does not follow the key
        parse_step({"done": True, "peers": encode_peers([peers[4]])}, responder, key, 8)
    assert parse_step({"done": True, "peers": encode_peers(peers[6:9])}, responder, key, 8).done
    for junk in ({}, {"done": 1, "peers": []}, {"done": True, "peers": []}, {"done": False}):
        with pytest.raises(BadReply):
            parse_step(junk, responder, key, 8)


def test_peer_cache_bounds_and_export() -> None:
    peers = make_peers(10, seed=7)
    cache = PeerCache(4, self_id=peers[0].id)
    cache.confirm(peers[0])  # ourselves: ignored
    cache.hear(peers[1:6])
    cache.confirm(peers[7])
    assert len(cache) == 4 and cache.peers()[0] == peers[7]
    cache.forget(peers[7].id)
    assert peers[7] not in cache.peers()
    cache.confirm(peers[8])
    other = PeerCache(8, self_id=peers[0].id)
    assert other.load([*cache.export(), {"junk": 1}]) == 1
    assert other.peers() == [peers[8]]


def test_config_validation() -> None:
    for bad in ({"successors": 0}, {"max_hops": 0}, {"jitter": 1.0}, {"rpc_timeout": 0}):
        with pytest.raises(ValueError):
            ChordConfig(**bad)
