"""Receipts for offline delivery and presence from heartbeats and traffic, on real nodes over
loopback TCP (issue 18)."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import pytest

from ohtchat.api.events import NodeEvent
from ohtchat.app.node import ChatNode
from ohtchat.chat.envelopes import ChatItem, seal_item
from ohtchat.store import Message, MessageState
from tests.chat.ringnodes import PASS, RING_DEADLINE, finds, options, settle, start_ring
from tests.waiting import eventually

pytestmark = pytest.mark.slow

Seen = list[tuple[str, dict[str, Any]]]


def record_events(node: ChatNode) -> Seen:
    """Every event ``node`` publishes from now on, as ``(kind, data)``."""
    seen: Seen = []
    publish = node.bus.publish

    def spy(event: NodeEvent) -> NodeEvent:
        seen.append((event.kind, event.data))
        return publish(event)

    node.bus.publish = spy  # type: ignore[method-assign]
    return seen


def presence_events(seen: Seen, acct_id: str) -> list[str]:
    """The presences announced for ``acct_id``, in order."""
    return [d["presence"] for k, d in seen if k == "presence" and d["account_id"] == acct_id]


def receipt(to: str, msg_ids: list[str]) -> ChatItem:
    """A ``receipt`` item naming ``msg_ids``."""
    return ChatItem("receipt", os.urandom(16).hex(), to, 0.0, "", {"msg_ids": msg_ids})


def state_of(node: ChatNode, msg_id: str) -> MessageState:
    """The stored delivery state of one message."""
    return node.store.get_message(msg_id).state


async def test_offline_whisper_is_receipted_on_pickup_and_forgeries_change_nothing(tmp_path):
    nodes = await start_ring(tmp_path, ["alice", "bob", "carol", "dave"])
    alice, bob, carol = nodes[:3]
    a_id, bob_id = alice.account.account_id, bob.account.account_id
    events = record_events(alice)
    try:
        await bob.stop()
        await settle([n for n in nodes if n is not bob])
        await eventually(
            lambda: finds(alice, bob_id, bob.identity.onion), "bob's presence", RING_DEADLINE
        )
        r = await alice.execute(f"/whisper {bob_id} are you there?")
        assert r.ok and r.data["state"] == "queued", r.text
        mid = r.data["msg_id"]
        # carol (authenticated as carol) claims the pickup, and names an unknown id: accepted
        # as an item, changes nothing.
        forged = receipt(a_id, [mid, "f" * 32])
        assert await carol.chat.send_item(a_id, forged) is MessageState.DELIVERED
        assert state_of(alice, mid) is MessageState.QUEUED

        bob2 = await ChatNode.start(
            options(tmp_path / "bob", "bob", [alice.listener.address]), PASS
        )
        nodes[1] = bob2
        await bob2.ready(RING_DEADLINE)
        await eventually(
            lambda: state_of(alice, mid) is MessageState.DELIVERED, "the receipt", RING_DEADLINE
        )
        delivered = {"msg_id": mid, "conversation": bob_id, "state": "delivered"}
        assert ("message_state", delivered) in events
        assert [m.text for m in bob2.store.history(a_id, limit=10)] == ["are you there?"]
    finally:
        for n in nodes:
            await n.stop()


async def test_a_receipt_from_the_mailbox_is_applied_and_never_receipted(tmp_path):
    nodes = await start_ring(tmp_path, ["alice", "bob", "carol"])
    alice, bob, carol = nodes
    a_id, bob_id = alice.account.account_id, bob.account.account_id
    sent: list[str] = []
    send_item = alice.chat.send_item

    async def spy(to: str, item: ChatItem) -> MessageState:
        sent.append(item.kind)
        return await send_item(to, item)

    alice.chat.send_item = spy  # type: ignore[method-assign]
    try:
        # Two of alice's messages wait for a receipt: one to bob, one to carol.
        for mid, to in (("1" * 32, bob_id), ("2" * 32, carol.account.account_id)):
            msg = Message(mid, to, a_id, "hi", alice.chat.now(), MessageState.QUEUED, read=True)
            alice.store.append_message(msg)
        # bob receipts both through alice's mailbox (signed by bob): only bob's counts.
        box = seal_item(
            bob.account.key, alice.account.kem.public, receipt(a_id, ["1" * 32, "2" * 32])
        )
        await bob.dht.mailbox_put(a_id, box)
        await eventually(
            lambda: state_of(alice, "1" * 32) is MessageState.DELIVERED, "mailbox receipt"
        )
        await alice.chat.drain_mailbox()  # lets any receipt task started by the pickup run
        assert state_of(alice, "2" * 32) is MessageState.QUEUED
        assert "receipt" not in sent
        assert not bob.store.has_message("1" * 32)
    finally:
        for n in nodes:
            await n.stop()


async def test_a_stopped_contact_goes_offline_even_when_heartbeats_hang(tmp_path):
    nodes = await start_ring(tmp_path, ["alice", "bob"])
    alice, bob = nodes
    bob_id, bob_onion = bob.account.account_id, bob.identity.onion
    try:
        assert (await alice.execute(f"/add {bob_id}")).ok
        await eventually(lambda: bob.store.get_contact(alice.account.account_id), "the request")
        assert (await bob.execute(f"/add {alice.account.account_id}")).ok
        await eventually(lambda: alice.chat.contacts.presence(bob_id) == "online", "bob online")
        events = record_events(alice)
        # Over Tor a dial to a stopped onion hangs (up to its timeout) instead of being refused.
        request = alice.pool.request

        async def hanging(address: str, onion: str, method: str, *args: Any) -> Any:
            if onion == bob_onion:
                await asyncio.Event().wait()
            return await request(address, onion, method, *args)

        alice.pool.request = hanging  # type: ignore[method-assign]
        await bob.stop()
        await eventually(
            lambda: presence_events(events, bob_id)[-1:] == ["offline"], "bob shown offline"
        )
        assert alice.chat.contacts.presence(bob_id) == "offline"
    finally:
        for n in nodes:
            await n.stop()


async def test_a_contact_that_writes_is_online_at_once(tmp_path):
    # Heartbeats are far apart: only the traffic itself can show the writer online in time.
    nodes = await start_ring(tmp_path, ["alice", "bob"], heartbeat_interval=600.0)
    alice, bob = nodes
    bob_id = bob.account.account_id
    try:
        events = record_events(alice)
        r = await bob.execute(f"/whisper {alice.account.account_id} hello")
        assert r.ok and r.data["state"] == "delivered", r.text
        # Announced before alice's node sent the receipt bob just got.
        assert presence_events(events, bob_id) == ["online"]
        assert alice.chat.contacts.presence(bob_id) == "online"
    finally:
        for n in nodes:
            await n.stop()
