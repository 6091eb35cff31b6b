"""Contacts (request / accept, presence, fingerprint) and channels (4 members, one offline)."""

from __future__ import annotations

import asyncio

import pytest

from ohtchat.app.node import ChatNode
from tests.chat.ringnodes import PASS, RING_DEADLINE, finds, options, settle, start_ring
from tests.waiting import eventually

pytestmark = pytest.mark.slow


async def test_contact_request_accept_and_presence(tmp_path):
    nodes = await start_ring(tmp_path, ["alice", "bob", "carol"])
    alice, bob, _ = nodes
    a_id, b_id = alice.account.account_id, bob.account.account_id
    try:
        r = await alice.execute(f"/request {b_id} hi, it's alice")
        assert r.ok and r.data["state"] == "delivered", r.text
        contacts = (await bob.execute("/contacts")).data["contacts"]
        assert [(c["account_id"], c["state"]) for c in contacts] == [(a_id, "requested")]
        assert contacts[0]["name"] == "alice"
        assert len(contacts[0]["fingerprint"].split()) == 8
        # Both sides compute the same fingerprint for alice's key, to compare out of band.
        acc = await bob.execute(f"/add {a_id}")
        assert acc.ok and acc.data["contact_state"] == "accepted"
        await eventually(
            lambda: alice.store.get_contact(b_id).state == "accepted", "bob's acceptance"
        )
        a_view = (await alice.execute("/contacts")).data["contacts"][0]
        assert a_view["name"] == "bob"  # stored with the acceptance
        # Heartbeats make each side online for the other; stopping bob ages him to offline.
        await eventually(lambda: alice.chat.contacts.presence(b_id) == "online", "bob online")
        await bob.stop()
        await eventually(lambda: alice.chat.contacts.presence(b_id) == "offline", "bob offline")
        assert (await alice.execute(f"/rm {b_id}")).ok
        assert (await alice.execute("/contacts")).data["contacts"] == []
    finally:
        for n in nodes:
            await n.stop()


async def test_channel_of_four_with_one_offline(tmp_path):
    nodes = await start_ring(tmp_path, ["owner", "m1", "m2", "m3", "relay"])
    owner, m1, m2, m3, _relay = nodes
    try:
        created = await owner.execute("/channel friends")
        cid = created.data["channel_id"]
        for m in (m1, m2, m3):
            j = await m.execute(f"/join {cid}")
            assert j.ok, j.text
        await eventually(
            lambda: len(owner.store.get_channel(cid).members) == 4, "4 members at the owner"
        )
        await eventually(
            lambda: all(len(m.store.get_channel(cid).members) == 4 for m in (m1, m2, m3)),
            "4 members at every member",
        )
        m3_dir_name = "m3"
        await m3.stop()
        await settle([owner, m1, m2, _relay])  # the ring heals around m3
        m3_id = m3.account.account_id
        # m3's record outlives it (it names the key its mailbox copy is sealed to).
        await eventually(
            lambda: finds(owner, m3_id, m3.identity.onion), "m3's presence", RING_DEADLINE
        )
        cast = await owner.execute(f"/channelcast {cid} hello everyone")
        assert cast.ok, cast.text
        assert cast.data["state"] == "queued"  # m3 was offline: its copy waits in its mailbox
        assert cast.data["members"][m3.account.account_id] == "queued"

        async def channel_texts(m: ChatNode) -> list[str]:
            h = await m.execute(f"/history {cid}")
            assert h.ok, h.text
            return [x["text"] for x in h.data["messages"]]

        for m in (m1, m2):
            await eventually(lambda m=m: channel_texts(m), f"the channelcast at {m.account.name}")
            assert await channel_texts(m) == ["hello everyone"]
        m3b = await ChatNode.start(
            options(tmp_path / m3_dir_name, "m3", [owner.listener.address]), PASS
        )
        nodes[3] = m3b
        await m3b.ready(RING_DEADLINE)
        await eventually(lambda: channel_texts(m3b), "m3's mailbox pickup", RING_DEADLINE)
        assert await channel_texts(m3b) == ["hello everyone"]
        # History is kept on the sender too.
        assert [x["text"] for x in (await owner.execute(f"/history {cid}")).data["messages"]] == [
            "hello everyone"
        ]
    finally:
        for n in nodes:
            await n.stop()


async def test_ringcast_reaches_every_node_once(tmp_path):
    nodes = await start_ring(tmp_path, ["a", "b", "c", "d", "e"])
    seen: dict[str, list[str]] = {n.account.account_id: [] for n in nodes}
    subs = []
    try:
        watching = {n.account.account_id: n.bus.subscribers for n in nodes}
        for n in nodes:

            async def watch(n=n):
                async for ev in n.events():
                    if ev.kind == "message" and ev.data["conversation"] == "ringcast":
                        seen[n.account.account_id].append(ev.data["text"])

            subs.append(asyncio.get_running_loop().create_task(watch()))
        await eventually(
            lambda: all(n.bus.subscribers > watching[n.account.account_id] for n in nodes),
            "every watcher subscribed",
        )
        for n in nodes:
            await n.chord.fix_all_fingers()
        r = await nodes[0].execute("/ringcast hello ring")
        assert r.ok, r.text
        others = [n.account.account_id for n in nodes[1:]]
        await eventually(lambda: all(seen[o] for o in others), "the ringcast everywhere")
        # Part of the scenario, not a wait for a result: a window for a late duplicate to show.
        await asyncio.sleep(0.5)
        assert all(seen[o] == ["hello ring"] for o in others), seen  # exactly once
    finally:
        for t in subs:
            t.cancel()
        for n in nodes:
            await n.stop()


async def test_ringcasts_are_kept_in_history(tmp_path):
    nodes = await start_ring(tmp_path, ["a", "b", "c"])
    try:
        for n in nodes:
            await n.chord.fix_all_fingers()
        assert (await nodes[1].execute("/ringcast kept")).ok
        for n in nodes:

            async def kept(n=n):
                h = await n.execute("/history ringcast")
                return h.ok and h.data["messages"]

            messages = await eventually(kept, f"the ringcast kept at {n.account.name}")
            assert [m["text"] for m in messages] == ["kept"]
            assert messages[0]["sender_name"] == "b"
    finally:
        for n in nodes:
            await n.stop()
