"""Mailbox items with their signed outer envelope, and the contact tickets that vouch for them.

Anyone may append to a mailbox, but every item (a *deposit*) is signed by a **deposit key** over
exact bytes that bind it to one mailbox, one sealed box and one expiry, so a holder can count
quotas per signer (see :mod:`ohtchat.dht.quota`) without learning who the sender is::

    sig = Sign_s("ohtchat mailbox deposit v1\\0" ‖ mailbox id ‖ item id ‖ u64be(expires) ‖ t)

with ``t`` one byte: 1 when the item carries a ticket, else 0. A **ticket** is the mailbox
owner's account signature over a ticket public key, given to a contact inside the end-to-end
channel; a deposit signed by that ticket key and carrying the ticket lands in the mailbox's
ticketed pool, which strangers cannot fill::

    ticket sig = Sign_A("ohtchat mailbox ticket v1\\0" ‖ mailbox id of A ‖ ticket public key)

The holder checks the ticket against the mailbox (``mailbox_of_key(A) == m``), so it learns
only that the deposit comes from *some* contact of the owner (always the same one per ticket).
See docs/protocol.md §10.2 and §10.4.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from typing import Any

from ohtchat.crypto.errors import BadSignature
from ohtchat.crypto.keys import SigningKey, verify_signature
from ohtchat.dht.config import MAX_ITEM
from ohtchat.dht.errors import BadRecord, ForgedRecord
from ohtchat.dht.record import _bytes, _map, _path, _u64, item_id, mailbox_of_key

#: Domain separator of the outer signature of a deposit.
DEPOSIT_LABEL = b"ohtchat mailbox deposit v1\x00"
#: Domain separator of a ticket (the mailbox owner vouching for a contact's deposit key).
TICKET_LABEL = b"ohtchat mailbox ticket v1\x00"
#: Domain separator of the deposit key a sender derives per recipient mailbox when it holds
#: no ticket (stable per sender and mailbox, unlinkable to the sender's account).
DERIVE_LABEL = b"ohtchat mailbox deposit key v1\x00"


def ticket_message(mailbox: bytes, ticket_public: bytes) -> bytes:
    """The exact bytes a ticket signature covers."""
    return TICKET_LABEL + mailbox + ticket_public


@dataclass(frozen=True, slots=True)
class Ticket:
    """The mailbox owner's signature over a contact's deposit key (the key is the item's
    signer, so it is not repeated here)."""

    #: The mailbox owner's 32-byte account public key.
    account: bytes
    #: ``Sign_account(TICKET_LABEL ‖ mailbox_of_key(account) ‖ ticket public key)``.
    signature: bytes

    @classmethod
    def issue(cls, account: SigningKey, ticket_public: bytes) -> Ticket:
        """A ticket for deposits into ``account``'s own mailbox signed by ``ticket_public``."""
        mbox = mailbox_of_key(account.public)
        return cls(account.public, account.sign(ticket_message(mbox, ticket_public)))

    def verify(self, mailbox: bytes, ticket_public: bytes) -> None:
        """:class:`ForgedRecord` unless the ticket is for ``mailbox`` and signed by its owner."""
        if mailbox_of_key(self.account) != mailbox:
            raise ForgedRecord("the ticket is for another mailbox")
        try:
            verify_signature(self.account, ticket_message(mailbox, ticket_public), self.signature)
        except BadSignature as exc:
            raise ForgedRecord("the ticket is not signed by the mailbox owner") from exc

    def to_wire(self) -> dict[str, Any]:
        """The ticket as a plain dict."""
        return {"a": self.account, "g": self.signature}

    @classmethod
    def from_wire(cls, obj: object, where: str = "") -> Ticket:
        """A ticket from a plain dict; :class:`BadRecord` naming the malformed field."""
        d = _map(obj, where)
        return cls(_bytes(d, "a", 32, 32, where), _bytes(d, "g", 64, 64, where))


