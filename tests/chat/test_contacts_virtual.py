"""Contacts and presence on virtual time: request / accept / remove, fingerprints, heartbeats,
away, and a contact that goes quiet shown offline after ``OFFLINE_AFTER`` heartbeats."""

from __future__ import annotations

import asyncio
from typing import Any

from ohtchat.chat.accounts import fingerprint
from ohtchat.chat.envelopes import ChatItem, new_msg_id
from ohtchat.chat.liveness import OFFLINE_AFTER
from ohtchat.store import ContactState, MessageState
from tests.chat.virtual import ChatNet, ChatPeer, clock, simulate


async def befriend(a: ChatPeer, b: ChatPeer) -> None:
    """``a`` asks ``b``, ``b`` accepts: accepted contacts on both sides."""
    _, state = await a.chat.contacts.add(b.id)
    assert state is MessageState.DELIVERED
    _, state = await b.chat.contacts.add(a.id)
    assert state is MessageState.DELIVERED
    assert a.store.get_contact(b.id).state == b.store.get_contact(a.id).state == "accepted"


def test_request_accept_and_remove() -> None:
    async def scenario(net: ChatNet) -> None:
        alice, bob, _carol = await net.ring("alice", "bob", "carol")
        contact, state = await alice.chat.contacts.request(bob.id, "hi, it's alice")
        assert state is MessageState.DELIVERED
        assert (contact.state, contact.name) == (ContactState.PENDING, "bob")
        (view,) = bob.chat.contacts.listing()
        assert (view.account_id, view.state, view.name) == (alice.id, "requested", "alice")
        # Both sides compute the same fingerprint of alice's key, to compare out of band.
        assert len(view.fingerprint.split()) == 8
        assert view.fingerprint == fingerprint(alice.account.key.public)
        assert {"account_id": alice.id, "name": "alice", "state": "requested"} in bob.bus.of(
            "contact"
        )
        # The request's text is the first message of the conversation, on both sides.
        assert alice.texts(bob.id) == bob.texts(alice.id) == ["hi, it's alice"]
        accepted, state = await bob.chat.contacts.add(alice.id)
        assert accepted.state == "accepted" and state is MessageState.DELIVERED
        (a_view,) = alice.chat.contacts.listing()
        assert (a_view.state, a_view.name) == ("accepted", "bob")  # stored with the acceptance
        assert a_view.fingerprint == fingerprint(bob.account.key.public)
        # Adding an accepted contact again changes nothing.
        again, state = await alice.chat.contacts.add("bob")  # by contact name
        assert again.state == "accepted" and state is MessageState.DELIVERED
        removed = alice.chat.contacts.remove(bob.id)
        assert removed.name == "bob"
        assert alice.chat.contacts.listing() == ()
        assert {"account_id": bob.id, "name": "bob", "state": "removed"} in alice.bus.of("contact")
        assert alice.texts(bob.id) == ["hi, it's alice"]  # history stays

    simulate(scenario)


def test_add_without_a_request_asks_and_unasked_acceptances_are_ignored() -> None:
    async def scenario(net: ChatNet) -> None:
        alice, bob, carol = await net.ring("alice", "bob", "carol")
        contact, state = await alice.chat.contacts.add(bob.id)  # no request from bob: ask him
        assert contact.state == ContactState.PENDING and state is MessageState.DELIVERED
        assert bob.store.get_contact(alice.id).state == "requested"
        assert bob.texts(alice.id) == []  # a request without text is no message
        # carol "accepts" a request alice never sent: ignored.
        item = ChatItem("contact_accept", new_msg_id(), alice.id, clock(), "", {"name": "carol"})
        assert await carol.chat.send_item(alice.id, item) is MessageState.DELIVERED
        assert not alice.chat.contacts.is_contact(carol.id)
        # A request from an accepted contact keeps it accepted.
        await bob.chat.contacts.add(alice.id)
        again = ChatItem("contact_request", new_msg_id(), bob.id, clock(), "", {"name": "alice"})
        await alice.chat.send_item(bob.id, again)
        assert bob.store.get_contact(alice.id).state == "accepted"

    simulate(scenario)


def test_contactcast_whispers_every_accepted_contact() -> None:
    async def scenario(net: ChatNet) -> None:
        alice, bob, carol, dave = await net.ring("alice", "bob", "carol", "dave")
        await befriend(alice, bob)
        await befriend(alice, carol)
        await alice.chat.contacts.request(dave.id, "")  # pending: not cast to
        msgs = await alice.chat.contacts.contactcast("hello friends")
        assert sorted(m.conversation for m in msgs) == sorted([bob.id, carol.id])
        assert all(m.state is MessageState.DELIVERED for m in msgs)
        assert bob.texts(alice.id) == carol.texts(alice.id) == ["hello friends"]
        assert dave.texts(alice.id) == []

    simulate(scenario)


