"""Receipts for offline delivery on virtual time: applied only from the recipient, for messages
sent to it; never answered with a receipt; sent in chunks."""

from __future__ import annotations

import os

from ohtchat.chat.conversations import scoped_message_id
from ohtchat.chat.envelopes import ChatItem, seal_item
from ohtchat.chat.receipts import MAX_RECEIPT_IDS, receipt_ids
from ohtchat.store import Message, MessageState
from tests.chat.virtual import ChatNet, ChatPeer, simulate


def receipt(to: str, msg_ids: list[str]) -> ChatItem:
    """A ``receipt`` item naming ``msg_ids``."""
    return ChatItem("receipt", os.urandom(16).hex(), to, 0.0, "", {"msg_ids": msg_ids})


def state_of(peer: ChatPeer, msg_id: str) -> MessageState:
    """The stored delivery state of one message."""
    return peer.store.get_message(msg_id).state


def queued(sender: ChatPeer, to: str, msg_id: str) -> None:
    """A message of ``sender`` to ``to`` waiting for its receipt."""
    msg = Message(msg_id, to, sender.id, "hi", sender.chat.now(), MessageState.QUEUED, read=True)
    sender.store.append_message(msg)


def test_an_offline_whisper_is_receipted_on_pickup_and_forgeries_change_nothing() -> None:
    async def scenario(net: ChatNet) -> None:
        alice, bob, carol, _dave = await net.ring("alice", "bob", "carol", "dave")
        await net.stop(bob)
        await net.settle()
        msg = await alice.chat.whisper(bob.id, "are you there?")
        assert msg.state is MessageState.QUEUED
        # carol (authenticated as carol) claims the pickup, and names an unknown id: accepted
        # as an item, changes nothing.
        forged = receipt(alice.id, [msg.msg_id, "f" * 32])
        assert await carol.chat.send_item(alice.id, forged) is MessageState.DELIVERED
        # ... nor does a receipt for bob's message signed by carol in alice's mailbox.
        box = seal_item(
            carol.account.key, alice.account.kem.public, receipt(alice.id, [msg.msg_id])
        )
        await carol.dht.mailbox_put(alice.id, box)
        await alice.chat.drain_mailbox()
        assert state_of(alice, msg.msg_id) is MessageState.QUEUED
        bob2 = await net.restart(bob, seed=alice)
        await net.until(
            lambda: state_of(alice, msg.msg_id) is MessageState.DELIVERED, "the receipt"
        )
        delivered = {"msg_id": msg.msg_id, "conversation": bob.id, "state": "delivered"}
        assert delivered in alice.bus.of("message_state")
        assert bob2.texts(alice.id) == ["are you there?"]

    simulate(scenario)


def test_a_receipt_from_the_mailbox_is_applied_and_never_receipted() -> None:
    async def scenario(net: ChatNet) -> None:
        alice, bob, carol = await net.ring("alice", "bob", "carol", timers=False)
        sent: list[str] = []
        send_item = alice.chat.delivery.send_item

        async def spy(to: str, item: ChatItem) -> MessageState:
            sent.append(item.kind)
            return await send_item(to, item)

        alice.chat.delivery.send_item = spy  # type: ignore[method-assign]
        # Two of alice's messages wait for a receipt: one to bob, one to carol.
        queued(alice, bob.id, "1" * 32)
        queued(alice, carol.id, "2" * 32)
        # bob receipts both through alice's mailbox (signed by bob): only bob's counts.
        box = seal_item(
            bob.account.key, alice.account.kem.public, receipt(alice.id, ["1" * 32, "2" * 32])
        )
        await bob.dht.mailbox_put(alice.id, box)
        assert await alice.chat.drain_mailbox() == 0  # a receipt is not a message
        await net.advance(10.0)  # time for any receipt task the pickup started
        assert state_of(alice, "1" * 32) is MessageState.DELIVERED
        assert state_of(alice, "2" * 32) is MessageState.QUEUED
        assert sent == []  # no receipt for a receipt
        assert not bob.store.has_message("1" * 32)

    simulate(scenario)


def test_a_receipt_applies_once_and_only_to_our_messages() -> None:
    async def scenario(net: ChatNet) -> None:
        alice, bob = await net.ring("alice", "bob", timers=False)
        queued(alice, bob.id, "3" * 32)
        # A message bob sent to alice cannot be "delivered" by bob's receipt at alice.
        bob_msg = ChatItem("whisper", "4" * 32, alice.id, 0.0, "from bob", {})
        await bob.chat.send_item(alice.id, bob_msg)
        changed = alice.chat.receipts.on_receipt(bob.id, receipt(alice.id, ["3" * 32, "4" * 32]))
        assert changed == 1
        assert state_of(alice, scoped_message_id(bob.id, "4" * 32)) is MessageState.RECEIVED
        # Already delivered: a repeated receipt changes nothing.
        assert alice.chat.receipts.on_receipt(bob.id, receipt(alice.id, ["3" * 32])) == 0

    simulate(scenario)


def test_receipts_name_valid_ids_once_and_go_in_chunks() -> None:
    ids = [f"{i:032x}" for i in range(MAX_RECEIPT_IDS + 10)]
    assert receipt_ids({"msg_ids": ["a", "a", "", 5, "x" * 65, "b"]}) == ["a", "b"]
    assert receipt_ids({"msg_ids": "a"}) == []
    assert receipt_ids({"msg_ids": ids}) == ids[:MAX_RECEIPT_IDS]

    async def scenario(net: ChatNet) -> None:
        alice, bob = await net.ring("alice", "bob", timers=False)
        for i in ids:
            queued(alice, bob.id, i)
        sizes: list[int] = []
        send_item = bob.chat.delivery.send_item

        async def spy(to: str, item: ChatItem) -> MessageState:
            sizes.append(len(item.extra["msg_ids"]))
            return await send_item(to, item)

        bob.chat.delivery.send_item = spy  # type: ignore[method-assign]
        await bob.chat.receipts.send_receipts(alice.id, ids)
        assert sizes == [MAX_RECEIPT_IDS, 10]
        assert all(state_of(alice, i) is MessageState.DELIVERED for i in ids)
        assert len(alice.bus.of("message_state")) == len(ids)

    simulate(scenario)
