"""Chat items between accounts: the direct RPC body and the sealed mailbox form.

Direct (``chat_deliver`` over an authenticated session; the session proves the sender)::

    {kind, msg_id (≤ 64 chars), to (account id), sent_at, text (≤ 8 KiB), extra (map)}

Offline (sealed to the recipient's KEM prekey and dropped in its DHT mailbox), no session
vouches for the sender, so the item is signed by the sender's account key. What is signed is the
exact byte string that travels (``b``, the msgpack encoding of the body as the sender made it),
never a re-encoding of a decoded map: msgpack has several encodings of one map (key order, int
widths, float vs int), so a receiver that re-encoded could disagree with a conforming sender::

    sealed plaintext = msgpack {v: 2, b: bin(item bytes), from: bin 32, sig: bin 64}
    sig = Sign_from("ohtchat mailbox item v2\0" ‖ item bytes)

The receiver verifies ``sig`` over ``b`` first and only then decodes ``b``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from ohtchat.crypto import kem
from ohtchat.crypto.errors import BadSignature, CryptoError
from ohtchat.crypto.keys import AccountKey, verify_signature
from ohtchat.wire.envelope import Fields, pack, unpack
from ohtchat.wire.errors import MalformedMessage

KINDS = (
    "whisper",
    "contact_request",
    "contact_accept",
    "contact_ticket",
    "channel_join",
    "channel_leave",
    "channel_msg",
    "channel_roster",
    "heartbeat",
    "receipt",
    "ratchet",
    "file_offer",
    "sync_sent",
    "sync_read",
    "sync_contact",
    "sync_channel",
    "devices_changed",
)
ITEM_LABEL = b"ohtchat mailbox item v2\x00"
#: Version of the sealed mailbox item format (the ``v`` field inside the box).
ITEM_VERSION = 2
SEAL_AAD = b"ohtchat mailbox"
MAX_TEXT = 8 * 1024
#: Largest encoded item a mailbox box may carry (text + extra + framing; the DHT caps the box).
MAX_ITEM_BYTES = 64 * 1024


def new_msg_id() -> str:
    """A fresh random message id (32 lowercase hex digits)."""
    return os.urandom(16).hex()


@dataclass(frozen=True)
class ChatItem:
    """One item from one account to another."""

    kind: str
    msg_id: str
    to: str
    sent_at: float
    text: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        """The RPC / mailbox body."""
        return {
            "kind": self.kind,
            "msg_id": self.msg_id,
            "to": self.to,
            "sent_at": self.sent_at,
            "text": self.text,
            "extra": self.extra,
        }

    @classmethod
    def from_fields(cls, f: Fields) -> ChatItem:
        """Validate an untrusted body."""
        kind = f.str_("kind", 32)
        if kind not in KINDS:
            raise MalformedMessage(f"{f.where}: field 'kind' is {kind!r}, not a known item kind")
        sent_at = f.data.get("sent_at")
        if not isinstance(sent_at, int | float) or isinstance(sent_at, bool):
            raise MalformedMessage(f"{f.where}: field 'sent_at' must be a number")
        return cls(
            kind,
            f.str_("msg_id", 64, 1),
            f.str_("to", 64, 64),
            float(sent_at),
            f.str_("text", MAX_TEXT),
            f.map_("extra").data,
        )


def seal_item(sender: AccountKey, recipient_kem_pub: bytes, item: ChatItem) -> bytes:
    """Sign the item's exact bytes and seal them for a recipient's mailbox."""
    item_bytes = pack(item.body())
    sig = sender.sign(ITEM_LABEL + item_bytes)
    inner = {"v": ITEM_VERSION, "b": item_bytes, "from": sender.public, "sig": sig}
    return kem.seal(recipient_kem_pub, pack(inner), SEAL_AAD)


def open_item(kem_secret: bytes, box: bytes) -> tuple[bytes, ChatItem]:
    """``(sender account public key, item)`` from a mailbox box; typed errors if forged.

    The signature is checked over the exact ``b`` bytes before they are decoded.
    """
    try:
        obj = unpack(kem.open_sealed(kem_secret, box, SEAL_AAD))
    except CryptoError as exc:
        raise MalformedMessage(f"mailbox item does not open: {exc}") from exc
    if not isinstance(obj, dict):
        raise MalformedMessage("mailbox item is not a map")
    f = Fields(obj, "mailbox item")
    version = f.int_("v")
    if version != ITEM_VERSION:
        raise MalformedMessage(f"mailbox item: field 'v' is {version}, expected {ITEM_VERSION}")
    sender = f.bytes_("from", 32)
    item_bytes = f.bytes_("b", max_len=MAX_ITEM_BYTES)
    try:
        verify_signature(sender, ITEM_LABEL + item_bytes, f.bytes_("sig", 64))
    except BadSignature as exc:
        raise MalformedMessage("mailbox item: field 'sig' does not verify") from exc
    body = unpack(item_bytes)
    if not isinstance(body, dict):
        raise MalformedMessage("mailbox item: field 'b' is not a msgpack map")
    return sender, ChatItem.from_fields(Fields(body, "mailbox item body"))
