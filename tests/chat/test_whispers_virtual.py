"""Whispers on virtual time: online with the RPC reply as receipt, offline through the mailbox
(shown once, receipted on pickup), rate limits, deduplication, a moved recipient."""

from __future__ import annotations

import pytest

from ohtchat.chat.conversations import scoped_message_id
from ohtchat.chat.envelopes import ChatItem
from ohtchat.chat.errors import ChatError
from ohtchat.store import MessageState
from tests.chat.virtual import ChatNet, ChatPeer, simulate


def message_events(peer: ChatPeer, msg_id: str) -> list[dict[str, object]]:
    """The ``message`` events ``peer`` published for one message."""
    return [d for d in peer.bus.of("message") if d["msg_id"] == msg_id]


def test_whisper_online_is_delivered_with_the_reply_as_receipt() -> None:
    async def scenario(net: ChatNet) -> None:
        alice, bob, _carol = await net.ring("alice", "bob", "carol")
        msg = await alice.chat.whisper(bob.id, "hello bob")
        assert msg.state is MessageState.DELIVERED  # the RPC reply is the receipt
        assert alice.store.get_message(msg.msg_id).state is MessageState.DELIVERED
        assert bob.texts(alice.id) == ["hello bob"]
        view = bob.chat.message_view(bob.store.get_message(scoped_message_id(alice.id, msg.msg_id)))
        assert view.sender_name == "alice" and not view.outgoing
        received = scoped_message_id(alice.id, msg.msg_id)  # kept per sender
        assert [d["state"] for d in message_events(bob, received)] == ["received"]
        # The sender's copy: stored as sending, then delivered (both announced).
        assert [d["state"] for d in message_events(alice, msg.msg_id)] == ["sending"]
        assert {"msg_id": msg.msg_id, "conversation": bob.id, "state": "delivered"} in (
            alice.bus.of("message_state")
        )
        await net.advance(1.0)  # history is in time order: the answer comes a second later
        reply = await bob.chat.whisper(alice.id, "hi alice")
        assert reply.state is MessageState.DELIVERED
        assert alice.texts(bob.id) == ["hello bob", "hi alice"]
        conv, msgs = alice.chat.history(bob.id, 10)
        assert conv == bob.id and [m.text for m in msgs] == ["hello bob", "hi alice"]
        # A stranger who wrote is listed, so the conversation can be seen.
        assert bob.store.get_contact(alice.id).state == "stranger"
        assert bob.chat.name_of(alice.id) == "alice"

    simulate(scenario)


def test_whisper_to_oneself_or_to_nobody() -> None:
    async def scenario(net: ChatNet) -> None:
        (alice,) = await net.ring("alice")
        with pytest.raises(ChatError):
            await alice.chat.whisper(alice.id, "me")
        with pytest.raises(ChatError):
            await alice.chat.whisper("nobody", "who?")  # neither an id nor a contact
        # A well-formed id without a presence record: nothing to deliver to.
        msg = await alice.chat.whisper("ab" * 32, "anyone?")
        assert msg.state is MessageState.FAILED
        assert alice.texts("ab" * 32) == ["anyone?"]

    simulate(scenario)


def test_whisper_offline_goes_to_the_mailbox_is_shown_once_and_receipted() -> None:
    async def scenario(net: ChatNet) -> None:
        alice, bob, _carol, _dave = await net.ring("alice", "bob", "carol", "dave")
        await net.stop(bob)
        await net.settle()  # the ring heals around bob; his record outlives him
        await net.until(lambda: net.finds(alice, bob), "bob's presence")
        msg = await alice.chat.whisper(bob.id, "are you there?")
        assert msg.state is MessageState.QUEUED
        bob2 = await net.restart(bob, seed=alice)  # picks up its mailbox at once
        await net.until(lambda: bob2.texts(alice.id), "the mailbox pickup")
        assert bob2.texts(alice.id) == ["are you there?"]
        # Picked up: deleted from the mailbox, and receipted back to alice.
        assert await bob2.dht.mailbox_fetch(bob2.id) == []
        await net.until(
            lambda: alice.store.get_message(msg.msg_id).state is MessageState.DELIVERED,
            "the receipt",
        )
        assert await bob2.chat.drain_mailbox() == 0  # a second pickup shows nothing again
        await net.advance(3 * net.mailbox_interval)
        assert bob2.texts(alice.id) == ["are you there?"]
        assert len(message_events(bob2, scoped_message_id(alice.id, msg.msg_id))) == 1

    simulate(scenario)


