"""Contacts: requests and acceptance, strangers who wrote to us, each contact's presence, and
the safety numbers the user verified (``/verify-contact``; a change is a loud warning).

Requests and acceptances carry a ticket for our mailbox (:mod:`ohtchat.chat.tickets`), so the
contact's offline items reach the mailbox's ticketed pool, which strangers cannot fill."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Callable

from ohtchat.api.bus import EventBus
from ohtchat.api.events import ContactEvent, LogEvent
from ohtchat.api.views import ContactView
from ohtchat.chat.accounts import LocalAccount, fingerprint
from ohtchat.chat.envelopes import ChatItem, new_msg_id
from ohtchat.chat.ports import (
    Lookup,
    MessageLog,
    Names,
    Now,
    Presences,
    Sender,
    TicketBook,
    Whisperer,
)
from ohtchat.chat.tickets import TICKET_FIELD, TICKET_KIND
from ohtchat.crypto.keys import account_id
from ohtchat.ratchet import safety_number
from ohtchat.store import Contact, ContactState, Message, MessageState, Store

#: The state of someone who wrote to us without being a contact.
STRANGER = "stranger"


def contact_fingerprint(c: Contact) -> str:
    """The out-of-band comparable fingerprint of a contact's account key ("" if unknown)."""
    return fingerprint(c.account_public) if c.account_public else ""


