"""Whispers inside the double ratchet, on virtual time: what travels, the state kept in the store
across a restart, the mailbox, reordering and duplicates, a desync healed by a new handshake,
simultaneous handshakes, forward secrecy at the chat level, verified safety numbers."""

from __future__ import annotations

import asyncio
import dataclasses
from types import SimpleNamespace
from typing import Any

import pytest

from ohtchat.chat.envelopes import ChatItem, new_msg_id, open_item
from ohtchat.chat.ratchets import MAX_SEEN, seen_key, state_key
from ohtchat.ratchet import DuplicateMessage, MalformedRatchetMessage, Session, peek
from ohtchat.store import MessageState
from ohtchat.wire.envelope import pack
from tests.chat.virtual import ChatNet, ChatPeer, simulate


def session(peer: ChatPeer, other: ChatPeer) -> Session:
    """``peer``'s stored session with ``other``."""
    blob = peer.store.get_setting(state_key(peer.id, other.id, other.account.node_key.public))
    assert isinstance(blob, bytes), f"{peer.name} has no session with {other.name}"
    return Session.from_bytes(blob)


def record_sent(peer: ChatPeer) -> list[dict[str, Any]]:
    """Record every ``chat_deliver`` params ``peer`` sends directly."""
    sent: list[dict[str, Any]] = []
    pool = peer.chat.delivery.pool

    async def request(address: str, onion: str, method: str, params: Any, timeout: float) -> Any:
        sent.append(params)
        return await pool.request(address, onion, method, params, timeout)

    peer.chat.delivery.pool = SimpleNamespace(request=request)  # type: ignore[assignment]
    return sent


def test_whispers_travel_in_the_ratchet_and_the_state_survives_a_restart() -> None:
    async def scenario(net: ChatNet) -> None:
        alice, bob, _carol = await net.ring("alice", "bob", "carol")
        sent = record_sent(alice)
        assert (await alice.chat.whisper(bob.id, "hello bob")).state is MessageState.DELIVERED
        (item,) = sent
        assert item["kind"] == "ratchet" and item["text"] == "" and set(item["extra"]) == {"r", "d"}
        assert b"hello bob" not in pack(item)
        assert peek(item["extra"]["r"]).sender == alice.account.key.public  # an initial message
        hid = session(alice, bob).handshake_id
        assert session(bob, alice).handshake_id == hid
        assert (await bob.chat.whisper(alice.id, "hi alice")).state is MessageState.DELIVERED
        assert not session(alice, bob).awaiting_reply  # alice read bob's answer: the ratchet turned
        # Bob restarts: his sessions are in his (encrypted) store, so no new handshake.
        await net.stop(bob)
        bob = await net.restart(bob, seed=alice)
        await net.until(lambda: net.finds(alice, bob), "bob's new presence")
        assert (await alice.chat.whisper(bob.id, "still there?")).state is MessageState.DELIVERED
        assert not peek(sent[-1]["extra"]["r"]).initial
        assert (await bob.chat.whisper(alice.id, "yes")).state is MessageState.DELIVERED
        want = sorted(["hello bob", "hi alice", "still there?", "yes"])
        assert sorted(bob.texts(alice.id)) == sorted(alice.texts(bob.id)) == want
        assert session(bob, alice).handshake_id == session(alice, bob).handshake_id == hid
        assert bob.store.get_setting(seen_key(bob.id)) == hid  # one handshake accepted, remembered

    simulate(scenario)


