"""Ringcast on simulated rings (virtual time): exactly N−1 messages on a stable ring, every live
node delivers exactly once, also after crashes with stale fingers and after unfixed joins."""

from __future__ import annotations

import asyncio

import pytest

from ohtchat.chord.errors import NotInRing
from ohtchat.ringcast.config import RingcastConfig
from ohtchat.sim.loop import run_virtual
from tests.ringcast.rc_support import RcRing, ceil_log2


@pytest.mark.parametrize("n", [64, 256])
def test_stable_ring_n_minus_one_messages_each_node_once(n: int) -> None:
    async def main() -> None:
        rr = RcRing.ideal(n, seed=n)
        origin = rr.ring.rng.choice(rr.live())
        res = await origin.broadcast(b"hello ring")
        await rr.settle()
        rr.assert_exactly_once(res.msg_id)
        assert rr.total("sent") == n - 1
        assert rr.total("received") == n - 1
        assert rr.total("duplicates") == 0 and rr.total("send_failures") == 0
        assert res.reached == res.children and res.resends == 0
        depth = max(rc.metrics.max_hops for rc in rr.live())
        assert 1 <= depth <= ceil_log2(n)
        got = rr.inbox[rr.live()[0].chord.me.id][0]
        assert got.payload == b"hello ring"
        assert got.origin_onion == origin.chord.me.onion
        assert got.origin_account_public == origin.signer.public
        own = rr.inbox[origin.chord.me.id][0]
        assert own.msg_id == res.msg_id and own.hops == 0

    run_virtual(main())


def test_fingers_only_and_map_payload() -> None:
    async def main() -> None:
        rr = RcRing.ideal(100, seed=3, config=RingcastConfig(use_successors=False))
        payload = {"text": "hi", "n": 3, "raw": b"\x00\x01", "nested": {"a": [1, 2]}}
        res = await rr.live()[5].broadcast(payload)
        await rr.settle()
        rr.assert_exactly_once(res.msg_id)
        assert rr.total("sent") == 99
        assert all(box[0].payload == payload for box in rr.inbox.values())

    run_virtual(main())


def test_concurrent_broadcasts_from_several_origins() -> None:
    async def main() -> None:
        rr = RcRing.ideal(128, seed=9)
        origins = rr.ring.rng.sample(rr.live(), 4)
        results = await asyncio.gather(*(o.broadcast(b"x%d" % k) for k, o in enumerate(origins)))
        await rr.settle()
        for res in results:
            rr.assert_exactly_once(res.msg_id)
        assert rr.total("sent") == 4 * 127 and rr.total("duplicates") == 0

    run_virtual(main())


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_quarter_crashed_with_stale_fingers_every_live_node_once(seed: int) -> None:
    async def main() -> None:
        rr = RcRing.ideal(256, seed=seed)
        crashed = rr.ring.crash(64)  # no stabilize, no fix_fingers afterwards: all state stale
        assert len(crashed) == 64
        live = rr.live()
        res = await rr.ring.rng.choice(live).broadcast(b"after the crash")
        await rr.settle()
        rr.assert_exactly_once(res.msg_id)
        assert rr.total("send_failures") > 0 and rr.total("resends") > 0
        # Every live node got it from exactly one accepted delivery call.
        assert rr.total("sent") == len(live) - 1
        assert all(not box for i, box in rr.inbox.items() if i in rr.ring.down)

        # A second broadcast skips the peers now suspected dead.
        failures = rr.total("send_failures")
        res2 = await rr.ring.rng.choice(live).broadcast(b"again")
        await rr.settle()
        rr.assert_exactly_once(res2.msg_id)
        assert rr.total("send_failures") - failures < failures

    run_virtual(main())


def test_joined_nodes_without_fixed_fingers_are_reached() -> None:
    async def main() -> None:
        rr = RcRing.ideal(48, seed=4)
        joiners = await rr.ring.join(16)
        rr.attach(joiners)
        assert await rr.ring.rounds_until(True, 40) is not None  # successors exact, fingers old
        res = await rr.rcs[joiners[0].me.id].broadcast(b"welcome")
        await rr.settle()
        rr.assert_exactly_once(res.msg_id)
        assert rr.total("sent") == 63 and rr.total("duplicates") == 0

    run_virtual(main())


def test_lone_node_and_non_member() -> None:
    async def main() -> None:
        rr = RcRing.ideal(1, seed=2)
        only = rr.live()[0]
        res = await only.broadcast(b"alone")
        assert res.children == 0 and [b.payload for b in rr.inbox[only.chord.me.id]] == [b"alone"]
        only.chord.member = False
        with pytest.raises(NotInRing):
            await only.broadcast(b"nobody")

    run_virtual(main())


def test_relay_refusing_a_rate_limited_origin_is_not_resent_to() -> None:
    async def main() -> None:
        rr = RcRing.ideal(32, seed=6, config=RingcastConfig(burst=1, rate=0.001))
        origin = rr.live()[0]
        origin.limiter.burst = 5  # a spammer ignoring its own limit
        first = await origin.broadcast(b"one")
        await rr.settle()
        rr.assert_exactly_once(first.msg_id)
        failures = rr.total("send_failures")
        second = await origin.broadcast(b"two")
        await rr.settle()
        assert origin.metrics.refused_by_peer == second.children > 0
        assert rr.total("refused_rate") == second.children
        assert second.resends == 0 and rr.total("send_failures") == failures
        assert sum(rr.deliveries(second.msg_id).values()) == 1  # only the origin itself

    run_virtual(main())