class Contacts:
    """The contact list of one account (implements :class:`~ohtchat.chat.ports.ContactItems`)."""

    def __init__(
        self,
        account: LocalAccount,
        store: Store,
        bus: EventBus,
        *,
        names: Names,
        lookup: Lookup,
        sender: Sender,
        messages: MessageLog,
        presences: Presences,
        whisperer: Whisperer,
        tickets: TicketBook,
        now: Now,
    ) -> None:
        self.account = account
        self.store = store
        self.bus = bus
        self.names = names
        self.lookup = lookup
        self.sender = sender
        self.messages = messages
        self.presences = presences
        self.whisperer = whisperer
        #: The tickets we give contacts for our mailbox and hold for theirs.
        self.tickets = tickets
        self.now = now
        self._safety: dict[bytes, str] = {}
        #: Told the account id of each contact that changed here (the sync to our devices).
        self.on_change: Callable[[str], None] | None = None

    def _changed(self, acct: str) -> None:
        if self.on_change is not None:
            self.on_change(acct)

    def safety_number(self, pub: bytes) -> str:
        """The safety number of our account and the account ``pub`` (docs/protocol.md §15.9),
        cached: it costs 2 × 5200 SHA-512."""
        if (number := self._safety.get(pub)) is None:
            number = self._safety[pub] = safety_number(self.account.key.public, pub)
        return number

    def verify(self, ref: str) -> Contact:
        """``/verify-contact ID``: mark a contact verified (the user compared the safety number
        with the contact's); the number is stored with the contact."""
        acct = self.names.resolve(ref)
        contact = self.store.get_contact(acct)
        if not contact.account_public:
            raise KeyError(acct)
        contact = dataclasses.replace(contact, verified=self.safety_number(contact.account_public))
        self.store.put_contact(contact)
        self.bus.publish(ContactEvent(acct, contact.name, contact.state))
        self._changed(acct)
        return contact

    def saw_key(self, pub: bytes) -> None:
        """Traffic from the account ``pub`` was authenticated: when its contact was verified
        under another safety number, warn loudly and mark it unverified (messages still come)."""
        acct = account_id(pub)
        try:
            contact = self.store.get_contact(acct)
        except KeyError:
            return
        if not contact.verified or contact.verified == self.safety_number(pub):
            return
        self.store.put_contact(dataclasses.replace(contact, verified=""))
        self.bus.publish(
            LogEvent(
                "warning",
                f"the safety number of verified contact {contact.name} ({acct[:12]}) changed: "
                "it is no longer verified; compare the new number before trusting it",
            )
        )
        self.bus.publish(ContactEvent(acct, contact.name, contact.state))
        self._changed(acct)

    def presence(self, acct_id: str) -> str:
        """``online``, ``away`` or ``offline`` from the last time we heard from the account."""
        return self.presences.presence(acct_id)

    def is_contact(self, acct_id: str) -> bool:
        """Whether ``acct_id`` is in the contact list (in any state, strangers included)."""
        try:
            self.store.get_contact(acct_id)
        except KeyError:
            return False
        return True

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
                fingerprint=contact_fingerprint(c),
                safety=self.safety_number(c.account_public) if c.account_public else "",
                verified=bool(c.verified),
            )
            for c in sorted(self.store.contacts(), key=lambda c: c.name.lower())
        )

    def _put(self, acct_id: str, pub: bytes, state: str, name: str | None = None) -> Contact:
        old: Contact | None = None
        with contextlib.suppress(KeyError):
            old = self.store.get_contact(acct_id)
        contact = Contact(
            acct_id,
            name or (old.name if old else self.names.name_of(acct_id)),
            state,
            contact_fingerprint(Contact(acct_id, "", "", "", 0, pub))
            if pub
            else (old.fingerprint if old else ""),
            old.added if old else self.now(),
            pub or (old.account_public if old else b""),
            old.onions if old else (),
            old.note if old else "",
            old.verified if old else "",
        )
        self.store.put_contact(contact)
        if pub and contact.verified:
            self.saw_key(pub)
        self.bus.publish(ContactEvent(acct_id, contact.name, state))
        self._changed(acct_id)
        return contact

    def remember_stranger(self, acct_id: str, pub: bytes) -> None:
        """Someone not in our contacts wrote to us: list them so the message can be seen."""
        self._put(acct_id, pub, STRANGER)

    def _item(self, kind: str, to: str, text: str) -> ChatItem:
        extra: dict[str, object] = {"name": self.account.name}
        if kind in ("contact_request", "contact_accept", TICKET_KIND):
            extra[TICKET_FIELD] = self.tickets.issue(to)
        return ChatItem(kind, new_msg_id(), to, self.now(), text, extra)

    async def issue_tickets(self) -> int:
        """Give every accepted contact we have not given one a ticket for our mailbox (contacts
        made before tickets existed); returns how many were sent (delivered or queued)."""
        sent = 0
        for c in self.store.contacts():
            if c.state != ContactState.ACCEPTED or self.tickets.issued(c.account_id):
                continue
            item = self._item(TICKET_KIND, c.account_id, "")
            # A failed send forgets the issue: the next round tries again.
            sent += await self._send(c.account_id, item) is not MessageState.FAILED
        return sent

    async def request(self, ref: str, text: str) -> tuple[Contact, MessageState]:
        """``/request ID MESSAGE``: ask an account to become a contact."""
        to = self.names.resolve(ref)
        presence = await self.lookup.lookup(to)
        contact = self._put(to, presence.account_pub, ContactState.PENDING, presence.name)
        item = self._item("contact_request", to, text)
        if not text:
            return contact, await self._send(to, item)
        # The request's text is the first message of the conversation: kept on this side too.
        msg = self.messages.store_sent(item)
        state = await self._send(to, item)
        return contact, self.messages.set_state(msg, state).state

    async def _send(self, to: str, item: ChatItem) -> MessageState:
        """Send a contact item; when it failed, the ticket it carried was not given."""
        state = await self.sender.send_item(to, item)
        if state is MessageState.FAILED and TICKET_FIELD in item.extra:
            self.tickets.unissue(to)
        return state

    async def add(self, ref: str) -> tuple[Contact, MessageState]:
        """``/add ID``: accept a request, or add and send a request of our own."""
        to = self.names.resolve(ref)
        old = None
        with contextlib.suppress(KeyError):
            old = self.store.get_contact(to)
        presence = await self.lookup.lookup(to)
        if old is not None and old.state in (ContactState.REQUESTED, STRANGER):
            contact = self._put(to, presence.account_pub, ContactState.ACCEPTED, presence.name)
            item = self._item("contact_accept", to, "")
            return contact, await self._send(to, item)
        if old is not None and old.state == ContactState.ACCEPTED:
            return old, MessageState.DELIVERED
        return await self.request(to, "")

    def remove(self, ref: str) -> Contact:
        """``/rm ID``: forget a contact (its messages stay in history)."""
        acct = self.names.resolve(ref)
        contact = self.store.get_contact(acct)
        self.store.delete_contact(acct)
        # The ticket we gave it is revoked at our mailbox's holders; we stop using the one it
        # gave us, and tickets are issued afresh if it becomes a contact again.
        self.tickets.forget(acct)
        self.bus.publish(ContactEvent(acct, contact.name, "removed"))
        self._changed(acct)
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
            self.tickets.accept(sender_pub, item.extra)
            if item.text:
                self.messages.store_received(sender, sender, item)
        elif (
            item.kind == "contact_accept" and old is not None and old.state == ContactState.PENDING
        ):
            # Only an answer to our own request: an unsolicited accept (from a stranger who
            # whispered once, or from anyone else) makes nobody a contact.
            self._put(sender, sender_pub, ContactState.ACCEPTED, name)
            self.tickets.accept(sender_pub, item.extra)
        elif item.kind == TICKET_KIND and old is not None and old.state != STRANGER:
            self.tickets.accept(sender_pub, item.extra)

    async def contactcast(self, text: str) -> list[Message]:
        """``/contactcast MESSAGE``: whisper to every accepted contact."""
        targets = [c.account_id for c in self.store.contacts() if c.state == ContactState.ACCEPTED]
        return list(await asyncio.gather(*(self.whisperer.whisper(t, text) for t in targets)))
