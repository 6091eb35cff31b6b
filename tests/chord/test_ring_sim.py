"""Whole rings on the simulated network: Zave's invariants through joins, leaves, crashes."""

from __future__ import annotations

import asyncio
import random

import pytest

from ohtchat.chord.config import ChordConfig
from ohtchat.chord.service import ChordService
from ohtchat.sim.harness import Event, SimRing, random_schedule
from ohtchat.sim.invariants import MemberView, check_invariants, ideal_ring, true_successor
from ohtchat.sim.loop import run_virtual

FAST = ChordConfig(successors=3, rpc_timeout=1.0, lookup_timeout=30.0)


async def all_lookups_correct(ring: SimRing, count: int) -> None:
    ids = ring.sorted_ids()
    for _ in range(count):
        origin = ring.rng.choice(ring.members())
        key = ring.rng.getrandbits(256)
        res = await origin.lookup(key)
        assert res.owner.id == true_successor(ids, key)
        assert res.hops <= origin.config.max_hops


def test_checker_detects_broken_rings() -> None:
    ok = {1: MemberView([2, 3], 3), 2: MemberView([3, 1], 1), 3: MemberView([1, 2], 2)}
    assert check_invariants(ok) == [] and ideal_ring(ok)
    two_rings = {
        1: MemberView([2], 2),
        2: MemberView([1], 1),
        5: MemberView([6], 6),
        6: MemberView([5], 5),
    }
    assert "2 rings" in check_invariants(two_rings)[0]
    twice_round = {1: MemberView([3], None), 2: MemberView([1], None), 3: MemberView([2], None)}
    assert "not ordered" in check_invariants(twice_round)[0]
    dead_succ = {1: MemberView([9], None), 2: MemberView([1], None)}
    assert "no live successor" in check_invariants(dead_succ)[0]
    unordered = {1: MemberView([3, 2], None), 2: MemberView([3], None), 3: MemberView([1], None)}
    assert "not ordered" in check_invariants(unordered)[0]
    appendage = {1: MemberView([3], 3), 2: MemberView([3], None), 3: MemberView([1], 1)}
    assert check_invariants(appendage) == [] and not ideal_ring(appendage)


def test_lone_node_and_ring_growth() -> None:
    async def main() -> None:
        ring = SimRing(seed=5, config=FAST)
        first = await ring.create()
        res = await first.lookup(12345)
        assert res.owner == first.me and res.hops == 0
        for _ in range(12):
            await ring.join(1)
            ring.check()
            await ring.round()
            ring.check()
        assert await ring.rounds_until(True, 10) is not None
        await ring.fix_fingers()
        await all_lookups_correct(ring, 60)

    run_virtual(main())


@pytest.mark.parametrize("batch", range(6))
def test_random_schedules_keep_invariants(batch: int) -> None:
    """300 seeded schedules of joins, graceful leaves, crashes and rounds."""

    async def one(seed: int) -> None:
        ring = SimRing(seed=seed, config=FAST)
        await ring.create()
        await ring.run_schedule([Event("join", 4), Event("round", 2)])
        await ring.run_schedule(random_schedule(ring.rng, 25))  # checks after each event
        assert await ring.rounds_until(True, 40) is not None, f"seed {seed} never converged"
        await ring.fix_fingers()
        await all_lookups_correct(ring, 5)

    for seed in range(batch * 50, batch * 50 + 50):
        run_virtual(one(seed))


def test_graceful_leave_hands_over_immediately() -> None:
    async def main() -> None:
        ring = SimRing(seed=11, config=FAST)
        nodes = ring.build_ideal(10)
        ring.check()
        order = sorted(nodes, key=lambda n: n.me.id)
        leaving, pred, succ = order[4], order[3], order[5]
        await leaving.leave()
        ring.net.remove(leaving.me.address)
        ring.down.add(leaving.me.id)
        assert pred.state.successor == succ.me and succ.state.predecessor == pred.me
        assert ring.is_ideal()
        ring.check()

    run_virtual(main())


def test_mass_crash_lookups_with_long_successor_lists() -> None:
    async def main() -> None:
        cfg = ChordConfig(successors=12, rpc_timeout=1.0, lookup_timeout=120.0, max_hops=64)
        ring = SimRing(seed=3, config=cfg, serialize=False)
        ring.build_ideal(64)
        for node in ring.rng.sample(ring.members(), 32):
            ring.down.add(node.me.id)
            ring.net.crash(node.me.address)
        await all_lookups_correct(ring, 200)  # before any stabilization
        assert await ring.rounds_until(True, 10) is not None

    run_virtual(main())


