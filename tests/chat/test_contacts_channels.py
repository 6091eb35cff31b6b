"""Contacts (request / accept, presence, fingerprint) and channels (4 members, one offline)."""

from __future__ import annotations

import pytest

from ohtchat.chat.node import ChatNode
from tests.chat.ringnodes import PASS, options, settle, start_ring, wait_for

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
        await wait_for(lambda: alice.store.get_contact(b_id).state == "accepted")
        a_view = (await alice.execute("/contacts")).data["contacts"][0]
        assert a_view["name"] == "bob"
        # Heartbeats make each side online for the other; stopping bob ages him to offline.
        await wait_for(lambda: alice.chat.contacts.presence(b_id) == "online")
        await bob.stop()
        await wait_for(lambda: alice.chat.contacts.presence(b_id) == "offline", timeout=10)
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
        await wait_for(lambda: len(owner.store.get_channel(cid).members) == 4)
        await wait_for(
            lambda: all(len(m.store.get_channel(cid).members) == 4 for m in (m1, m2, m3))
        )
        m3_dir_name = "m3"
        await m3.stop()
        await settle([owner, m1, m2, _relay], 1.5)
        cast = await owner.execute(f"/channelcast {cid} hello everyone")
        assert cast.ok, cast.text
        assert cast.data["state"] == "queued"  # m3 was offline: its copy waits in its mailbox
        assert cast.data["members"][m3.account.account_id] == "queued"
        for m in (m1, m2):
            await wait_for(lambda m=m: m.store.message_count() >= 1)
            h = await m.execute(f"/history {cid}")
            assert [x["text"] for x in h.data["messages"]] == ["hello everyone"]
        m3b = await ChatNode.start(
            options(tmp_path / m3_dir_name, "m3", [owner.listener.address]), PASS
        )
        nodes[3] = m3b
        await m3b.ready(30)
        await wait_for(lambda: m3b.store.message_count() >= 1, timeout=20)
        h3 = await m3b.execute(f"/history {cid}")
        assert [x["text"] for x in h3.data["messages"]] == ["hello everyone"]
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
        import asyncio

        for n in nodes:

            async def watch(n=n):
                async for ev in n.events():
                    if ev.kind == "message" and ev.data["conversation"] == "ringcast":
                        seen[n.account.account_id].append(ev.data["text"])

            subs.append(asyncio.get_running_loop().create_task(watch()))
        await asyncio.sleep(0.1)
        for n in nodes:
            await n.chord.fix_all_fingers()
        r = await nodes[0].execute("/ringcast hello ring")
        assert r.ok, r.text
        others = [n.account.account_id for n in nodes[1:]]
        await wait_for(lambda: all(seen[o] == ["hello ring"] for o in others))
        await asyncio.sleep(0.5)
        assert all(seen[o] == ["hello ring"] for o in others)  # exactly once
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
            await wait_for(lambda n=n: n.store.message_count() >= 1)
            h = await n.execute("/history ringcast")
            assert [m["text"] for m in h.data["messages"]] == ["kept"]
            assert h.data["messages"][0]["sender_name"] == "b"
    finally:
        for n in nodes:
            await n.stop()
