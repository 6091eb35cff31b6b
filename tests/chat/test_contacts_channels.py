"""Contacts, channels and ringcast history end to end on real nodes over loopback TCP, through
the console commands (their logic is tested on virtual time: ``test_*_virtual.py``)."""

from __future__ import annotations

import pytest

from tests.chat.ringnodes import start_ring
from tests.waiting import eventually

pytestmark = pytest.mark.slow


async def test_contacts_and_channels_through_the_commands(tmp_path):
    nodes = await start_ring(tmp_path, ["alice", "bob", "carol"])
    alice, bob, carol = nodes
    a_id, b_id = alice.account.account_id, bob.account.account_id
    try:
        r = await alice.execute(f"/request {b_id} hi, it's alice")
        assert r.ok and r.data["state"] == "delivered", r.text
        contacts = (await bob.execute("/contacts")).data["contacts"]
        assert [(c["account_id"], c["state"]) for c in contacts] == [(a_id, "requested")]
        assert contacts[0]["name"] == "alice"
        assert len(contacts[0]["fingerprint"].split()) == 8
        acc = await bob.execute(f"/add {a_id}")
        assert acc.ok and acc.data["contact_state"] == "accepted"
        await eventually(
            lambda: alice.store.get_contact(b_id).state == "accepted", "bob's acceptance"
        )
        a_view = (await alice.execute("/contacts")).data["contacts"][0]
        assert a_view["name"] == "bob"  # stored with the acceptance

        created = await alice.execute("/channel friends")
        cid = created.data["channel_id"]
        for m in (bob, carol):
            j = await m.execute(f"/join {cid}")
            assert j.ok, j.text
        await eventually(
            lambda: len(alice.store.get_channel(cid).members) == 3, "3 members at the owner"
        )
        await eventually(
            lambda: all(len(m.store.get_channel(cid).members) == 3 for m in (bob, carol)),
            "3 members at every member",
        )
        cast = await alice.execute(f"/channelcast {cid} hello everyone")
        assert cast.ok and cast.data["state"] == "delivered", cast.text
        assert set(cast.data["members"].values()) == {"delivered"}
        for m in nodes:
            h = await m.execute(f"/history {cid}")
            assert [x["text"] for x in h.data["messages"]] == ["hello everyone"]

        assert (await alice.execute(f"/rm {b_id}")).ok
        assert (await alice.execute("/contacts")).data["contacts"] == []
    finally:
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