def test_jittered_timers_build_and_heal_the_ring() -> None:
    async def main() -> None:
        cfg = ChordConfig(
            successors=4,
            rpc_timeout=2.0,
            stabilize_interval=10.0,
            check_predecessor_interval=20.0,
            fix_fingers_interval=5.0,
        )
        ring = SimRing(seed=21, config=cfg)
        await ring.create()
        for _ in range(15):
            await ring.join(1)
        ring.start_timers()
        await asyncio.sleep(600)
        assert ring.is_ideal()
        ring.check()
        await all_lookups_correct(ring, 50)
        ring.crash(3)
        await asyncio.sleep(600)
        assert ring.is_ideal()
        await all_lookups_correct(ring, 50)
        await ring.stop()

    run_virtual(main())


def test_message_loss_heals_once_loss_stops() -> None:
    async def main() -> None:
        cfg = ChordConfig(successors=4, rpc_timeout=2.0, stabilize_interval=5.0)
        ring = SimRing(seed=8, config=cfg, loss=0.05)
        ring.build_ideal(20)
        ring.start_timers()
        await asyncio.sleep(900)
        ring.net.loss = 0.0
        await asyncio.sleep(300)
        assert ring.is_ideal()
        ring.check()
        await ring.stop()

    run_virtual(main())


def test_service_commands() -> None:
    async def main() -> None:
        ring = SimRing(seed=4, config=FAST)
        a, b = ring.new_node(), ring.new_node()
        sa, sb = ChordService(a), ChordService(b, bootstrap=["nowhere", a.me.address])
        info = await sa.create()
        assert info.member and info.successor == a.me and sa.predecessor() is None
        info = await sb.connect()  # bootstrap list: first address is dead, second works
        assert info.member and sb.successor() == a.me
        await ring.round()
        await ring.round()
        assert sa.successor() == b.me and sa.predecessor() == b.me
        assert {p.id for p in sa.peers()} == {b.me.id}
        res = await sb.lookup(f"{a.me.id:064x}")
        assert res.owner == a.me and res.messages >= 1
        ping = await sb.ping(a.me.address)
        assert ping.peer == a.me and ping.seconds > 0
        await a.fix_all_fingers()
        rows = sa.ftable()
        assert rows and rows[0].peer == b.me and rows[-1].last <= 255
        with pytest.raises(ValueError):
            await sb.lookup("not-hex")
        await ring.stop()

    run_virtual(main())


def test_join_through_unknown_or_dead_peers_fails_cleanly() -> None:
    async def main() -> None:
        ring = SimRing(seed=6, config=FAST)
        first = await ring.create()
        newcomer = ring.new_node()
        ring.net.crash(first.me.address)
        from ohtchat.chord.errors import JoinFailed

        with pytest.raises(JoinFailed):
            await newcomer.join_any([first.me, "no-such-address"])
        assert not newcomer.member

    run_virtual(main())


def test_many_nodes_in_one_process() -> None:
    async def main() -> None:
        cfg = ChordConfig(successors=8, rpc_timeout=1.0)
        ring = SimRing(seed=2, config=cfg, serialize=False)
        ring.build_ideal(1000)
        await ring.join(50)
        assert ring.invariants_hold()
        assert await ring.rounds_until(True, 10) is not None
        await all_lookups_correct(ring, 100)

    run_virtual(main())


def test_random_is_seeded() -> None:
    assert random_schedule(random.Random(1), 10) == random_schedule(random.Random(1), 10)


def test_a_node_whose_whole_ring_died_stays_joinable() -> None:
    """Every other member crashes at once: the survivor's rejoin finds nobody, so it goes on
    as a ring of one (before: it was no ring's member and refused every joiner)."""

    async def main() -> None:
        ring = SimRing(seed=9, config=FAST)
        survivor = await ring.create()
        await ring.join(2, via=survivor)
        for _ in range(3):
            await ring.round()
        for other in [n for n in ring.members() if n is not survivor]:
            ring._kill(other)
        for _ in range(3):
            await survivor.stabilize()
        assert survivor.member and survivor.state.successors == []
        [newcomer] = await ring.join(1, via=survivor)
        for _ in range(3):
            await ring.round()
        assert newcomer.member and survivor.state.successor == newcomer.me

    run_virtual(main())
