"""Mailbox flooding (issue 19, item 2), on virtual time: contact tickets keep the ticketed pool
of a mailbox for contacts, so junk from fresh identities cannot silence them.

The attacker is an ordinary account whose client deposits hand-made items with the project's
own code (a fresh deposit key per item, forged tickets), as a modified client would.
"""

from __future__ import annotations

import pytest

from ohtchat.chat.tickets import held_key, issued_key
from ohtchat.crypto.keys import SigningKey
from ohtchat.dht import Deposit, ForgedRecord, QuotaExceeded, StaleRecord, Ticket, mailbox_id
from ohtchat.store import MessageState
from tests.chat.virtual import ChatNet, ChatPeer, simulate

#: Junk items the attacker deposits, each from a fresh identity (more than a whole mailbox).
FLOOD = 300


async def befriend(a: ChatPeer, b: ChatPeer) -> None:
    """``a`` asks ``b``, ``b`` accepts; each then holds the other's ticket."""
    await a.chat.contacts.add(b.id)
    await b.chat.contacts.add(a.id)
    assert a.store.get_setting(held_key(a.id, b.id)) is not None
    assert b.store.get_setting(held_key(b.id, a.id)) is not None


async def held_items(net: ChatNet, owner: ChatPeer) -> list[int]:
    """How many items each live holder keeps in ``owner``'s mailbox."""
    mbox = mailbox_id(owner.id)
    return [len(p.dht.holdings.items.get(mbox, {})) for p in net.live()]


def test_a_flood_from_fresh_identities_cannot_silence_a_contact() -> None:
    async def scenario(net: ChatNet) -> None:
        alice, bob, mallory, _dave, _erin = await net.ring(
            "alice", "bob", "mallory", "dave", "erin"
        )
        await befriend(alice, bob)
        await net.stop(bob)
        await net.settle()
        await net.until(lambda: net.finds(alice, bob), "bob's presence")
        # While bob is offline, mallory fills his mailbox at every holder from fresh keys.
        stored = 0
        for n in range(FLOOD):
            res = await mallory.dht.mailbox_put(
                bob.id, b"junk %d" % n, deposit=Deposit(SigningKey())
            )
            stored += res.stored_on
        assert stored == 3 * FLOOD  # every deposit lands (evicting older junk)
        open_pool = mallory.dht.config.mailbox_open_items
        assert max(await held_items(net, bob)) == open_pool
        # Tickets she makes up are refused: she cannot reach the contacts' pool.
        k = SigningKey()
        forged = Deposit(k, Ticket(bob.account.key.public, SigningKey().sign(k.public)))
        with pytest.raises(ForgedRecord):
            await mallory.dht.mailbox_put(bob.id, b"forged", deposit=forged)
        # Alice's two offline whispers are deposited with her ticket and survive more junk.
        first = await alice.chat.whisper(bob.id, "are you there?")
        second = await alice.chat.whisper(bob.id, "call me when you are back")
        assert (first.state, second.state) == (MessageState.QUEUED, MessageState.QUEUED)
        for n in range(FLOOD):
            await mallory.dht.mailbox_put(
                bob.id, b"more junk %d" % n, deposit=Deposit(SigningKey())
            )
        bob2 = await net.restart(bob, seed=alice)
        await net.until(lambda: len(bob2.texts(alice.id)) == 2, "both whispers picked up")
        assert sorted(bob2.texts(alice.id)) == ["are you there?", "call me when you are back"]

    simulate(scenario)


def test_a_sender_whose_share_is_used_up_gets_the_true_error() -> None:
    async def scenario(net: ChatNet) -> None:
        alice, bob, mallory, _dave = await net.ring("alice", "bob", "mallory", "dave")
        await net.stop(bob)
        await net.settle()
        await net.until(lambda: net.finds(alice, bob), "bob's presence")
        # Mallory fills her own share of bob's open pool (her derived deposit key) ...
        share = mallory.dht.config.mailbox_key_items
        for n in range(share):
            await mallory.dht.mailbox_put(bob.id, b"junk %d" % n)
        with pytest.raises(QuotaExceeded):
            await mallory.dht.mailbox_put(bob.id, b"one too many")
        # ... so her whisper fails as "mailbox full", not as an unknown recipient,
        msg = await mallory.chat.whisper(bob.id, "let me in")
        assert msg.state is MessageState.FAILED
        assert mallory.chat.failure_reason(msg.msg_id) == "mailbox_full"
        # while a stranger with a share of its own still gets its first whisper queued.
        hello = await alice.chat.whisper(bob.id, "hello, we met yesterday")
        assert hello.state is MessageState.QUEUED

    simulate(scenario)


def test_contacts_from_before_tickets_get_one_at_start_up_and_lose_it_when_removed() -> None:
    async def scenario(net: ChatNet) -> None:
        alice, bob, _carol = await net.ring("alice", "bob", "carol")
        await befriend(alice, bob)
        # As if they had become contacts before tickets existed.
        for me, peer in ((alice, bob), (bob, alice)):
            me.store.delete_setting(held_key(me.id, peer.id))
            me.store.delete_setting(issued_key(me.id, peer.id))
        await net.stop(alice)
        alice2 = await net.restart(alice, seed=bob)  # its start-up gives bob a ticket
        await net.until(
            lambda: bob.store.get_setting(held_key(bob.id, alice2.id)) is not None,
            "alice's ticket reaches bob",
        )
        assert alice2.chat.tickets.issued(bob.id)
        deposit = bob.chat.tickets.deposit_for(alice2.id)
        assert deposit.ticket is not None and deposit.ticket.account == alice2.account.key.public
        assert await bob.chat.contacts.issue_tickets() == 1  # bob's next round gives alice one
        assert await bob.chat.contacts.issue_tickets() == 0  # once
        # Removing a contact drops its tickets: bob's deposits for alice are unticketed again,
        bob.chat.contacts.remove(alice2.id)
        assert bob.chat.tickets.deposit_for(alice2.id).ticket is None
        assert not bob.chat.tickets.issued(alice2.id)
        # and the ticket bob gave alice is revoked at bob's mailbox holders.
        ticket = alice2.chat.tickets.deposit_for(bob.id)
        assert ticket.ticket is not None

        async def refused() -> bool:
            try:
                await alice2.dht.mailbox_put(bob.id, b"after removal", deposit=ticket)
            except StaleRecord:
                return True
            return False

        await net.until(refused, "the revocation reaches bob's holders")
        assert bob.chat.tickets.revoked() == [ticket.key.public]

    simulate(scenario)
