"""Five nodes, each with its own tor and onion service on the private network, form a Chord
ring over onion services; lookups agree, ringcast reaches everyone once, whispers go both ways,
put/get works; then one node's tor is killed (-9) and the node and the ring recover."""

from __future__ import annotations

import asyncio
import os
import random
import signal

import pytest

from ohtchat.chat.node import ChatNode, NodeOptions
from ohtchat.chord.config import ChordConfig
from ohtchat.dht.config import DhtConfig
from ohtchat.sim.invariants import MemberView, check_invariants, ideal_ring, true_successor
from tests.tcpring import views as ring_views

pytestmark = [pytest.mark.tor, pytest.mark.slow]

CHORD = ChordConfig(
    successors=4,
    rpc_timeout=20.0,
    lookup_timeout=60.0,
    stabilize_interval=1.0,
    check_predecessor_interval=2.0,
    fix_fingers_interval=0.5,
)


def opts(testnet, name: str, bootstrap: list[str]) -> NodeOptions:
    return NodeOptions(
        memory=True,
        transport="onion",
        tor_testnet=testnet.dir,
        bootstrap=bootstrap,
        name=name,
        chord=CHORD,
        dht=DhtConfig(rpc_timeout=20.0, maintain_interval=3.0),
        heartbeat_interval=5.0,
        mailbox_interval=3.0,
        join_retry=2.0,
        deliver_timeout=30.0,
        tor_monitor_interval=1.0,
    )


def views(nodes: list[ChatNode]) -> dict[int, MemberView]:
    return ring_views(n.chord for n in nodes)


async def until(pred, timeout: float, step: float = 0.5) -> None:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not pred():
        assert loop.time() < end, "condition not reached in time"
        await asyncio.sleep(step)


async def test_ring_over_onion_services(testnet):
    first = await ChatNode.start(opts(testnet, "n0", []), "")
    nodes = [first]
    try:
        await first.ready(120)
        rest = await asyncio.gather(
            *(
                ChatNode.start(opts(testnet, f"n{i}", [first.identity.onion]), "")
                for i in range(1, 5)
            )
        )
        nodes += rest
        await asyncio.gather(*(n.ready(180) for n in rest))
        await until(lambda: check_invariants(views(nodes)) == [] and ideal_ring(views(nodes)), 90)
        for n in nodes:
            await n.chord.fix_all_fingers()

        # Lookups from every node agree with the true owner.
        ids = sorted(n.chord.me.id for n in nodes)
        rng = random.Random(5)
        keys = [rng.getrandbits(256) for _ in range(4)]
        for n in nodes:
            for key in keys:
                assert (await n.ring.lookup(key)).owner.id == true_successor(ids, key)

        # Presence on the true owners, then whispers both ways.
        for n in nodes:
            await n.chat.publish_presence()
        a, b = nodes[1], nodes[3]
        r1 = await a.execute(f"/whisper {b.account.account_id} over onions")
        r2 = await b.execute(f"/whisper {a.account.account_id} and back")
        assert r1.data["state"] == "delivered" and r2.data["state"] == "delivered", (
            r1.text,
            r2.text,
        )
        assert [
            m["text"]
            for m in (await b.execute(f"/history {a.account.account_id}")).data["messages"]
        ] == [
            "over onions",
            "and back",
        ]

        # put on one node, get on another.
        assert (await nodes[2].execute("/put onion-key works")).ok
        assert (await nodes[4].execute("/get onion-key")).data["value"] == "works"

        # Ringcast reaches the 4 others exactly once.
        got: dict[int, list[str]] = {i: [] for i in range(5)}

        async def watch(i: int, n: ChatNode) -> None:
            async for ev in n.events():
                if ev.kind == "message" and ev.data["conversation"] == "ringcast":
                    got[i].append(ev.data["text"])

        tasks = [asyncio.get_running_loop().create_task(watch(i, n)) for i, n in enumerate(nodes)]
        await asyncio.sleep(0.2)
        assert (await nodes[0].execute("/ringcast hello over tor")).ok
        await until(lambda: all(got[i] == ["hello over tor"] for i in range(1, 5)), 60)
        await asyncio.sleep(2)
        assert all(got[i] == ["hello over tor"] for i in range(1, 5))
        for t in tasks:
            t.cancel()

        # kill -9 one node's tor: it notices, restarts tor, republishes; the ring heals.
        victim = nodes[2]
        os.kill(victim.tor.pid, signal.SIGKILL)
        await until(lambda: victim.monitor.restarts >= 1, 60)
        await until(lambda: check_invariants(views(nodes)) == [] and ideal_ring(views(nodes)), 120)
        key = rng.getrandbits(256)
        assert (await victim.ring.lookup(key)).owner.id == true_successor(ids, key)
        assert (await nodes[0].ring.lookup(victim.chord.me.id)).owner.id == victim.chord.me.id

        # The TOR console commands.
        st = await nodes[4].execute("/tor status")
        assert st.ok and st.data, st.text
        assert (await nodes[4].execute("/newtor")).ok
        # /tor stop is deliberate (the monitor stays away); /tor start rejoins.
        pausing = nodes[3]
        assert (await pausing.execute("/tor stop")).ok
        await asyncio.sleep(2 * 1.0 + 0.5)  # longer than the monitor's interval
        assert not pausing.tor.running
        assert (await pausing.execute("/tor start")).ok
        await until(lambda: check_invariants(views(nodes)) == [] and ideal_ring(views(nodes)), 120)
        back = await nodes[0].execute(f"/whisper {pausing.account.account_id} welcome back")
        assert back.data["state"] == "delivered", back.text
        # /newonions: a new onion service and ring id; whispers still arrive.
        mover = nodes[4]
        old = mover.identity.onion
        rot = await mover.execute("/newonions")
        assert rot.ok and rot.data["onion"] != old, rot.text
        await mover.ready(120)
        after = await nodes[1].execute(f"/whisper {mover.account.account_id} found you")
        assert after.data["state"] == "delivered", after.text
    finally:
        await asyncio.gather(*(n.stop() for n in nodes), return_exceptions=True)
