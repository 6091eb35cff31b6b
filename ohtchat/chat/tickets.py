"""Contact tickets: what lets a contact's offline items into the protected part of our mailbox.

A mailbox holder keeps most of a mailbox (the ticketed pool) for deposits that carry a ticket of
the mailbox owner (docs/protocol.md §10.2, :mod:`ohtchat.dht.mailbox`). When two accounts become
contacts each gives the other a ticket, end to end inside the ratchet: in the ``ticket`` extra
field of ``contact_request`` and ``contact_accept`` items, and in a ``contact_ticket`` item for
contacts made before tickets existed (sent at start-up to every accepted contact we have not
issued one to)::

    extra.ticket = {k: bin 32 (the ticket key's ed25519 seed), g: bin 64 (our ticket signature)}

The issuer generates a fresh key pair per contact, so the holders only ever see a pseudonym.
Removing a contact **revokes** the ticket we gave it: a deletion marker for our mailbox whose
``d`` is the ticket key (docs/protocol.md §10.4) makes the holders drop its items and refuse
its deposits; the chat service re-sends the revocations every round, so they outlive the
markers' 7-day lifetime. Kept in the encrypted store: ``ticket.<our id>.<peer id>`` = msgpack
``{k, a, g}`` (the ticket the peer gave us for its mailbox), ``ticket-issued.<our id>.<peer id>``
= the public key of the ticket we gave the peer, ``ticket-revoked.<our id>`` = the revoked
ticket keys (32 bytes each, oldest first, at most :data:`MAX_REVOKED`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from ohtchat.chat.accounts import LocalAccount
from ohtchat.crypto.keys import SigningKey, account_id
from ohtchat.dht.errors import ForgedRecord
from ohtchat.dht.mailbox import Deposit, Ticket
from ohtchat.dht.record import mailbox_id, mailbox_of_key
from ohtchat.store import Store
from ohtchat.wire.envelope import Fields, pack, unpack
from ohtchat.wire.errors import MalformedMessage

log = logging.getLogger(__name__)

#: The item kind that carries a ticket alone (inside the ratchet).
TICKET_KIND = "contact_ticket"
#: The extra field of contact items that carries a ticket.
TICKET_FIELD = "ticket"
#: How many revoked ticket keys are remembered (and re-sent); the oldest go first.
MAX_REVOKED = 256


def held_key(own: str, peer: str) -> str:
    """The store setting holding the ticket ``peer`` gave our account ``own``."""
    return f"ticket.{own}.{peer}"


def revoked_key(own: str) -> str:
    """The store setting holding the ticket keys ``own`` revoked."""
    return f"ticket-revoked.{own}"


def issued_key(own: str, peer: str) -> str:
    """The store setting holding the public key of the ticket ``own`` gave ``peer``."""
    return f"ticket-issued.{own}.{peer}"


class Tickets:
    """The tickets one account issued to its contacts and holds from them."""

    def __init__(
        self,
        account: LocalAccount,
        store: Store,
        revoke: Callable[[list[bytes]], None] | None = None,
    ) -> None:
        self.account = account
        self.store = store
        self.me = account.account_id
        #: Sends revocations of ticket keys to our mailbox's holders (in the background).
        self.revoke = revoke

    def issue(self, peer: str) -> dict[str, Any]:
        """A fresh ticket for ``peer`` (the ``ticket`` extra field); remembered as issued."""
        key = SigningKey()
        ticket = Ticket.issue(self.account.key, key.public)
        self.store.set_setting(issued_key(self.me, peer), key.public)
        return {"k": key.seed, "g": ticket.signature}

    def issued(self, peer: str) -> bool:
        """Whether we gave ``peer`` a ticket."""
        return self.store.get_setting(issued_key(self.me, peer)) is not None

    def unissue(self, peer: str) -> None:
        """Forget that we gave ``peer`` a ticket (the item carrying it was not sent)."""
        self.store.delete_setting(issued_key(self.me, peer))

    def accept(self, sender_pub: bytes, extra: dict[str, Any]) -> bool:
        """Keep the ticket the account ``sender_pub`` gave us in ``extra`` (if any, and valid
        for its mailbox); True when one was kept. A bad ticket is dropped and logged."""
        raw = extra.get(TICKET_FIELD)
        if raw is None:
            return False
        try:
            if not isinstance(raw, dict):
                raise MalformedMessage("contact item: field 'extra.ticket' must be a map")
            f = Fields(raw, "contact item extra.ticket")
            seed, sig = f.bytes_("k", 32), f.bytes_("g", 64)
            Ticket(sender_pub, sig).verify(mailbox_of_key(sender_pub), SigningKey(seed).public)
        except (MalformedMessage, ForgedRecord) as exc:
            log.info("dropping a bad ticket from %s: %s", account_id(sender_pub)[:12], exc)
            return False
        blob = pack({"k": seed, "a": sender_pub, "g": sig})
        self.store.set_setting(held_key(self.me, account_id(sender_pub)), blob)
        return True

    def deposit_for(self, to: str) -> Deposit:
        """How to sign a deposit into ``to``'s mailbox: its ticket when we hold one, else our
        derived (unticketed) deposit key for that mailbox."""
        blob = self.store.get_setting(held_key(self.me, to))
        if isinstance(blob, bytes):
            try:
                obj = unpack(blob)
                if not isinstance(obj, dict):
                    raise MalformedMessage("stored ticket is not a map")
                f = Fields(obj, "stored ticket")
                account = f.bytes_("a", 32)
                if account_id(account) == to:
                    return Deposit(
                        SigningKey(f.bytes_("k", 32)), Ticket(account, f.bytes_("g", 64))
                    )
            except MalformedMessage as exc:
                log.warning("ignoring an unreadable stored ticket: %s", exc)
        return Deposit.derived(self.account.key, mailbox_id(to))

    def forget(self, peer: str) -> None:
        """Drop both tickets of ``peer`` (it is no longer a contact) and revoke the one we gave
        it."""
        issued = self.store.get_setting(issued_key(self.me, peer))
        self.store.delete_setting(held_key(self.me, peer))
        self.store.delete_setting(issued_key(self.me, peer))
        if isinstance(issued, bytes) and len(issued) == 32:
            older = [k for k in self.revoked() if k != issued][-(MAX_REVOKED - 1) :]
            keys = [*older, issued]
            self.store.set_setting(revoked_key(self.me), b"".join(keys))
            if self.revoke is not None:
                self.revoke([issued])

    def revoked(self) -> list[bytes]:
        """The ticket keys we revoked, oldest first."""
        blob = self.store.get_setting(revoked_key(self.me))
        if not isinstance(blob, bytes):
            return []
        return [blob[i : i + 32] for i in range(0, len(blob) - len(blob) % 32, 32)]
