"""The live-Tor latency model: connect distribution, shared dials, failures, dying circuits."""

from __future__ import annotations

import asyncio
import random
import statistics

import pytest

from ohtchat.chord.config import ChordConfig
from ohtchat.chord.errors import RpcFailure
from ohtchat.chord.rpc import PING
from ohtchat.sim.harness import SimRing
from ohtchat.sim.loop import run_virtual
from ohtchat.sim.tormodel import Links, TorModel


def test_cold_connects_follow_the_measured_range_and_median() -> None:
    model, rng = TorModel(), random.Random(1)
    draws = [model.connect_time(rng) for _ in range(20_000)]
    assert min(draws) >= 4.0 and max(draws) <= 29.0
    assert statistics.median(draws) == pytest.approx(14.6, abs=0.3)
    assert model.one_way() == (0.15, 0.75)


def test_dials_are_shared_and_sessions_serve_both_directions() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        model = TorModel(connect_failure=0.0, circuit_life=1e9)
        links = Links(model, random.Random(2), loop.time)
        t0 = loop.time()
        await asyncio.gather(*(links.ensure("a", "b", lambda: True) for _ in range(5)))
        took = loop.time() - t0
        assert 4.0 + model.rtt[0] <= took <= 29.0 + model.rtt[1]  # one connect + handshake
        assert links.stats.dials == 1 and links.dials_by == {"a": 1}
        assert links.is_open("b", "a")  # the session serves the other direction too
        t1 = loop.time()
        await links.ensure("b", "a", lambda: True)
        assert loop.time() == t1 and links.stats.dials == 1
        assert links.per_node() == {"a": 1, "b": 1}
        links.drop_node("b")  # a crash closes its circuits
        assert not links.is_open("a", "b")

    run_virtual(main())


def test_connects_fail_and_circuits_die() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        links = Links(TorModel(circuit_life=100.0), random.Random(3), loop.time)
        results = await asyncio.gather(
            *(links.ensure("a", f"n{i}", lambda: True) for i in range(400)),
            return_exceptions=True,
        )
        failed = sum(isinstance(r, RpcFailure) for r in results)
        assert 8 <= failed <= 35  # ~5% of 400
        assert links.stats.dials == 400 and links.stats.dial_failures == failed
        assert len(links.per_node()) > 200  # the others are open, a few died already
        await asyncio.sleep(2000)  # twenty mean lifetimes: virtually every circuit died
        assert sum(links.is_open("a", f"n{i}") for i in range(400)) <= 2
        assert links.stats.deaths >= 300

    run_virtual(main())


def test_a_dial_to_a_node_that_is_down_fails_after_the_connect_timeout() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        links = Links(TorModel(), random.Random(4), loop.time)
        t0 = loop.time()
        with pytest.raises(RpcFailure):
            await links.ensure("a", "gone", lambda: False)
        assert loop.time() - t0 == TorModel().connect_timeout

    run_virtual(main())


def test_the_sweep_closes_idle_sessions_unless_an_end_keeps_them() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        links = Links(TorModel(circuit_life=1e9), random.Random(5), loop.time)
        for b in ("b", "c", "d"):
            links.open_now("a", b)
        await asyncio.sleep(601)
        links.touch("a", "d")  # used just now
        assert links.sweep({"a": {"b"}, "c": set()}) == 1  # c: idle and kept by neither
        assert links.is_open("a", "b") and links.is_open("a", "d")
        assert not links.is_open("a", "c")

    run_virtual(main())


def test_nodes_on_the_model_count_cold_dials_and_allow_them_time() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        ring = SimRing(6, ChordConfig(successors=4), serialize=False, tor=TorModel())
        a, b, c = ring.build_ideal(3)
        links = ring.net.links
        assert links is not None
        assert not a.warm(b.me)
        t0 = loop.time()
        for _ in range(20):  # 5% of connects fail: try until one dial worked
            try:
                await a.rpc(b.me, PING, {})
                break
            except RpcFailure:
                pass
        took = loop.time() - t0
        # A cold call may take the connect (up to 29 s) on top of a 10 s call timeout.
        assert took >= 4.0 and a.metrics.cold_dials >= 1
        assert a.warm(b.me) and b.warm(a.me)
        cold = a.metrics.cold_dials
        t1 = loop.time()
        await a.rpc(b.me, PING, {})
        assert a.metrics.cold_dials == cold and loop.time() - t1 <= 1.5
        ring.open_warm_sessions()
        assert all(x.warm(p) for x in (a, b, c) for p in x.warm_peers())

    run_virtual(main())