@dataclass(frozen=True, slots=True)
class Deposit:
    """What a sender signs a deposit with: a ticket key and its ticket, or any key alone."""

    key: SigningKey
    ticket: Ticket | None = None

    @classmethod
    def derived(cls, account: SigningKey, mailbox: bytes) -> Deposit:
        """The unticketed deposit key of ``account`` for one mailbox: SHA3-256(DERIVE_LABEL ‖
        account seed ‖ mailbox) as an ed25519 seed. Stable, so the holder's per-key cap applies
        to this sender, and unlinkable to its account and across mailboxes."""
        seed = hashlib.sha3_256(DERIVE_LABEL + account.seed + mailbox).digest()
        return cls(SigningKey(seed))


@dataclass(frozen=True, slots=True)
class MailboxItem:
    """An opaque sealed box appended to a mailbox, in its signed outer envelope."""

    mailbox: bytes
    data: bytes
    expires: int
    #: The 32-byte ed25519 deposit key (a ticket key when ``ticket`` is set).
    signer: bytes
    signature: bytes
    ticket: Ticket | None = None

    @classmethod
    def create(cls, deposit: Deposit, mailbox: bytes, data: bytes, expires: int) -> MailboxItem:
        """An item signed with ``deposit``'s key (carrying its ticket, if any)."""
        unsigned = cls(mailbox, data, expires, deposit.key.public, b"", deposit.ticket)
        return cls(
            mailbox,
            data,
            expires,
            deposit.key.public,
            deposit.key.sign(unsigned.signed_bytes()),
            deposit.ticket,
        )

    def signed_bytes(self) -> bytes:
        """The exact bytes the outer signature covers (docs/protocol.md §10.2)."""
        flag = 1 if self.ticket is not None else 0
        return DEPOSIT_LABEL + self.mailbox + self.item_id + struct.pack(">QB", self.expires, flag)

    def verify(self) -> None:
        """:class:`ForgedRecord` unless the outer signature and the ticket (if any) verify."""
        try:
            verify_signature(self.signer, self.signed_bytes(), self.signature)
        except BadSignature as exc:
            raise ForgedRecord("the deposit signature does not verify") from exc
        if self.ticket is not None:
            self.ticket.verify(self.mailbox, self.signer)

    @property
    def ticketed(self) -> bool:
        """Whether the item claims the mailbox's ticketed pool."""
        return self.ticket is not None

    @property
    def item_id(self) -> bytes:
        """SHA3-256 of the item bytes."""
        return item_id(self.data)

    @property
    def size(self) -> int:
        """Bytes this item costs a holder (the box, the envelope, a fixed overhead)."""
        return len(self.data) + 32 + 32 + 16 + 32 + 64 + (96 if self.ticket else 0)

    def to_wire(self) -> dict[str, Any]:
        """The item as a plain dict (``t`` only when ticketed)."""
        wire: dict[str, Any] = {
            "m": self.mailbox,
            "i": self.data,
            "e": self.expires,
            "s": self.signer,
            "g": self.signature,
        }
        if self.ticket is not None:
            wire["t"] = self.ticket.to_wire()
        return wire

    @classmethod
    def from_wire(cls, obj: object, where: str = "") -> MailboxItem:
        """An item from a plain dict; :class:`BadRecord` naming the malformed field."""
        d = _map(obj, where)
        raw = d.get("t")
        if raw is not None and not isinstance(raw, dict):
            raise BadRecord(f"field {_path(where, 't')} must be a map (a ticket) or absent")
        ticket = None if raw is None else Ticket.from_wire(raw, f"{where}.t" if where else "t")
        return cls(
            _bytes(d, "m", 32, 32, where),
            _bytes(d, "i", 1, MAX_ITEM, where),
            _u64(d, "e", where),
            _bytes(d, "s", 32, 32, where),
            _bytes(d, "g", 64, 64, where),
            ticket,
        )
