"""Every Chord method's params and results: a bad or missing field is refused, naming it.

Also what a node answers for a key equal to its own id (it owns it: ``done`` with itself), and
that a lookup's validation accepts exactly that (docs/protocol.md, ``find_successor``).
"""

from __future__ import annotations

import random
import re
from typing import Any

import pytest

from ohtchat.chord.config import ChordConfig
from ohtchat.chord.errors import BadReply, BadRequest, NotMember, OutOfRange
from ohtchat.chord.lookup import parse_step
from ohtchat.chord.node import ChordNode
from ohtchat.chord.ring import ID_SPACE, in_half_open
from ohtchat.chord.rpc import PeerRef, decode_peers, encode_id, encode_peer, encode_peers
from ohtchat.crypto.onion import onion_address
from ohtchat.session.rpc import RpcError
from ohtchat.sim.harness import SimRing
from ohtchat.sim.loop import run_virtual
from tests.tcpring import TcpRingNode

Params = dict[str, Any]


def ring(n: int = 6) -> tuple[SimRing, list[ChordNode]]:
    r = SimRing(seed=4, config=ChordConfig(successors=4))
    return r, sorted(r.build_ideal(n), key=lambda x: x.me.id)


def stranger(seed: int = 99) -> PeerRef:
    return PeerRef.from_onion(onion_address(random.Random(seed).randbytes(32)), "x:1")


def _bad_peer(p: PeerRef) -> list[tuple[Params, str]]:
    """A peer map broken in each of its fields, with the field path the error must name."""
    good = encode_peer(p)
    other = encode_peer(stranger(7))
    return [
        ({**good, "id": b"short"}, ".id"),
        ({k: v for k, v in good.items() if k != "id"}, ".id"),
        ({**good, "onion": p.onion.upper()}, ".onion"),
        ({**good, "onion": 5}, ".onion"),
        ({**good, "addr": ""}, ".addr"),
        ({**good, "addr": None}, ".addr"),
        ({**good, "id": other["id"]}, ".id"),  # an id that is not the key's
    ]


def _request_cases(me: ChordNode, caller: PeerRef) -> list[tuple[str, Params, str]]:
    """(method, params, field the error must name) for every Chord method taking params."""
    succs = encode_peers(me.state.successors)
    cases: list[tuple[str, Params, str]] = [
        ("find_successor", {}, "key"),
        ("find_successor", {"key": b"x" * 31}, "key"),
        ("find_successor", {"key": "00" * 32}, "key"),
        ("find_successor", {"key": None}, "key"),
        ("get_peers", {"max": -1}, "max"),
        ("get_peers", {"max": True}, "max"),
        ("get_peers", {"max": "8"}, "max"),
        ("notify", {}, "peer"),
        ("notify", {"peer": "x"}, "peer"),
        ("notify", {"peer": encode_peer(stranger())}, "peer"),  # not the caller
        ("leave", {"succs": "x"}, "succs"),
        ("leave", {"succs": [None]}, "succs[0]"),
        ("leave", {"succs": list(reversed(succs))}, "succs[1]"),
        ("leave", {"succs": [encode_peer(caller)]}, "succs[0]"),  # names the leaver itself
        ("leave", {"pred": 5}, "pred"),
    ]
    for bad, path in _bad_peer(caller):
        cases.append(("notify", {"peer": bad}, "peer" + path))
        cases.append(("leave", {"succs": [bad]}, "succs[0]" + path))
        cases.append(("leave", {"pred": bad}, "pred" + path))
    return cases


def test_every_bad_request_field_is_named() -> None:
    async def main() -> None:
        _, nodes = ring()
        me, caller = nodes[0], nodes[1]
        cases = _request_cases(me, caller.me)
        for method, params, name in cases:
            with pytest.raises(BadRequest) as info:
                await me.handle(caller.me, method, params)
            assert f"field '{name}" in str(info.value), (method, params, str(info.value))
            assert info.value.code == "bad_request"
        assert me.metrics.refused_requests == len(cases)

    run_virtual(main())


def test_a_non_member_answers_not_member_but_still_pings() -> None:
    async def main() -> None:
        r = SimRing(seed=5)
        lone = r.new_node()  # never created or joined a ring
        for method, params in (
            ("find_successor", {"key": encode_id(1)}),
            ("get_predecessor", {}),
            ("get_successor_list", {}),
            ("notify", {"peer": encode_peer(stranger())}),
            ("leave", {}),
        ):
            with pytest.raises(NotMember) as info:
                await lone.handle(stranger(), method, params)
            assert info.value.code == "not_member"
        assert await lone.handle(None, "ping", {}) == {"id": encode_id(lone.me.id), "member": False}
        assert (await lone.handle(None, "get_peers", {}))["peers"] == []

    run_virtual(main())


class Canned:
    """A ChordClient answering every call with one canned reply."""

    def __init__(self, reply: Params) -> None:
        self.reply = reply

    async def call(self, peer: PeerRef, method: str, params: Params, timeout: float) -> Params:
        return self.reply

    async def identify(self, address: str, timeout: float) -> PeerRef:
        raise NotImplementedError


def _client_node(reply: Params) -> ChordNode:
    return ChordNode(stranger(1), Canned(reply), ChordConfig())