def test_a_flooding_peer_is_refused_and_its_items_wait_in_the_mailbox() -> None:
    async def scenario(net: ChatNet) -> None:
        alice, bob = await net.ring("alice", "bob")
        # Contacts: alice's queued items use her ticket's share of bob's mailbox (a stranger's
        # share of the open pool is 4 items).
        await alice.chat.contacts.add(bob.id)
        await bob.chat.contacts.add(alice.id)
        await net.advance(20.0)  # the bucket refills after the contact items
        # No latency: the flood takes no virtual time, so the bucket does not refill during it.
        states = [str((await alice.chat.whisper(bob.id, f"spam {i}")).state) for i in range(40)]
        # The burst (30) is delivered; each refused delivery falls back to the mailbox.
        assert states == ["delivered"] * 30 + ["queued"] * 10
        # The bucket refills at 2 items per second.
        await net.advance(5.25)
        more = [str((await alice.chat.whisper(bob.id, f"more {i}")).state) for i in range(11)]
        assert more == ["delivered"] * 10 + ["queued"]
        # The queued ones arrive through the mailbox: all 51, each exactly once.
        await net.until(lambda: len(bob.texts(alice.id)) >= 51, "the mailbox pickup")
        await net.advance(2 * net.mailbox_interval)
        want = [f"spam {i}" for i in range(40)] + [f"more {i}" for i in range(11)]
        assert sorted(bob.texts(alice.id)) == sorted(want)

    simulate(scenario, latency=0.0)


def test_an_item_delivered_twice_is_kept_once() -> None:
    async def scenario(net: ChatNet) -> None:
        alice, bob = await net.ring("alice", "bob")
        item = ChatItem("whisper", "d" * 32, bob.id, alice.chat.now(), "once", {"name": "alice"})
        assert await alice.chat.send_item(bob.id, item) is MessageState.DELIVERED
        assert await alice.chat.send_item(bob.id, item) is MessageState.DELIVERED  # receipted
        # ... and once more through the mailbox.
        await net.stop(bob)
        await net.settle()
        assert await alice.chat.send_item(bob.id, item) is MessageState.QUEUED
        bob2 = await net.restart(bob, seed=alice, timers=False)
        assert await bob2.chat.drain_mailbox() == 0
        assert bob2.texts(alice.id) == ["once"]
        kept = scoped_message_id(alice.id, item.msg_id)
        assert len(message_events(bob, kept)) == 1
        assert message_events(bob2, kept) == []

    simulate(scenario)


def test_a_recipient_that_moved_is_found_again() -> None:
    async def scenario(net: ChatNet) -> None:
        alice, bob, _carol = await net.ring("alice", "bob", "carol")
        assert (await bob.chat.whisper(alice.id, "before")).state is MessageState.DELIVERED
        old_onion = alice.onion
        await net.stop(alice)
        alice2 = await net.restart(alice, seed=bob, new_onion=True)  # as /newonions does
        assert alice2.onion != old_onion and alice2.id == alice.id
        await net.settle()
        # bob's cached device list still names alice's old node key (the list is cached)
        (cached,) = (await bob.chat.devices.current(alice.id)).devices
        assert cached.cert.node_public == alice.account.node_key.public
        # the delivery to the old device fails: bob reads the list again and finds the new one
        after = await bob.chat.whisper(alice.id, "after")
        assert after.state is MessageState.DELIVERED
        (listed,) = (await bob.chat.devices.current(alice.id)).devices
        assert listed.cert.node_public == alice2.account.node_key.public
        assert alice2.texts(bob.id) == ["before", "after"]

    simulate(scenario)
