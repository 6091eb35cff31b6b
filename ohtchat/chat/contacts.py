"""Contacts: requests and acceptance, heartbeats, presence (online / away / offline)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from ohtchat.api.events import ContactEvent, PresenceEvent
from ohtchat.api.views import ContactView
from ohtchat.chat.envelopes import ChatItem, new_msg_id
from ohtchat.store import Contact, ContactState, Message, MessageState, Store

if TYPE_CHECKING:
    from ohtchat.chat.service import ChatService

STRANGER = "stranger"
#: A contact not heard from for this many heartbeat intervals is offline (no stale "online").
OFFLINE_AFTER = 3


class Contacts:
    """Contact management for a :class:`~ohtchat.chat.service.ChatService`."""

    def __init__(self, chat: ChatService) -> None:
        self.chat = chat

    @property
    def store(self) -> Store:
        """The chat service's store."""
        return self.chat.store

    def presence(self, acct_id: str) -> str:
        """``online``, ``away`` or ``offline`` from the last heartbeat heard."""
        seen = self.chat.last_seen.get(acct_id)
        if seen is None:
            return "offline"
        at, status = seen
        if self.chat.now() - at > OFFLINE_AFTER * self.chat.heartbeat_interval:
            return "offline"
        return "away" if status == "away" else "online"

    def listing(self) -> tuple[ContactView, ...]:
        """Every contact, sorted by name, with presence and unread count."""
        unread = self.store.unread_counts()
        return tuple(
            ContactView(
                account_id=c.account_id,
                name=c.name,
                state=c.state,
                presence=self.presence(c.account_id),
                unread=unread.get(c.account_id, 0),
                fingerprint=self.chat.contact_fingerprint(c),
            )
            for c in sorted(self.store.contacts(), key=lambda c: c.name.lower())
        )

    def _put(self, acct_id: str, pub: bytes, state: str, name: str | None = None) -> Contact:
        old: Contact | None = None
        with contextlib.suppress(KeyError):
            old = self.store.get_contact(acct_id)
        contact = Contact(
            acct_id,
            name or (old.name if old else self.chat.name_of(acct_id)),
            state,
            self.chat.contact_fingerprint(Contact(acct_id, "", "", "", 0, pub))
            if pub
            else (old.fingerprint if old else ""),
            old.added if old else self.chat.now(),
            pub or (old.account_public if old else b""),
        )
        self.store.put_contact(contact)
        self.chat.bus.publish(ContactEvent(acct_id, contact.name, state))
        return contact

    def remember_stranger(self, acct_id: str, pub: bytes) -> None:
        """Someone not in our contacts wrote to us: list them so the message can be seen."""
        self._put(acct_id, pub, STRANGER)

    async def request(self, ref: str, text: str) -> tuple[Contact, MessageState]:
        """``/request ID MESSAGE``: ask an account to become a contact."""
        to = self.chat.resolve(ref)
        presence = await self.chat.lookup(to)
        contact = self._put(to, presence.account_pub, ContactState.PENDING, presence.name)
        item = ChatItem(
            "contact_request",
            new_msg_id(),
            to,
            self.chat.now(),
            text,
            {"name": self.chat.account.name},
        )
        if not text:
            return contact, await self.chat.send_item(to, item)
        # The request's text is the first message of the conversation: kept on this side too.
        msg = self.chat.store_sent(item)
        state = await self.chat.send_item(to, item)
        return contact, self.chat.set_state(msg, state).state

    async def add(self, ref: str) -> tuple[Contact, MessageState]:
        """``/add ID``: accept a request, or add and send a request of our own."""
        to = self.chat.resolve(ref)
        old = None
        with contextlib.suppress(KeyError):
            old = self.store.get_contact(to)
        presence = await self.chat.lookup(to)
        if old is not None and old.state in (ContactState.REQUESTED, STRANGER):
            contact = self._put(to, presence.account_pub, ContactState.ACCEPTED, presence.name)
            item = ChatItem(
                "contact_accept",
                new_msg_id(),
                to,
                self.chat.now(),
                "",
                {"name": self.chat.account.name},
            )
            return contact, await self.chat.send_item(to, item)
        if old is not None and old.state == ContactState.ACCEPTED:
            return old, MessageState.DELIVERED
        return await self.request(to, "")

    def remove(self, ref: str) -> Contact:
        """``/rm ID``: forget a contact (its messages stay in history)."""
        acct = self.chat.resolve(ref)
        contact = self.store.get_contact(acct)
        self.store.delete_contact(acct)
        self.chat.bus.publish(ContactEvent(acct, contact.name, "removed"))
        return contact

    def on_item(self, sender: str, sender_pub: bytes, item: ChatItem) -> None:
        """A contact request or acceptance arrived."""
        name = str(item.extra.get("name", ""))[:64] or None
        old = None
        with contextlib.suppress(KeyError):
            old = self.store.get_contact(sender)
        if item.kind == "contact_request":
            state = (
                ContactState.ACCEPTED
                if old and old.state == ContactState.ACCEPTED
                else ContactState.REQUESTED
            )
            self._put(sender, sender_pub, state, name)
            if item.text:
                self.chat.store_received(sender, sender, item)
        elif item.kind == "contact_accept" and old is not None:
            self._put(sender, sender_pub, ContactState.ACCEPTED, name)

    async def contactcast(self, text: str) -> list[Message]:
        """``/contactcast MESSAGE``: whisper to every accepted contact."""
        targets = [c.account_id for c in self.store.contacts() if c.state == ContactState.ACCEPTED]
        return list(await asyncio.gather(*(self.chat.whisper(t, text) for t in targets)))

    async def heartbeat_loop(self) -> None:
        """Send heartbeats every ``heartbeat_interval`` seconds."""
        while True:
            await self.send_heartbeats()
            await asyncio.sleep(self.chat.heartbeat_interval)

    async def presence_loop(self) -> None:
        """Age silent contacts out to offline: a contact last heard at ``t`` is shown offline
        by ``t + (OFFLINE_AFTER + 0.5) × heartbeat_interval``, however slow heartbeats are."""
        while True:
            self.refresh_presence()
            await asyncio.sleep(self.chat.heartbeat_interval / 2)

    async def send_heartbeats(self) -> None:
        """One heartbeat to each accepted contact that is reachable (never via the mailbox)."""
        accepted = [c for c in self.store.contacts() if c.state == ContactState.ACCEPTED]
        await asyncio.gather(*(self._heartbeat(c.account_id) for c in accepted))

    async def _heartbeat(self, acct_id: str) -> None:
        """One heartbeat; the contact's node answering shows it is there."""
        item = ChatItem(
            "heartbeat", new_msg_id(), acct_id, self.chat.now(), "", {"status": self.chat.status}
        )
        with contextlib.suppress(Exception):
            presence = await self.chat.lookup(acct_id)
            await self.chat.pool.request(
                presence.address, presence.onion, "chat_deliver", item.body(), 10.0
            )
            self.answered(acct_id)

    def answered(self, acct_id: str) -> None:
        """``acct_id``'s node answered a ``chat_deliver``: it is there (status unchanged)."""
        _, status = self.chat.last_seen.get(acct_id, (0.0, "online"))
        self.chat.last_seen[acct_id] = (self.chat.now(), status)
        self.refresh_presence()

    def refresh_presence(self) -> None:
        """Publish ``presence`` events for contacts whose presence changed."""
        for c in self.store.contacts():
            now = self.presence(c.account_id)
            if self.chat._presence_shown.get(c.account_id) != now:
                self.chat._presence_shown[c.account_id] = now
                self.chat.bus.publish(PresenceEvent(c.account_id, c.name, now))
