"""Idle sessions close (an idle onion session holds Tor circuits); warm ones stay open.

On the in-memory network with an injected clock: no real time passes.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from ohtchat.session.identity import NodeIdentity
from ohtchat.session.pool import SessionPool
from ohtchat.transport.memory import MemoryNetwork
from tests.waiting import eventually

IDLE = 600.0


class Clock:
    """A clock the test moves by hand (from now: certificates are checked against it)."""

    def __init__(self) -> None:
        self.t = time.time()

    def __call__(self) -> float:
        return self.t


async def _echo(peer: Any, method: str, params: Any) -> dict[str, Any]:
    return {"n": params.int_("n")}


async def _pair(a: NodeIdentity, b: NodeIdentity, clock: Clock) -> tuple[SessionPool, SessionPool]:
    net = MemoryNetwork()
    pa = SessionPool(net.transport("a"), a, _echo, idle_timeout=IDLE, now=clock)
    pb = SessionPool(net.transport("b"), b, _echo, idle_timeout=IDLE, now=clock)
    await pb.listen("b")
    await pa.request("b", b.onion, "echo", {"n": 1}, timeout=10)
    return pa, pb


async def test_a_session_unused_for_the_idle_time_is_closed_on_both_sides(
    alice: NodeIdentity, bob: NodeIdentity
) -> None:
    clock = Clock()
    pa, pb = await _pair(alice, bob, clock)
    try:
        assert await pa.close_idle() == 0  # just used
        clock.t += IDLE - 1
        assert await pa.close_idle() == 0  # not idle long enough yet
        clock.t += 2
        assert await pa.close_idle() == 1
        assert pa.sessions() == []
        await eventually(lambda: pb.sessions() == [], "bob's side of the session closed")
    finally:
        await pa.close()
        await pb.close()


async def test_traffic_in_either_direction_keeps_a_session_open(
    alice: NodeIdentity, bob: NodeIdentity
) -> None:
    clock = Clock()
    pa, pb = await _pair(alice, bob, clock)
    try:
        await pa.close_idle()  # a sweep notes the traffic so far
        clock.t += IDLE - 1
        # Bob calls Alice over the same session: Alice only *received*.
        await pb.request("a", alice.onion, "echo", {"n": 2}, timeout=10)
        clock.t += 2
        assert await pa.close_idle() == 0  # the inbound request counted as use
        clock.t += IDLE + 1
        assert await pa.close_idle() == 1
    finally:
        await pa.close()
        await pb.close()


async def test_sessions_kept_warm_stay_open(alice: NodeIdentity, bob: NodeIdentity) -> None:
    clock = Clock()
    pa, pb = await _pair(alice, bob, clock)
    try:
        clock.t += 10 * IDLE
        assert await pa.close_idle(keep={bob.onion}) == 0
        assert len(pa.sessions()) == 1
        assert await pa.close_idle(keep=set()) == 1
    finally:
        await pa.close()
        await pb.close()


async def test_the_sweeper_closes_idle_sessions_on_its_own(
    alice: NodeIdentity, bob: NodeIdentity
) -> None:
    clock = Clock()
    pa, pb = await _pair(alice, bob, clock)
    sweeps = 0

    async def tick(interval: float) -> None:
        # Each sweep interval passes on the test's clock, not in real time.
        nonlocal sweeps
        sweeps += 1
        clock.t += interval
        await asyncio.sleep(0)  # a real sleep yields to the loop; so must this one

    try:
        task = asyncio.ensure_future(pa.sweep_idle(set, IDLE / 4, sleep=tick))
        await eventually(lambda: pa.sessions() == [], "the idle session swept")
        assert sweeps >= 4  # not before a whole idle time had passed
        await pa.close()
        await eventually(lambda: task.done(), "the sweeper ends with the pool")
    finally:
        await pa.close()
        await pb.close()