@pytest.mark.parametrize(
    ("call", "reply", "name"),
    [
        ("ping", {}, "id"),
        ("ping", {"id": b"x"}, "id"),
        ("ping", {"id": encode_id(5)}, "id"),  # another node's id
        ("get_predecessor", {}, "pred"),
        ("get_predecessor", {"pred": 5}, "pred"),
        ("get_predecessor", {"pred": {"id": b"x"}}, "pred.id"),
        ("get_successor_list", {}, "succs"),
        ("get_successor_list", {"succs": {}}, "succs"),
        ("get_successor_list", {"succs": [{}]}, "succs[0].id"),
        ("get_peers", {"peers": None}, "peers"),
        ("get_peers", {"peers": [encode_peer(stranger(3))] * 40}, "peers"),  # more than asked
        ("get_peers", {"peers": [encode_peer(stranger(3)) | {"addr": 7}]}, "peers[0].addr"),
    ],
)
def test_every_bad_result_field_is_named(call: str, reply: Params, name: str) -> None:
    async def main() -> None:
        node = _client_node(reply)
        target = stranger(2)
        with pytest.raises(BadReply, match=re.escape(f"field '{name}'")):
            if call == "get_peers":
                await node.get_peers(target, 32)
            else:
                await getattr(node, call)(target)

    run_virtual(main())


def test_find_successor_result_fields_are_named() -> None:
    peers = sorted((stranger(s) for s in range(10)), key=lambda p: p.id)
    responder = peers[2]
    key = (peers[6].id - 1) % ID_SPACE
    cases: list[tuple[Params, str]] = [
        ({"peers": []}, "done"),
        ({"done": 1, "peers": []}, "done"),
        ({"done": True}, "peers"),
        ({"done": True, "peers": []}, "peers"),
        ({"done": True, "peers": encode_peers([responder, peers[6]])}, "peers"),
        ({"done": True, "peers": encode_peers([peers[4]])}, "peers[0]"),  # before the key
        ({"done": True, "peers": encode_peers([peers[7], peers[6]])}, "peers[1]"),
        ({"done": False, "peers": encode_peers([peers[5], peers[7]])}, "peers[1]"),
        ({"done": False, "peers": [{}]}, "peers[0].id"),
    ]
    for reply, name in cases:
        with pytest.raises(BadReply, match=re.escape(f"field '{name}'")):
            parse_step(reply, responder, key, 8)


def test_a_node_asked_for_its_own_id_answers_done_with_itself() -> None:
    async def main() -> None:
        _, nodes = ring(8)
        for n in nodes:
            reply = await n.handle(None, "find_successor", {"key": encode_id(n.me.id)})
            assert reply == {"done": True, "peers": [encode_peer(n.me)]}
            # ... which the asker's validation accepts (it is the owner of its own id).
            assert parse_step(reply, n.me, n.me.id, 8).peers == (n.me,)
            # Any other node names the owner of that id: the node itself.
            for origin in nodes:
                assert (await origin.lookup(n.me.id)).owner.id == n.me.id

    run_virtual(main())


def test_a_node_in_a_ring_never_names_itself_for_another_key() -> None:
    async def main() -> None:
        _, nodes = ring(8)
        rng = random.Random(11)
        for _ in range(200):
            n = rng.choice(nodes)
            key = rng.getrandbits(256)
            reply = await n.handle(None, "find_successor", {"key": encode_id(key)})
            listed = decode_peers(reply["peers"])
            assert n.me.id not in [p.id for p in listed]
            step = parse_step(reply, n.me, key, 8)
            if step.done:
                assert in_half_open(key, n.me.id, listed[0].id)
        # Naming itself for a key it does not own is only believable from a lone node; with
        # more entries than itself it is refused outright.
        bad = {"done": True, "peers": encode_peers([nodes[0].me, nodes[1].me])}
        with pytest.raises(BadReply, match="only itself"):
            parse_step(bad, nodes[0].me, nodes[1].me.id, 8)
        with pytest.raises(OutOfRange):  # a tail for its own id: its successor is not owner
            own = nodes[0].me.id
            tail = encode_peers([n.me for n in nodes[1:3]])
            parse_step({"done": True, "peers": tail}, nodes[0].me, own, 8)

    run_virtual(main())


def test_a_lone_node_owns_every_key_and_has_an_empty_successor_list() -> None:
    async def main() -> None:
        lone = SimRing(seed=6).build_ideal(1)[0]
        for key in (0, lone.me.id, (lone.me.id + 1) % ID_SPACE, ID_SPACE - 1):
            reply = await lone.handle(None, "find_successor", {"key": encode_id(key)})
            assert reply == {"done": True, "peers": [encode_peer(lone.me)]}
        assert await lone.handle(None, "get_successor_list", {}) == {"succs": []}
        assert await lone.handle(None, "get_predecessor", {}) == {"pred": None}

    run_virtual(main())


async def test_over_a_session_bad_params_are_bad_request_naming_the_field() -> None:
    a, b, c = [await TcpRingNode.start() for _ in range(3)]  # member, outsider, asker
    try:
        a.node.create()
        assert a.pool.listen_address and b.pool.listen_address
        with pytest.raises(RpcError) as info:
            await c.pool.request(a.pool.listen_address, a.identity.onion, "find_successor", {}, 10)
        assert info.value.code == "bad_request" and "field 'key'" in info.value.detail
        with pytest.raises(RpcError) as info:
            params = {"key": encode_id(1)}
            await c.pool.request(
                b.pool.listen_address, b.identity.onion, "find_successor", params, 10
            )
        assert info.value.code == "not_member"
        with pytest.raises(RpcError) as info:
            await c.pool.request(a.pool.listen_address, a.identity.onion, "no_such", {}, 10)
        assert info.value.code == "unknown_method" and info.value.detail == "no_such"
    finally:
        for x in (a, b, c):
            await x.kill()