def test_offline_whisper_is_ratcheted_and_unreadable_with_the_prekey_afterwards() -> None:
    async def scenario(net: ChatNet) -> None:
        alice, bob, carol, _dave = await net.ring("alice", "bob", "carol", "dave")
        await alice.chat.whisper(bob.id, "one")
        await bob.chat.whisper(alice.id, "two")  # the session has turned: no initial messages
        await net.stop(bob)
        await net.settle()
        await net.until(lambda: net.finds(alice, bob), "bob's presence")
        msg = await alice.chat.whisper(bob.id, "secret offline")
        assert msg.state is MessageState.QUEUED
        ((_, box),) = await carol.dht.mailbox_fetch(bob.id)  # anyone may fetch the boxes
        # A thief of bob's prekey secret (and even of his account key) opens the box, and
        # finds only a ratchet message: no text, not an initial message the prekey could open.
        sender, outer = open_item(bob.account.kem.secret, box)
        assert sender == alice.account.key.public and outer.kind == "ratchet"
        assert outer.text == "" and b"secret offline" not in pack(outer.body())
        ratchet_msg = outer.extra["r"]
        with pytest.raises(MalformedRatchetMessage):
            Session.accept(bob.account.key, bob.account.kem, ratchet_msg)
        bob2 = await net.restart(bob, seed=alice)
        await net.until(lambda: "secret offline" in bob2.texts(alice.id), "the mailbox pickup")
        await net.until(
            lambda: alice.store.get_message(msg.msg_id).state is MessageState.DELIVERED,
            "the receipt",
        )
        # Forward secrecy: bob's state after reading it cannot read it again.
        with pytest.raises(DuplicateMessage):
            session(bob2, alice).decrypt(ratchet_msg)
        assert sorted(bob2.texts(alice.id)) == ["one", "secret offline", "two"]

    simulate(scenario)


def test_out_of_order_and_duplicate_ratchet_items() -> None:
    async def scenario(net: ChatNet) -> None:
        alice, bob = await net.ring("alice", "bob", timers=False)
        await bob.chat.whisper(alice.id, "first")
        presence = await alice.chat.lookup(bob.id)
        items = [
            alice.chat.ratchets.seal(
                presence, ChatItem("whisper", new_msg_id(), bob.id, 1.0 + i, f"m{i}", {})
            )
            for i in range(4)
        ]

        async def deliver(item: ChatItem) -> Any:
            params = item.body()
            reply = await alice.pool.request(bob.address, bob.onion, "chat_deliver", params, 10)
            return reply.data

        for i in (3, 0, 2, 0, 1, 3):  # reordered, with duplicates
            assert await deliver(items[i]) == {"receipt": True}
        assert sorted(bob.texts(alice.id)) == ["first", "m0", "m1", "m2", "m3"]
        assert len(bob.store.history(alice.id, limit=100)) == 5  # each kept once

    simulate(scenario)


def test_a_lost_state_is_healed_by_a_new_handshake() -> None:
    async def scenario(net: ChatNet) -> None:
        alice, bob, _carol, _dave = await net.ring("alice", "bob", "carol", "dave")
        await alice.chat.whisper(bob.id, "a1")
        await bob.chat.whisper(alice.id, "b1")
        old = session(alice, bob).handshake_id
        # Bob loses his state: alice's next ratchet message is unreadable to him; he answers
        # "undecryptable", alice starts a new handshake and sends the item again in it.
        bob.store.delete_setting(state_key(bob.id, alice.id, alice.account.node_key.public))
        assert (await alice.chat.whisper(bob.id, "a2")).state is MessageState.DELIVERED
        new = session(alice, bob).handshake_id
        assert new != old and session(bob, alice).handshake_id == new
        assert (await bob.chat.whisper(alice.id, "b2")).state is MessageState.DELIVERED
        assert (await alice.chat.whisper(bob.id, "a3")).state is MessageState.DELIVERED
        # Through the mailbox, bob cannot answer: the unreadable item is dropped, and bob's
        # next item opens a new handshake, which alice accepts in place of her session.
        bob.store.delete_setting(state_key(bob.id, alice.id, alice.account.node_key.public))
        await net.stop(bob)
        await net.settle()
        await net.until(lambda: net.finds(alice, bob), "bob's presence")
        assert (await alice.chat.whisper(bob.id, "lost")).state is MessageState.QUEUED
        bob2 = await net.restart(bob, seed=alice)

        async def picked_up() -> bool:
            return await bob2.dht.mailbox_fetch(bob2.id) == []

        await net.until(picked_up, "the mailbox pickup")
        assert "lost" not in bob2.texts(alice.id)
        await net.until(lambda: net.finds(bob2, alice), "alice's presence")
        assert (await bob2.chat.whisper(alice.id, "b3")).state is MessageState.DELIVERED
        assert session(alice, bob2).handshake_id == session(bob2, alice).handshake_id != new
        assert (await alice.chat.whisper(bob2.id, "a4")).state is MessageState.DELIVERED
        assert {"b3", "a4"} <= set(bob2.texts(alice.id)) & set(alice.texts(bob2.id))

    simulate(scenario)


