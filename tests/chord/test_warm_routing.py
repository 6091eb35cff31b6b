"""Lookups over open sessions (issue 14): cold dials are counted and allowed their time, the
next hop prefers an open session, fingers are refreshed without lookups, the kept set is
bounded; and the adaptive-stabilize pieces (pace, hints, the notify reply)."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest

from ohtchat.chord.adaptive import Hints, Pace
from ohtchat.chord.config import ChordConfig
from ohtchat.chord.errors import RpcTimeout
from ohtchat.chord.node import ChordNode
from ohtchat.chord.rpc import GET_SUCCESSOR_LIST, NOTIFY, PING, PeerRef, encode_peer
from ohtchat.crypto.onion import onion_address
from ohtchat.sim.harness import SimRing
from ohtchat.sim.invariants import true_successor
from ohtchat.sim.loop import run_virtual
from ohtchat.sim.tormodel import TorModel

STEADY = TorModel(connect_failure=0.0, circuit_life=1e9)


def _peers(n: int, seed: int = 0) -> list[PeerRef]:
    rng = random.Random(seed)
    return [PeerRef.from_onion(onion_address(rng.randbytes(32)), f"p{i}") for i in range(n)]


class SlowColdClient:
    """Answers a ping after ``delay`` seconds; says no session is open."""

    def __init__(self, delay: float) -> None:
        self.delay = delay

    async def call(
        self, peer: PeerRef, method: str, params: dict[str, Any], timeout: float
    ) -> dict[str, Any]:
        await asyncio.sleep(self.delay)
        return {"id": peer.id.to_bytes(32, "big"), "member": True}

    async def identify(self, address: str, timeout: float) -> PeerRef:
        raise NotImplementedError

    def is_warm(self, peer: PeerRef) -> bool:
        return False


def test_a_cold_call_gets_the_dial_allowance_and_is_counted() -> None:
    me, peer = _peers(2)

    async def main() -> None:
        node = ChordNode(me, SlowColdClient(25.0))  # a 25 s cold connect: longer than 10 s
        await node.rpc(peer, PING, {})
        assert node.metrics.cold_dials == 1
        classic = ChordNode(me, SlowColdClient(25.0), ChordConfig.classic())
        with pytest.raises(RpcTimeout):
            await classic.rpc(peer, PING, {})
        with pytest.raises(RpcTimeout):  # a budget caps the allowance
            await node.rpc(peer, PING, {}, budget=5.0)

    run_virtual(main())


def test_lookups_prefer_hops_over_open_sessions() -> None:
    """The same lookups from one origin that holds sessions to a third of the ring: preferring
    open sessions dials less, and every owner is still right."""

    async def cold_dials(prefer: bool) -> int:
        cfg = ChordConfig(successors=4, prefer_warm=prefer, recursive=False)
        ring = SimRing(7, cfg, serialize=False, tor=STEADY)
        nodes = ring.build_ideal(96)
        ring.open_warm_sessions()
        links = ring.net.links
        assert links is not None
        origin = nodes[0]
        for other in random.Random(1).sample(nodes[1:], 32):
            links.open_now(origin.me.address, other.me.address)
        warm = links.peers_of(origin.me.address)
        ids, rng, total = ring.sorted_ids(), random.Random(2), 0
        for _ in range(40):
            key = rng.getrandbits(256)
            res = await origin.lookup(key)
            assert res.owner.id == true_successor(ids, key)
            total += res.cold_dials
            # close what this lookup opened, so every lookup (of both runs) sees one warm set
            for addr in links.peers_of(origin.me.address) - warm:
                links.close(origin.me.address, addr)
        assert origin.metrics.lookup_cold_dials == total
        return total

    warm, plain = run_virtual(cold_dials(True)), run_virtual(cold_dials(False))
    assert warm < plain


def test_fingers_are_refreshed_by_asking_them_not_by_lookups() -> None:
    async def main() -> None:
        ring = SimRing(8, ChordConfig(successors=4), serialize=False)
        nodes = ring.build_ideal(64)
        node = nodes[0]
        before = [r.peer.id for r in node.state.finger_rows()]
        await node.fix_all_fingers()
        assert [r.peer.id for r in node.state.finger_rows()] == before
        assert node.metrics.lookups == 0 and node.metrics.fingers_confirmed > 0
        classic = nodes[1]
        classic.config = ChordConfig.classic(successors=4)
        await classic.fix_all_fingers()
        assert classic.metrics.lookups > 0

    run_virtual(main())


def test_a_stale_finger_is_looked_up() -> None:
    async def main() -> None:
        ring = SimRing(9, ChordConfig(successors=4), serialize=False)
        nodes = ring.build_ideal(32)
        node = nodes[0]
        far = node.state.finger_rows()[-1]
        # A node joins right before that finger: the finger is no longer the target's owner.
        while True:
            newcomer = ring.new_node()
            if 0 < (newcomer.me.id - far.start) % 2**256 < (far.peer.id - far.start) % 2**256:
                break
        await newcomer.join(far.peer)
        await ring.rounds_until(True, 10)
        await node.fix_all_fingers()
        assert any(r.peer.id == newcomer.me.id for r in node.state.finger_rows())
        assert node.metrics.lookups >= 1

    run_virtual(main())


def test_the_warm_set_is_bounded() -> None:
    async def main() -> None:
        ring = SimRing(10, ChordConfig(successors=4, warm_fingers=2), serialize=False)
        node = ring.build_ideal(256)[0]
        fingers = node.state.fingers()
        assert len(fingers) > 2
        warm = node.warm_peers()
        succ_pred = {p.id for p in node.state.successors} | {node.state.predecessor.id}  # type: ignore[union-attr]
        extra = [p for p in warm if p.id not in succ_pred]
        assert len(extra) <= 2 and {p.id for p in extra} <= {p.id for p in fingers[:2]}
        assert node.neighbour_onions() == {p.onion for p in warm}

    run_virtual(main())


def test_pace_is_fast_after_a_change_and_a_poke_cuts_a_slow_wait() -> None:
    cfg = ChordConfig()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        pace = Pace(cfg, random.Random(1))
        assert not pace.fast and pace.period() >= 0.75 * cfg.stabilize_interval
        pace.changed()
        for _ in range(cfg.fast_rounds):
            assert pace.fast and pace.period() <= 1.25 * cfg.fast_stabilize_interval
            pace.ran()
        assert not pace.fast
        t0 = loop.time()
        waiter = asyncio.ensure_future(pace.wait(loop.time, asyncio.sleep))
        await asyncio.sleep(2.0)
        pace.poke()
        await waiter
        assert loop.time() - t0 <= 2.0 + 1.25 * cfg.fast_stabilize_interval
        quiet = Pace(ChordConfig.classic(), random.Random(1))
        quiet.poke()
        assert not quiet.fast  # the classic maintenance has no fast rounds

    run_virtual(main())


def test_hints_keep_the_closest_live_ones_between_us_and_our_successor() -> None:
    me, *others = sorted(_peers(12, 3), key=lambda p: p.id)
    hints = Hints(me.id, capacity=3)
    for p in others[:6]:
        hints.add(p, expires=100.0)
    assert len(hints) == 3
    assert hints.between(others[5].id, now=0.0) == others[:3]
    assert hints.between(others[1].id, now=0.0) == others[:1]  # outside (me, succ): dropped
    assert hints.between(others[5].id, now=200.0) == []  # expired


def test_notify_answers_with_the_predecessor_and_a_caller_between_is_a_hint() -> None:
    async def main() -> None:
        ring = SimRing(11, ChordConfig(successors=3), serialize=False)
        a, b, c = sorted(ring.build_ideal(3), key=lambda n: n.me.id)
        reply = await c.handle(a.me, NOTIFY, {"peer": encode_peer(a.me)})
        assert reply["pred"] == encode_peer(b.me)  # b is closer: a should take it as successor
        joiner = next(n for n in iter(ring.new_node, None) if a.me.id < n.me.id < b.me.id)
        await a.handle(joiner.me, GET_SUCCESSOR_LIST, {})
        assert a.hints.between(b.me.id, a.now()) == [joiner.me] and a.pace.fast

    run_virtual(main())
