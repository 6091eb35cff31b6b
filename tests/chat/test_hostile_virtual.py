"""Hostile accounts against chat (issue 19, items 3 and 5), on virtual time (item 2, mailbox
flooding: tests/chat/test_mailbox_flood_virtual.py).

The attacker is an ordinary account whose client sends hand-made items with the project's own
code, as a modified client would.
"""

from __future__ import annotations

from ohtchat.chat.envelopes import ChatItem
from ohtchat.store import ContactState, MessageState
from tests.chat.virtual import ChatNet, simulate


def test_an_unsolicited_contact_accept_makes_nobody_a_contact() -> None:
    async def scenario(net: ChatNet) -> None:
        alice, bob, mallory = await net.ring("alice", "bob", "mallory", timers=False)
        # One whisper makes mallory a stranger at bob's; then a contact_accept bob never asked for.
        await mallory.chat.whisper(bob.id, "hi, remember me?")
        accept = ChatItem("contact_accept", "a" * 32, bob.id, mallory.chat.now(), "", {})
        assert await mallory.chat.send_item(bob.id, accept) is MessageState.DELIVERED
        assert bob.store.get_contact(mallory.id).state != ContactState.ACCEPTED
        # So bob's contactcast does not reach mallory; a real request/accept still works.
        await bob.chat.contacts.request(alice.id, "hello")
        await alice.chat.contacts.add(bob.id)
        await net.until(
            lambda: bob.store.get_contact(alice.id).state == ContactState.ACCEPTED, "the accept"
        )
        sent = await bob.chat.contacts.contactcast("news")
        assert [m.conversation for m in sent] == [alice.id]
        assert "news" not in mallory.texts(bob.id)

    simulate(scenario)


def test_a_known_message_id_cannot_pre_empt_the_real_message() -> None:
    async def scenario(net: ChatNet) -> None:
        alice, bob, mallory = await net.ring("alice", "bob", "mallory", timers=False)
        # Mallory learned the id of a message alice is about to send (channel fan-out and
        # ringcasts show ids) and sends bob its own item with that id first.
        known = "c" * 32
        decoy = ChatItem("whisper", known, bob.id, mallory.chat.now(), "decoy", {})
        assert await mallory.chat.send_item(bob.id, decoy) is MessageState.DELIVERED
        real = ChatItem("whisper", known, bob.id, alice.chat.now(), "the real one", {})
        assert await alice.chat.send_item(bob.id, real) is MessageState.DELIVERED
        assert bob.texts(alice.id) == ["the real one"]
        assert bob.texts(mallory.id) == ["decoy"]

    simulate(scenario)
