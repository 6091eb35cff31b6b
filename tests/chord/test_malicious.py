"""Misbehaving peers cannot make a lookup loop, hang past its deadline, or corrupt honest state."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from ohtchat.chord.config import ChordConfig
from ohtchat.chord.errors import BadRequest, LookupFailed
from ohtchat.chord.node import ChordNode
from ohtchat.chord.rpc import (
    FIND_SUCCESSOR,
    GET_PREDECESSOR,
    NOTIFY,
    PeerRef,
    encode_id,
    encode_peer,
    encode_peers,
)
from ohtchat.sim.harness import SimRing
from ohtchat.sim.invariants import true_successor
from ohtchat.sim.loop import run_virtual

# The iterative lookup (the recursive one, and its fallback to this, are in test_recursive.py).
CFG = ChordConfig(successors=4, rpc_timeout=2.0, lookup_timeout=40.0, max_hops=24, recursive=False)
Reply = dict[str, Any]
Handler = Callable[[PeerRef | None, str, Reply], Awaitable[Reply]]


def evil(ring: SimRing, node: ChordNode, rewrite: Callable[[str, Reply, Reply], Reply]) -> None:
    """Make ``node`` answer as itself, then pass replies through ``rewrite``."""

    async def handler(caller: PeerRef | None, method: str, params: Reply) -> Reply:
        reply = await node.handle(caller, method, params)
        return rewrite(method, params, reply)

    ring.net.set_handler(node.me.address, handler)


async def lookups_from_honest(ring: SimRing, bad: set[int], count: int, mute: bool = False) -> None:
    """Lookups from honest nodes must all be correct and within their deadline.

    With ``mute`` the bad nodes never answer, so they count as dead: the owner is then the
    first *responsive* node at or after the key."""
    ids = [i for i in ring.sorted_ids() if not (mute and i in bad)]
    honest = [n for n in ring.members() if n.me.id not in bad]
    loop = asyncio.get_running_loop()
    for _ in range(count):
        origin = ring.rng.choice(honest)
        key = ring.rng.getrandbits(256)
        t0 = loop.time()
        res = await origin.lookup(key)
        assert loop.time() - t0 <= origin.config.lookup_timeout + 1e-6
        assert res.owner.id == true_successor(ids, key)


def build(seed: int, n: int = 24) -> SimRing:
    ring = SimRing(seed=seed, config=CFG)
    ring.build_ideal(n)
    return ring


def test_lying_about_ids_is_refused_and_counted() -> None:
    async def main() -> None:
        ring = build(1)
        liars = ring.rng.sample(ring.members(), 4)
        others = [n.me for n in ring.members()]

        def lie(method: str, params: Reply, reply: Reply) -> Reply:
            if reply.get("peers"):
                wrong = encode_peer(ring.rng.choice(others))
                reply["peers"][0] = reply["peers"][0] | {"id": wrong["id"]}
            return reply

        for n in liars:
            evil(ring, n, lie)
        await lookups_from_honest(ring, {n.me.id for n in liars}, 150)
        assert sum(n.metrics.bad_identities for n in ring.members()) > 0

    run_virtual(main())


def test_out_of_range_and_looping_candidates_cannot_loop() -> None:
    async def main() -> None:
        ring = build(2)
        members = ring.members()
        bad = ring.rng.sample(members, 5)
        me_refs = [n.me for n in members]

        def loop_back(method: str, params: Reply, reply: Reply) -> Reply:
            if method == FIND_SUCCESSOR:  # point back behind ourselves / at each other
                return {"done": False, "peers": encode_peers(ring.rng.sample(me_refs, 6))}
            return reply

        for n in bad:
            evil(ring, n, loop_back)
        await lookups_from_honest(ring, {n.me.id for n in bad}, 150)
        assert sum(n.metrics.out_of_range for n in ring.members()) > 0

    run_virtual(main())


def test_wrong_owner_claims_are_caught_by_the_predecessor_check() -> None:
    async def main() -> None:
        ring = build(3)
        members = ring.members()
        bad = ring.rng.sample(members, 4)

        def skip_owner(method: str, params: Reply, reply: Reply) -> Reply:
            if method == FIND_SUCCESSOR and reply["done"] and len(reply["peers"]) > 1:
                reply["peers"] = reply["peers"][1:]  # claim the owner's successor owns the key
            return reply

        for n in bad:
            evil(ring, n, skip_owner)
        await lookups_from_honest(ring, {n.me.id for n in bad}, 200)

    run_virtual(main())


def test_a_peer_naming_itself_owner_of_any_key_is_range_checked() -> None:
    """Issue 19: a lone ``done`` naming the responder used to end the lookup on it."""

    async def main() -> None:
        ring = build(13)
        bad = ring.rng.sample(ring.members(), 6)

        for n in bad:

            def rewrite(method: str, params: Reply, reply: Reply, me: PeerRef = n.me) -> Reply:
                if method == FIND_SUCCESSOR:
                    return {"done": True, "peers": encode_peers([me])}
                if method == GET_PREDECESSOR:
                    return {"pred": None}  # (so the owner check cannot walk back past it)
                return reply

            evil(ring, n, rewrite)
        await lookups_from_honest(ring, {n.me.id for n in bad}, 200)
        assert sum(n.metrics.out_of_range for n in ring.members()) > 0

    run_virtual(main())


def test_silent_peers_cost_a_timeout_not_a_hang() -> None:
    async def main() -> None:
        ring = build(4)
        silent = ring.rng.sample(ring.members(), 4)

        async def never(caller: PeerRef | None, method: str, params: Reply) -> Reply:
            await asyncio.get_running_loop().create_future()  # never answers
            raise AssertionError

        for n in silent:
            ring.net.set_handler(n.me.address, never)
        ids = {n.me.id for n in silent}
        await lookups_from_honest(
            ring, ids, 80, mute=True
        )  # correct owners, each within its deadline
        tight = ChordConfig(successors=4, rpc_timeout=5.0, lookup_timeout=7.0, recursive=False)
        origin = next(n for n in ring.members() if n.me.id not in ids)
        origin.config = tight
        victim = silent[0]
        origin.state.set_successors([victim.me])  # force the only route through a mute peer
        origin.state.clear_fingers()
        for p in origin.peer_cache.peers():  # (peers it talked to are routes too)
            origin.peer_cache.forget(p.id)
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        with pytest.raises(LookupFailed):
            await origin.lookup((victim.me.id + 2**200) % 2**256)
        assert loop.time() - t0 <= tight.lookup_timeout + 1e-6

    run_virtual(main())


def test_hop_limit_bounds_an_endless_chain_of_fresh_candidates() -> None:
    async def main() -> None:
        cfg = ChordConfig(
            successors=2, rpc_timeout=1.0, lookup_timeout=1000.0, max_hops=5, recursive=False
        )
        ring = SimRing(seed=5, config=cfg)
        nodes = ring.build_ideal(40)
        origin = nodes[0]
        key = (origin.me.id - 1) % 2**256  # as far as it gets

        def crawl(method: str, params: Reply, reply: Reply) -> Reply:
            if method == FIND_SUCCESSOR:  # honest-looking progress, one node at a time
                return {"done": False, "peers": reply["peers"][-1:]} if not reply["done"] else reply
            return reply

        for n in nodes[1:]:
            evil(ring, n, crawl)
        origin.state.clear_fingers()
        try:
            res = await origin.lookup(key)
            assert res.hops <= cfg.max_hops
        except LookupFailed as exc:
            assert "hop limit" in str(exc)
        assert origin.metrics.rpc_calls <= cfg.max_hops + 2 * (cfg.successors + 1)

    run_virtual(main())


def test_garbage_replies_do_not_corrupt_honest_state() -> None:
    async def main() -> None:
        ring = build(6, n=16)
        bad = ring.rng.sample(ring.members(), 3)
        garbage: list[Any] = [
            {"succs": "nope", "pred": 7, "peers": [1, 2], "done": "yes", "id": b"x"},
            {"succs": encode_peers([n.me for n in ring.members()][::-1])},
            {},
        ]

        def junk(method: str, params: Reply, reply: Reply) -> Reply:
            return dict(ring.rng.choice(garbage))

        for n in bad:
            evil(ring, n, junk)
        bad_ids = {n.me.id for n in bad}
        for _ in range(5):
            await ring.round()
        honest = [n for n in ring.members() if n.me.id not in bad_ids]
        for n in honest:  # lists stay well-formed: ordered, no self, no duplicates
            last = 0
            for p in n.state.successors:
                d = (p.id - n.me.id) % 2**256
                assert d > last
                last = d
            assert any(p.id not in bad_ids for p in n.state.successors)
        assert sum(n.metrics.bad_replies for n in honest) > 0
        # a notify naming someone other than the authenticated caller is refused
        victim, caller, other = honest[0], honest[1], honest[2]
        with pytest.raises(BadRequest):
            await victim.handle(caller.me, NOTIFY, {"peer": encode_peer(other.me)})
        with pytest.raises(BadRequest):
            await victim.handle(caller.me, FIND_SUCCESSOR, {"key": b"short"})
        with pytest.raises(BadRequest):
            await victim.handle(caller.me, "no_such_method", {})
        reply = await victim.handle(caller.me, FIND_SUCCESSOR, {"key": encode_id(5)})
        assert isinstance(reply["done"], bool)

    run_virtual(main())
