"""Chat end to end on real nodes over loopback TCP, through the console commands: whispers
online and offline (with the receipt on pickup, after a restart from the store on disk), the
ring and DHT commands, a restart through cached peers, concurrent commands.

The chat logic itself (rate limits, deduplication, receipts, presence timing, contacts,
channels) is tested on virtual time: ``test_*_virtual.py``."""

from __future__ import annotations

import asyncio

import pytest

from ohtchat.app.node import ChatNode
from ohtchat.store import MessageState
from tests.chat.ringnodes import PASS, RING_DEADLINE, finds, options, settle, start_ring
from tests.waiting import eventually

pytestmark = pytest.mark.slow


async def test_whisper_online_with_receipt_and_history(tmp_path):
    nodes = await start_ring(tmp_path, ["alice", "bob", "carol"])
    alice, bob, _carol = nodes
    try:
        r = await alice.execute(f"/whisper {bob.account.account_id} hello bob")
        assert r.ok, r.text
        assert r.data["state"] == "delivered"  # the RPC reply is the receipt
        h = await bob.execute(f"/history {alice.account.account_id} 10")
        assert [m["text"] for m in h.data["messages"]] == ["hello bob"]
        assert h.data["messages"][0]["sender_name"] == "alice"
        # Plain text goes to the open conversation.
        r2 = await bob.execute("hi alice", conversation=alice.account.account_id)
        assert r2.ok and r2.data["state"] == "delivered"
        h2 = await alice.execute(f"/history {bob.account.account_id}")
        assert [m["text"] for m in h2.data["messages"]] == ["hello bob", "hi alice"]
    finally:
        for n in nodes:
            await n.stop()


async def test_whisper_offline_through_mailbox_shown_once_and_receipted(tmp_path):
    nodes = await start_ring(tmp_path, ["alice", "bob", "carol", "dave"])
    alice, bob = nodes[0], nodes[1]
    bob_id = bob.account.account_id
    try:
        await bob.stop()
        await settle([n for n in nodes if n is not bob])  # the ring heals around bob
        # bob's record outlives him (it names where to find his key for the mailbox).
        await eventually(
            lambda: finds(alice, bob_id, bob.identity.onion), "bob's presence", RING_DEADLINE
        )
        r = await alice.execute(f"/whisper {bob_id} are you there?")
        assert r.ok, r.text
        assert r.data["state"] == "queued"
        mid = r.data["msg_id"]
        bob2 = await ChatNode.start(
            options(tmp_path / "bob", "bob", [alice.listener.address]), PASS
        )
        nodes[1] = bob2
        await bob2.ready(RING_DEADLINE)
        await eventually(lambda: bob2.store.message_count() >= 1, "mailbox pickup", RING_DEADLINE)
        await bob2.chat.drain_mailbox()  # a second drain must not show it again
        h = await bob2.execute(f"/history {alice.account.account_id}")
        assert [m["text"] for m in h.data["messages"]] == ["are you there?"]
        # The pickup is receipted: queued → delivered at alice.
        await eventually(
            lambda: alice.store.get_message(mid).state is MessageState.DELIVERED,
            "the receipt",
            RING_DEADLINE,
        )
    finally:
        for n in nodes:
            await n.stop()


async def test_ring_and_dht_commands(tmp_path):
    nodes = await start_ring(tmp_path, ["a", "b", "c", "d"])
    try:
        st = await nodes[0].execute("/status")
        assert st.ok and st.data["member"] and st.data["onion"] == nodes[0].identity.onion
        assert (await nodes[1].execute("/put colour blue")).ok
        got = await nodes[3].execute("/get colour")
        assert got.ok and got.data["value"] == "blue"
        assert not (await nodes[2].execute("/put colour red")).ok  # only the owner may overwrite
        bad = await nodes[0].execute("/whisper")
        assert not bad.ok and bad.data["error"] == "usage"

        async def fingers():
            ft = await nodes[0].execute("/ftable")
            assert ft.ok, ft.text
            return ft.data["fingers"]

        assert await eventually(fingers, "a finger table")  # fix_fingers fills it in the background
    finally:
        for n in nodes:
            await n.stop()


async def test_restart_without_a_seed_rejoins_through_cached_peers(tmp_path):
    nodes = await start_ring(tmp_path, ["alice", "bob", "carol"])
    alice, bob, carol = nodes
    try:
        await bob.stop()
        # No --bootstrap this time: the peers that answered in the last run are the seeds.
        bob2 = await ChatNode.start(options(tmp_path / "bob", "bob", []), PASS)
        nodes[1] = bob2
        await bob2.ready(RING_DEADLINE)
        others = {alice.chord.me.id, carol.chord.me.id}
        successor = await eventually(lambda: bob2.chord.state.successor, "bob's successor")
        assert successor.id in others  # it joined the old ring, not a new one
    finally:
        for n in nodes:
            await n.stop()


async def test_concurrent_commands_keep_their_own_conversation(tmp_path):
    """Two clients of one node type plain text at once, each in its own conversation."""
    nodes = await start_ring(tmp_path, ["alice", "bob", "carol"])
    alice, bob, carol = nodes
    try:
        r1, r2 = await asyncio.gather(
            alice.execute("for bob", conversation=bob.account.account_id),
            alice.execute("for carol", conversation=carol.account.account_id),
        )
        assert r1.ok and r2.ok, (r1.text, r2.text)
        a_id = alice.account.account_id
        for who, text in ((bob, "for bob"), (carol, "for carol")):
            await eventually(  # delivered at once, or through the mailbox if queued
                lambda who=who: [m.text for m in who.store.history(a_id, limit=5)],
                f"{text!r} arrives",
            )
            assert [m.text for m in who.store.history(a_id, limit=5)] == [text]
    finally:
        for n in nodes:
            await n.stop()
