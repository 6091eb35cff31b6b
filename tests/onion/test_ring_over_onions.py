"""Five nodes, each with its own tor and onion service on the private network, form a Chord
ring over onion services; lookups agree, ringcast reaches everyone once, whispers go both ways,
put/get works; then one node's tor is killed (-9) and the node and the ring recover."""

from __future__ import annotations

import asyncio
import os
import random
import signal

import pytest

from ohtchat.app.node import ChatNode
from ohtchat.chat.service import ChatError
from ohtchat.chord.errors import ChordError
from ohtchat.chord.service import LookupInfo
from ohtchat.dht.errors import DhtError
from ohtchat.sim.invariants import MemberView, check_invariants, ideal_ring, true_successor
from tests.onionring import onion_options
from tests.tcpring import views as ring_views
from tests.waiting import eventually

pytestmark = [pytest.mark.tor, pytest.mark.slow]


opts = onion_options


def views(nodes: list[ChatNode]) -> dict[int, MemberView]:
    return ring_views(n.chord for n in nodes)


def settled(nodes: list[ChatNode]) -> bool:
    """Every member's view of the ring is ideal and Zave's invariants hold."""
    return check_invariants(views(nodes)) == [] and ideal_ring(views(nodes))


def published(node: ChatNode) -> bool:
    """The node's onion service descriptor reached the HSDirs (after a (re)start of tor)."""
    assert node.tor is not None
    return bool(node.tor.tor.running and node.listener.published)  # type: ignore[attr-defined]


async def reachable(src: ChatNode, dst: ChatNode) -> bool:
    """``src`` opens a session to ``dst``'s onion service and ``dst`` answers a ping.

    Views of the ring are local, so they can look ideal while a node is away (nobody has
    noticed yet): a restarted node is back once others can actually reach it.
    """
    try:
        info = await src.ring.ping(dst.identity.onion)
    except ChordError as exc:
        raise AssertionError(
            f"{dst.options.name} unreachable from {src.options.name}: {exc}"
        ) from exc
    return info.peer.id == dst.chord.me.id


async def owner(node: ChatNode, key: int) -> int:
    """The owner of ``key`` as ``node`` looks it up; a lookup that cannot get through yet
    (circuits being rebuilt) is retried, a wrong answer is returned as is."""

    async def attempt() -> LookupInfo:
        try:
            return await node.ring.lookup(key)
        except ChordError as exc:
            raise AssertionError(f"lookup from {node.options.name} failed: {exc}") from exc

    return (await eventually(attempt, "a lookup that gets through", timeout=120)).owner.id


async def presence_names(src: ChatNode, dst: ChatNode, onion: str) -> bool:
    """``dst``'s presence record on the DHT, as ``src`` reads it, names ``onion``."""
    try:
        found = (await src.chat.lookup(dst.account.account_id, fresh=True)).onion
    except (ChatError, DhtError, ChordError) as exc:
        raise AssertionError(f"no presence of {dst.options.name} yet: {exc}") from exc
    assert found == onion, f"{dst.options.name}'s presence still names {found}"
    return True


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
        await eventually(lambda: settled(nodes), "the ring of 5 converges", timeout=90)
        for n in nodes:
            await n.chord.fix_all_fingers()

        # Lookups from every node agree with the true owner.
        ids = sorted(n.chord.me.id for n in nodes)
        rng = random.Random(5)
        keys = [rng.getrandbits(256) for _ in range(4)]
        for n in nodes:
            for key in keys:
                assert await owner(n, key) == true_successor(ids, key)

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

        before = [n.bus.subscribers for n in nodes]
        tasks = [asyncio.get_running_loop().create_task(watch(i, n)) for i, n in enumerate(nodes)]
        await eventually(
            lambda: all(n.bus.subscribers > b for n, b in zip(nodes, before, strict=True)),
            "every watcher subscribed to its node's events",
        )
        assert (await nodes[0].execute("/ringcast hello over tor")).ok
        await eventually(
            lambda: all(got[i] == ["hello over tor"] for i in range(1, 5)),
            "the ringcast reaches the 4 others",
            timeout=60,
        )
        # The scenario: leave time for a duplicate delivery to show up, then check none did.
        await asyncio.sleep(2)
        assert all(got[i] == ["hello over tor"] for i in range(1, 5))
        for t in tasks:
            t.cancel()

        # kill -9 one node's tor: it notices, restarts tor, republishes; the ring heals.
        victim = nodes[2]
        assert victim.tor is not None and victim.tor.tor.pid is not None
        os.kill(victim.tor.tor.pid, signal.SIGKILL)
        await eventually(
            lambda: victim.tor.monitor is not None and victim.tor.monitor.restarts >= 1,
            "the monitor restarts tor",
            60,
        )
        await eventually(lambda: published(victim), "the victim's onion republished", 120)
        await eventually(lambda: reachable(nodes[0], victim), "the victim reachable again", 120)
        await eventually(lambda: settled(nodes), "the ring heals", timeout=120)
        key = rng.getrandbits(256)
        assert await owner(victim, key) == true_successor(ids, key)
        assert await owner(nodes[0], victim.chord.me.id) == victim.chord.me.id

        # The TOR console commands.
        st = await nodes[4].execute("/tor status")
        assert st.ok and st.data, st.text
        assert (await nodes[4].execute("/newtor")).ok
        # /tor stop is deliberate (the monitor stays away); /tor start rejoins.
        pausing = nodes[3]
        assert (await pausing.execute("/tor stop")).ok
        # The scenario: stay stopped longer than the monitor's interval, so that a monitor
        # still watching would have restarted tor by now; then check that it did not.
        await asyncio.sleep(2 * 1.0 + 0.5)
        assert pausing.tor is not None and not pausing.tor.tor.running
        assert (await pausing.execute("/tor start")).ok
        await eventually(lambda: published(pausing), "the paused onion republished", 120)
        await eventually(lambda: reachable(nodes[0], pausing), "the paused node reachable", 120)
        await eventually(lambda: settled(nodes), "the ring heals after /tor start", timeout=120)
        back = await nodes[0].execute(f"/whisper {pausing.account.account_id} welcome back")
        assert back.data["state"] == "delivered", back.text
        # /newonions: a new onion service and ring id; whispers still arrive.
        mover = nodes[4]
        old = mover.identity.onion
        rot = await mover.execute("/newonions")
        assert rot.ok and rot.data["onion"] != old, rot.text
        await mover.ready(120)
        # Its new presence record and onion service are published in the background.
        await eventually(
            lambda: presence_names(nodes[1], mover, mover.identity.onion),
            "the mover's presence names its new onion",
            timeout=120,
        )
        await eventually(lambda: reachable(nodes[1], mover), "the mover reachable", 120)
        after = await nodes[1].execute(f"/whisper {mover.account.account_id} found you")
        assert after.data["state"] == "delivered", after.text
    finally:
        await asyncio.gather(*(n.stop() for n in nodes), return_exceptions=True)
    # Stopped nodes leave no onion-service socket directories behind.
    assert all(n.tor is not None and not n.tor.socket_dir.exists() for n in nodes)
