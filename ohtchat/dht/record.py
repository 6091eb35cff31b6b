"""DHT records and mailbox deletion markers: signing and strict codecs (mailbox items and
their signed envelope: :mod:`ohtchat.dht.mailbox`).

Every value crossing the wire is a plain msgpack-able dict with short field names (see
``docs/protocol.md`` §10). Decoders check every type and size and raise :class:`BadRecord`; the
signature check is separate (:meth:`Record.verify`, :meth:`DeleteMarker.verify`) so a holder
can count forgeries apart from malformed input.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from typing import Any

import msgpack

from ohtchat.crypto.errors import BadSignature
from ohtchat.crypto.ids import parse_id
from ohtchat.crypto.keys import SigningKey, account_id, verify_signature
from ohtchat.dht.config import MAX_KEY
from ohtchat.dht.errors import BadRecord, ForgedRecord

#: Domain separator of key locations on the ring.
LOCATION_LABEL = b"ohtchat dht v1\x00"
#: Domain separator of record signatures.
RECORD_LABEL = b"ohtchat dht record v1\x00"
#: Domain separator of mailbox deletion signatures.
DELETE_LABEL = b"ohtchat dht mailbox delete v1\x00"
#: Prefix hashed with a recipient's account id into its mailbox id.
MAILBOX_PREFIX = b"mailbox"
#: Hard cap on any value a decoder accepts (holders apply their smaller configured limit).
HARD_MAX_VALUE = 192 * 1024
U64 = 1 << 64


def key_location(key: bytes) -> int:
    """The ring position of a DHT key: SHA3-256("ohtchat dht v1\\0" ‖ key) as an integer."""
    return int.from_bytes(hashlib.sha3_256(LOCATION_LABEL + key).digest(), "big")


def bound_account(key: bytes) -> str | None:
    """The account a key is bound to, or None: a key ending in ``:`` and an account id (64
    lowercase hex digits), such as ``presence:<id>`` or ``chanmember:<channel>:<id>``, can only
    be written by that account, so nobody can squat or shadow it."""
    _head, sep, tail = key.rpartition(b":")
    if sep and len(tail) == 64 and all(c in b"0123456789abcdef" for c in tail):
        return tail.decode()
    return None


def mailbox_id(recipient_account_id: str) -> bytes:
    """The 32-byte id (and ring position) of a mailbox: SHA3-256("mailbox" ‖ account id).

    The account id is the 32 raw bytes of SHA3-256 of the account public key.
    """
    try:
        raw = parse_id(recipient_account_id).to_bytes(32, "big")
    except (ValueError, AttributeError) as exc:
        raise BadRecord("recipient account id must be 64 hex digits") from exc
    return hashlib.sha3_256(MAILBOX_PREFIX + raw).digest()


def mailbox_of_key(account_public: bytes) -> bytes:
    """The mailbox id of the account holding ``account_public``."""
    return hashlib.sha3_256(MAILBOX_PREFIX + hashlib.sha3_256(account_public).digest()).digest()


def item_id(data: bytes) -> bytes:
    """The id of a mailbox item: SHA3-256 of its bytes."""
    return hashlib.sha3_256(data).digest()


def _path(where: str, name: str) -> str:
    """The quoted path of a field inside an entry (``'recs[2].k'``), for error texts."""
    return repr(f"{where}.{name}" if where else name)


def _bytes(obj: dict[str, Any], name: str, lo: int, hi: int, where: str = "") -> bytes:
    v = obj.get(name)
    if not isinstance(v, bytes | bytearray) or not lo <= len(v) <= hi:
        size = f"{lo} bytes" if lo == hi else f"{lo}..{hi} bytes"
        raise BadRecord(f"field {_path(where, name)} must be {size} (bin)")
    return bytes(v)


def _u64(obj: dict[str, Any], name: str, where: str = "") -> int:
    v = obj.get(name)
    if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v < U64:
        raise BadRecord(f"field {_path(where, name)} must be an unsigned 64-bit integer")
    return v


def _map(obj: object, where: str = "") -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise BadRecord(f"field {where!r} must be a map" if where else "expected a map")
    return obj


@dataclass(frozen=True, slots=True)
class Record:
    """A signed DHT record; a tombstone (empty value) deletes the key for its owner."""

    key: bytes
    value: bytes
    #: The owner's 32-byte ed25519 account public key.
    owner: bytes
    seq: int
    #: Unix seconds after which holders drop the record.
    expires: int
    tombstone: bool
    signature: bytes

    @classmethod
    def create(
        cls,
        account: SigningKey,
        key: bytes,
        value: bytes,
        seq: int,
        expires: int,
        tombstone: bool = False,
    ) -> Record:
        """A record signed by ``account``."""
        unsigned = cls(
            key, b"" if tombstone else value, account.public, seq, expires, tombstone, b""
        )
        unsigned.check_shape()
        return cls(
            unsigned.key,
            unsigned.value,
            unsigned.owner,
            seq,
            expires,
            tombstone,
            account.sign(unsigned.body()),
        )

    def body(self) -> bytes:
        """The canonical signed encoding (see docs/protocol.md §10.2)."""
        return b"".join(
            (
                RECORD_LABEL,
                struct.pack(">H", len(self.key)),
                self.key,
                struct.pack(">I", len(self.value)),
                self.value,
                self.owner,
                struct.pack(">QQB", self.seq, self.expires, 1 if self.tombstone else 0),
            )
        )

    def check_shape(self) -> None:
        """:class:`BadRecord` unless every field has the right type and size."""
        Record.from_wire(self.to_wire(), check_sig_len=False)

    def verify(self) -> None:
        """:class:`ForgedRecord` unless the owner's signature verifies and, for a key bound
        to an account (:func:`bound_account`), the owner is that account."""
        try:
            verify_signature(self.owner, self.body(), self.signature)
        except BadSignature as exc:
            raise ForgedRecord("record signature does not verify") from exc
        bound = bound_account(self.key)
        if bound is not None and account_id(self.owner) != bound:
            raise ForgedRecord("the key belongs to another account")

    @property
    def location(self) -> int:
        """The key's position on the ring."""
        return key_location(self.key)

    @property
    def size(self) -> int:
        """Bytes this record costs a holder (fields plus a fixed overhead)."""
        return len(self.key) + len(self.value) + 32 + 64 + 32

    def to_wire(self) -> dict[str, Any]:
        """The record as a plain dict."""
        return {
            "k": self.key,
            "v": self.value,
            "o": self.owner,
            "s": self.seq,
            "e": self.expires,
            "t": self.tombstone,
            "g": self.signature,
        }

    @classmethod
    def from_wire(cls, obj: object, *, check_sig_len: bool = True, where: str = "") -> Record:
        """A record from a plain dict; :class:`BadRecord` naming the malformed field.

        ``where`` is the record's own place in a message (``"recs[2]"``), for error texts.
        """
        d = _map(obj, where)
        tomb = d.get("t")
        if not isinstance(tomb, bool):
            raise BadRecord(f"field {_path(where, 't')} must be a boolean")
        value = _bytes(d, "v", 0, HARD_MAX_VALUE, where)
        if tomb and value:
            raise BadRecord(f"field {_path(where, 'v')} must be empty in a tombstone")
        sig = _bytes(d, "g", 64 if check_sig_len else 0, 64, where)
        return cls(
            _bytes(d, "k", 1, MAX_KEY, where),
            value,
            _bytes(d, "o", 32, 32, where),
            _u64(d, "s", where),
            _u64(d, "e", where),
            tomb,
            sig,
        )

    def to_bytes(self) -> bytes:
        """Serialized for a :class:`~ohtchat.dht.replicas.ReplicaStore` (msgpack)."""
        return bytes(msgpack.packb(self.to_wire(), use_bin_type=True))


