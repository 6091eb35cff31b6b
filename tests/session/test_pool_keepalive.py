"""Sessions a node keeps warm get a one-way keepalive when quiet, so the peer, which does not
keep them, leaves them open too; and the pool tells whether a session is open (no dial).

On the in-memory network with an injected clock: no real time passes.
"""

from __future__ import annotations

import time
from typing import Any

from ohtchat.session.identity import NodeIdentity
from ohtchat.session.pool import SessionPool
from ohtchat.transport.memory import MemoryNetwork
from tests.waiting import eventually

IDLE = 600.0


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.t = time.time()

    def __call__(self) -> float:
        return self.t


async def test_kept_sessions_get_keepalives_and_stay_open_at_the_peer(
    alice: NodeIdentity, bob: NodeIdentity
) -> None:
    clock = Clock()
    heard: list[str] = []

    async def handler(peer: Any, method: str, params: Any) -> dict[str, Any]:
        heard.append(method)
        return {}

    net = MemoryNetwork()
    pa = SessionPool(net.transport("a"), alice, handler, idle_timeout=IDLE, now=clock)
    pb = SessionPool(net.transport("b"), bob, handler, idle_timeout=IDLE, now=clock)
    await pb.listen("b")
    try:
        assert not pa.has_session(bob.onion)
        await pa.request("b", bob.onion, "hi", {}, timeout=10)
        assert pa.has_session(bob.onion) and pb.has_session(alice.onion)
        heard.clear()
        clock.t += IDLE / 2 - 1
        await pa.close_idle({bob.onion}, keepalive="ping")
        assert heard == []  # not quiet long enough for a keepalive
        clock.t += 2
        await pa.close_idle({bob.onion}, keepalive="ping")
        await eventually(lambda: heard == ["ping"], "the keepalive at bob")
        clock.t += IDLE / 2 + 1  # a whole idle time since the request, half since the ping
        assert await pb.close_idle() == 0  # bob does not keep alice, but the session is live
        assert pb.has_session(alice.onion)
        clock.t += IDLE
        assert await pb.close_idle() == 1  # no keepalive this time: bob closes it
        await eventually(lambda: not pa.has_session(bob.onion), "alice's side closed")
    finally:
        await pa.close()
        await pb.close()
