"""ACCOUNT commands and presence / handle lookups, on real nodes over loopback TCP."""

from __future__ import annotations

import pytest

from ohtchat.dht.errors import RecordRefused
from tests.chat.ringnodes import RING_DEADLINE, finds, ring_is_exact, start_ring
from tests.waiting import eventually

pytestmark = pytest.mark.slow


async def test_account_commands_and_lookups(tmp_path):
    nodes = await start_ring(tmp_path, ["alice", "bob", "carol"])
    alice, bob, _ = nodes
    try:
        accs = await alice.execute("/accounts")
        assert [a["name"] for a in accs.data["accounts"]] == ["alice"]
        gen = await alice.execute("/generate work")
        assert gen.ok and gen.data["name"] == "work"
        assert len((await alice.execute("/accounts")).data["accounts"]) == 2

        sig = (await alice.execute("/sign alice I wrote this")).data["signature"]
        # Bob verifies against Alice's key, found through her presence record.
        ok = await bob.execute(f"/verify {alice.account.account_id} I wrote this {sig}")
        assert ok.ok and ok.data["valid"]
        bad = await bob.execute(f"/verify {alice.account.account_id} I wrote that {sig}")
        assert not bad.ok and bad.data["valid"] is False

        ct = (await bob.execute(f"/encrypt {alice.account.account_id} for alice only")).data
        assert "for alice only" not in ct["ciphertext"]
        pt = await alice.execute(f"/decrypt alice {ct['ciphertext']}")
        assert pt.ok and pt.data["plaintext"] == "for alice only"
        assert not (await alice.execute(f"/decrypt work {ct['ciphertext']}")).ok

        assert not (await alice.execute("/delaccount alice")).ok  # the active account stays
        assert (await alice.execute("/delaccount work")).ok

        # /lookup ID gives the account's onion address; /lookup NAME resolves a handle.
        found = await bob.execute(f"/lookup {alice.account.account_id}")
        assert found.ok and found.data["account"]["onion"] == alice.identity.onion
        await alice.chat.claim_handle("alice")
        by_handle = await bob.execute("/lookup alice")
        assert by_handle.ok and by_handle.data["account_id"] == alice.account.account_id
        # First come: bob cannot take alice's handle.
        with pytest.raises(RecordRefused):
            await bob.chat.claim_handle("alice")
    finally:
        for n in nodes:
            await n.stop()


async def test_newonions_rotates_address_and_rejoins(tmp_path):
    nodes = await start_ring(tmp_path, ["alice", "bob", "carol"])
    alice, bob, _ = nodes
    try:
        a_id = alice.account.account_id
        assert (await bob.execute(f"/whisper {a_id} before")).data["state"] == "delivered"
        old_onion, old_id = alice.identity.onion, alice.chord.me.id
        r = await alice.execute("/newonions")
        assert r.ok, r.text
        assert r.data["onion"] != old_onion and alice.chord.me.id != old_id
        assert alice.account.account_id == a_id  # same account, new node key
        await alice.ready(RING_DEADLINE)
        await eventually(
            lambda: ring_is_exact(nodes), "the ring with alice's new id", RING_DEADLINE
        )
        carol = nodes[2]
        # The DHT serves the republished presence (asked through carol: bob's cache must stay).
        await eventually(
            lambda: finds(carol, a_id, alice.identity.onion),
            "alice's new presence in the DHT",
            RING_DEADLINE,
        )
        # Bob's cached presence names the old onion: the retry finds the new one.
        after = await bob.execute(f"/whisper {a_id} after")
        assert after.data["state"] == "delivered", after.text
        status = await alice.execute("/status")
        assert status.data["onion"] == alice.identity.onion != old_onion
        texts = [
            m["text"]
            for m in (await alice.execute(f"/history {bob.account.account_id}")).data["messages"]
        ]
        assert texts == ["before", "after"]
    finally:
        for n in nodes:
            await n.stop()
