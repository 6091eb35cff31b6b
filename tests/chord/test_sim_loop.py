"""The virtual-time event loop and the simulated network."""

from __future__ import annotations

import asyncio
import random
import time

import pytest

from ohtchat.chord.errors import RpcFailure, RpcTimeout
from ohtchat.chord.rpc import PeerRef
from ohtchat.crypto.onion import onion_address
from ohtchat.sim.loop import SimDeadlock, VirtualTimeLoop, run_virtual
from ohtchat.sim.network import SimNetwork


def test_sleep_and_timeouts_run_on_virtual_time() -> None:
    async def main() -> tuple[float, bool, str]:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        await asyncio.sleep(86_400)
        timed_out = False
        try:
            async with asyncio.timeout(30):
                await asyncio.sleep(1_000)
        except TimeoutError:
            timed_out = True
        got = await asyncio.wait_for(asyncio.sleep(5, "done"), 10)
        return loop.time() - t0, timed_out, got

    start = time.perf_counter()
    elapsed, timed_out, got = run_virtual(main())
    assert elapsed == pytest.approx(86_400 + 30 + 5, abs=1e-3)
    assert timed_out and got == "done"
    assert time.perf_counter() - start < 30  # a day of virtual time, not of real time


def test_timers_fire_in_order() -> None:
    order: list[int] = []

    async def after(d: float, tag: int) -> None:
        await asyncio.sleep(d)
        order.append(tag)

    async def main() -> None:
        await asyncio.gather(*(after(d, i) for i, d in enumerate([3.0, 1.0, 2.0, 0.5])))

    run_virtual(main())
    assert order == [3, 1, 2, 0]


def test_deadlock_is_reported_not_hung() -> None:
    async def main() -> None:
        await asyncio.get_running_loop().create_future()

    with pytest.raises(SimDeadlock):
        run_virtual(main())


def test_loop_starts_at_given_time() -> None:
    loop = VirtualTimeLoop(start=100.0)
    try:
        assert loop.time() == 100.0
        loop.advance(-5)
        assert loop.time() == 100.0
    finally:
        loop.close()


def _ref(rng: random.Random, name: str) -> PeerRef:
    return PeerRef.from_onion(onion_address(rng.randbytes(32)), name)


def test_network_latency_loss_crash_and_authentication() -> None:
    rng = random.Random(1)
    a, b, c = (_ref(rng, n) for n in "abc")

    async def echo(caller: PeerRef | None, method: str, params: dict) -> dict:  # type: ignore[type-arg]
        return {"caller": caller.address if caller else None, "method": method, **params}

    async def main() -> None:
        net = SimNetwork(random.Random(2), latency=(0.1, 0.1))
        ca = net.register(a, echo)
        net.register(b, echo)
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        assert await ca.call(b, "m", {"x": 1}, 5) == {"caller": "a", "method": "m", "x": 1}
        assert loop.time() - t0 == pytest.approx(0.2)
        impostor = PeerRef(c.id, c.onion, "b")  # dials b but expects c's key
        with pytest.raises(RpcFailure):
            await ca.call(impostor, "m", {}, 5)
        net.crash("b")
        t0 = loop.time()
        with pytest.raises(RpcTimeout):
            await ca.call(b, "m", {}, 3)
        assert loop.time() - t0 == pytest.approx(3)
        net.revive("b")
        net.partition({"a": 1, "b": 2})
        with pytest.raises(RpcTimeout):
            await ca.call(b, "m", {}, 1)
        net.heal()
        assert (await ca.identify("b", 1)) == b
        lossy = SimNetwork(random.Random(3), latency=(0.01, 0.02), loss=0.5)
        cl = lossy.register(a, echo)
        lossy.register(b, echo)
        results = await asyncio.gather(
            *(cl.call(b, "m", {}, 1) for _ in range(200)), return_exceptions=True
        )
        lost = sum(isinstance(r, RpcTimeout) for r in results)
        assert 100 < lost < 200 and lossy.stats.lost == lost

    run_virtual(main())