@dataclass(frozen=True, slots=True)
class DeleteMarker:
    """The recipient's signed statement that an item of its mailbox is deleted.

    Holders keep markers (until ``expires``) so that a replica that missed the deletion
    cannot bring the item back during re-replication.
    """

    mailbox: bytes
    item_id: bytes
    #: The recipient's account public key; its mailbox id must equal ``mailbox``.
    account: bytes
    signature: bytes
    #: Unix seconds; not signed, holders bound it by their mailbox TTL.
    expires: int

    @classmethod
    def create(cls, account: SigningKey, item: bytes, expires: int) -> DeleteMarker:
        """A marker deleting item ``item`` (an item id) from ``account``'s own mailbox."""
        mbox = mailbox_of_key(account.public)
        return cls(mbox, item, account.public, account.sign(DELETE_LABEL + mbox + item), expires)

    def verify(self) -> None:
        """:class:`ForgedRecord` unless the mailbox is the signer's and the signature verifies."""
        if mailbox_of_key(self.account) != self.mailbox:
            raise ForgedRecord("deletion signed by someone other than the mailbox owner")
        try:
            verify_signature(
                self.account, DELETE_LABEL + self.mailbox + self.item_id, self.signature
            )
        except BadSignature as exc:
            raise ForgedRecord("deletion signature does not verify") from exc

    @property
    def size(self) -> int:
        """Bytes this marker costs a holder."""
        return 32 + 32 + 32 + 64 + 16

    def to_wire(self) -> dict[str, Any]:
        """The marker as a plain dict."""
        return {
            "m": self.mailbox,
            "d": self.item_id,
            "p": self.account,
            "g": self.signature,
            "e": self.expires,
        }

    @classmethod
    def from_wire(cls, obj: object, where: str = "") -> DeleteMarker:
        """A marker from a plain dict; :class:`BadRecord` naming the malformed field."""
        d = _map(obj, where)
        return cls(
            _bytes(d, "m", 32, 32, where),
            _bytes(d, "d", 32, 32, where),
            _bytes(d, "p", 32, 32, where),
            _bytes(d, "g", 64, 64, where),
            _u64(d, "e", where),
        )


def pack(obj: dict[str, Any]) -> bytes:
    """msgpack, as stored in a replica store."""
    return bytes(msgpack.packb(obj, use_bin_type=True))


def unpack(data: bytes) -> object:
    """Inverse of :func:`pack`; :class:`BadRecord` on undecodable bytes."""
    try:
        return msgpack.unpackb(data, raw=False)
    except (ValueError, TypeError) as exc:  # msgpack's errors subclass ValueError
        raise BadRecord("undecodable stored entry") from exc