def test_a_stopped_contact_is_offline_after_the_heartbeats_it_missed() -> None:
    async def scenario(net: ChatNet) -> None:
        alice, bob, _carol = await net.ring("alice", "bob", "carol")
        interval = net.heartbeat_interval
        await befriend(alice, bob)
        assert alice.chat.contacts.presence(bob.id) == "online"  # his node answered
        # Ten heartbeats both ways keep each online for the other.
        await net.advance(10 * interval)
        assert alice.chat.contacts.presence(bob.id) == "online"
        assert bob.chat.contacts.presence(alice.id) == "online"
        assert alice.presences(bob.id) == ["online"]
        await net.stop(bob)
        heard = alice.chat.last_seen[bob.id][0]
        # Still online until OFFLINE_AFTER intervals pass without a word from bob ...
        await net.advance(heard + OFFLINE_AFTER * interval - 1 - clock())
        assert alice.chat.contacts.presence(bob.id) == "online"
        assert alice.presences(bob.id) == ["online"]
        # ... and shown offline within half an interval after that.
        await net.advance(interval / 2 + 2)
        assert alice.presences(bob.id) == ["online", "offline"]
        (offline_at,) = alice.bus.times("presence", account_id=bob.id, presence="offline")
        assert (
            heard + OFFLINE_AFTER * interval
            < offline_at
            <= heard + (OFFLINE_AFTER + 0.5) * interval
        )
        # Heartbeats never go to the mailbox.
        await net.advance(4 * interval)
        assert await alice.dht.mailbox_fetch(bob.id) == []

    simulate(scenario)


def test_a_stopped_contact_goes_offline_even_when_heartbeats_hang() -> None:
    async def scenario(net: ChatNet) -> None:
        alice, bob = await net.ring("alice", "bob")
        await befriend(alice, bob)
        # Over Tor a dial to a stopped onion hangs (up to its timeout) instead of being refused.
        request = alice.pool.request

        async def hanging(address: str, onion: str, method: str, *args: Any) -> Any:
            if onion == bob.onion:
                await asyncio.Event().wait()
            return await request(address, onion, method, *args)

        alice.pool.request = hanging  # type: ignore[method-assign]
        await net.stop(bob)
        await net.advance((OFFLINE_AFTER + 0.5) * net.heartbeat_interval + 1)
        assert alice.presences(bob.id)[-1:] == ["offline"]
        assert alice.chat.contacts.presence(bob.id) == "offline"

    simulate(scenario)


def test_away_is_told_by_heartbeats() -> None:
    async def scenario(net: ChatNet) -> None:
        alice, bob = await net.ring("alice", "bob")
        await befriend(alice, bob)
        alice.chat.status = "away"
        await net.advance(net.heartbeat_interval + 1)
        assert bob.chat.contacts.presence(alice.id) == "away"
        assert bob.presences(alice.id)[-1] == "away"
        (view,) = bob.chat.contacts.listing()
        assert view.presence == "away"
        alice.chat.status = "online"
        await net.advance(net.heartbeat_interval + 1)
        assert bob.presences(alice.id)[-1] == "online"

    simulate(scenario)


def test_a_contact_that_writes_is_online_at_once() -> None:
    async def scenario(net: ChatNet) -> None:
        # Heartbeats are far apart: only the traffic itself can show the writer online.
        alice, bob = await net.ring("alice", "bob")
        msg = await bob.chat.whisper(alice.id, "hello")
        assert msg.state is MessageState.DELIVERED
        # Announced before alice's node sent the receipt bob just got.
        assert alice.presences(bob.id) == ["online"]
        assert alice.chat.contacts.presence(bob.id) == "online"
        # Presence is announced for contacts only (alice is none of bob's).
        assert bob.presences(alice.id) == []

    simulate(scenario, heartbeat_interval=600.0)


def test_a_mailbox_item_says_nothing_of_where_its_sender_is() -> None:
    async def scenario(net: ChatNet) -> None:
        alice, bob = await net.ring("alice", "bob", timers=False)
        item = ChatItem("whisper", new_msg_id(), bob.id, clock(), "left for you", {"name": "al"})
        await bob.chat.receive(alice.account.key.public, item, direct=False)
        assert bob.texts(alice.id) == ["left for you"]
        assert bob.chat.name_of(alice.id) == "al"  # the name it gives itself (a stranger)
        assert alice.id not in bob.chat.last_seen
        assert bob.chat.contacts.presence(alice.id) == "offline"
        # Our own items (a copy coming back) are ignored.
        own = ChatItem("whisper", new_msg_id(), bob.id, clock(), "echo", {})
        await bob.chat.receive(bob.account.key.public, own)
        assert bob.texts(bob.id) == []

    simulate(scenario)