def test_simultaneous_first_whispers_agree_on_one_session() -> None:
    async def scenario(net: ChatNet) -> None:
        alice, bob = await net.ring("alice", "bob", timers=False)
        a, b = await asyncio.gather(
            alice.chat.whisper(bob.id, "from alice"), bob.chat.whisper(alice.id, "from bob")
        )
        assert a.state is b.state is MessageState.DELIVERED
        for i in range(3):
            assert (await alice.chat.whisper(bob.id, f"a{i}")).state is MessageState.DELIVERED
            assert (await bob.chat.whisper(alice.id, f"b{i}")).state is MessageState.DELIVERED
        assert session(alice, bob).handshake_id == session(bob, alice).handshake_id
        want = ["from alice", "from bob", "a0", "b0", "a1", "b1", "a2", "b2"]
        assert sorted(alice.texts(bob.id)) == sorted(bob.texts(alice.id)) == sorted(want)

    simulate(scenario)


def test_contact_items_travel_in_the_ratchet_and_a_changed_safety_number_warns() -> None:
    async def scenario(net: ChatNet) -> None:
        alice, bob = await net.ring("alice", "bob", timers=False)
        sent = record_sent(alice)
        await alice.chat.contacts.request(bob.id, "let's talk")
        assert [p["kind"] for p in sent] == ["ratchet"]
        assert bob.store.get_contact(alice.id).state == "requested"
        await bob.chat.contacts.add(alice.id)
        assert alice.store.get_contact(bob.id).state == "accepted"
        # Both sides compute the same safety number; alice verifies bob.
        number = alice.chat.safety_number(alice.store.get_contact(bob.id))
        assert number == bob.chat.safety_number(bob.store.get_contact(alice.id))
        assert len(number.replace(" ", "")) == 60
        assert alice.chat.verify_contact(bob.id).verified == number
        (view,) = alice.chat.contacts.listing()
        assert view.verified and view.safety == number
        await bob.chat.whisper(alice.id, "verified hello")  # the same key: no warning
        assert not [e for e in alice.bus.of("log") if e["level"] == "warning"]
        # The number verified no longer matches the key bob's items are signed with (as after
        # a key change): a loud warning, the contact unverified, the message still kept.
        contact = alice.store.get_contact(bob.id)
        alice.store.put_contact(dataclasses.replace(contact, verified="1" * 60))
        await bob.chat.whisper(alice.id, "new key")
        (warning,) = [e for e in alice.bus.of("log") if e["level"] == "warning"]
        assert "safety number" in warning["text"] and "bob" in warning["text"]
        assert alice.store.get_contact(bob.id).verified == ""
        assert "new key" in alice.texts(bob.id)

    simulate(scenario)


def test_the_handshake_ids_kept_are_bounded() -> None:
    async def scenario(net: ChatNet) -> None:
        alice, bob = await net.ring("alice", "bob", timers=False)
        bob.store.set_setting(seen_key(bob.id), bytes(32) * MAX_SEEN)
        await alice.chat.whisper(bob.id, "hi")
        seen = bob.store.get_setting(seen_key(bob.id))
        assert isinstance(seen, bytes) and len(seen) == 32 * MAX_SEEN
        assert seen[-32:] == session(bob, alice).handshake_id

    simulate(scenario)
