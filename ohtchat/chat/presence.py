"""Presence records: where an account can be reached, and its signed KEM prekey.

Each account publishes, in the DHT under ``presence:<account id>``, a record owned (signed) by
its account key::

    {v: 1, name, account_pub, cert (node certificate, 144 B), onion, addr (transport address),
     kem_pub (hybrid KEM public key), kem_sig (account signature over the prekey), ts}

A reader checks that the DHT record's owner key is ``account_pub``, that ``account_pub`` hashes
to the account id it asked for, that the certificate binds ``onion``'s key to that account, and
that the prekey is signed by the account. Handles (``handle:<SHA3(name)>`` → account id) are
first-come records owned by the account that claimed them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Protocol

from ohtchat.crypto import kem
from ohtchat.crypto.errors import BadCertificate, BadSignature, CryptoError
from ohtchat.crypto.keys import NodeCertificate, account_id, verify_signature
from ohtchat.crypto.onion import onion_address
from ohtchat.wire.envelope import pack, unpack
from ohtchat.wire.errors import MalformedMessage

PREKEY_LABEL = b"ohtchat kem prekey v1\x00"
PRESENCE_TTL = 6 * 3600


class PresenceError(Exception):
    """No valid presence record for an account."""


class DhtRecord(Protocol):
    """What the chat layer needs of a DHT record."""

    value: bytes
    owner: bytes


class DhtApi(Protocol):
    """The DHT operations the chat layer uses (``ohtchat.dht`` provides them)."""

    async def put(self, key: str | bytes, value: bytes, ttl: int | None = None) -> Any:
        """Store a record owned by our account."""
        ...

    async def get(self, key: bytes) -> Any:
        """The newest valid record under ``key``, or ``None``."""
        ...

    async def mailbox_put(
        self,
        recipient_account_id: str,
        item: bytes,
        ttl: int | None = None,
        deposit: Any = None,
    ) -> Any:
        """Append a sealed item to an account's mailbox, signed with ``deposit`` (a ticket,
        or by default our derived deposit key for that mailbox)."""
        ...

    async def mailbox_fetch(self, recipient_account_id: str) -> list[tuple[bytes, bytes]]:
        """``(item id, item)`` pairs waiting in an account's mailbox."""
        ...

    async def mailbox_delete(self, account: Any, item_ids: list[bytes]) -> Any:
        """Delete items from our own mailbox (signed by our account key)."""
        ...


def presence_key(acct_id: str) -> bytes:
    """The DHT key of an account's presence record."""
    return b"presence:" + acct_id.encode()


def handle_key(handle: str) -> bytes:
    """The DHT key of a handle (a user-chosen name, case-insensitive)."""
    return b"handle:" + hashlib.sha3_256(handle.strip().lower().encode()).digest()


@dataclass(frozen=True)
class Presence:
    """A verified presence record."""

    account_id: str
    account_pub: bytes
    name: str
    onion: str
    address: str
    kem_pub: bytes
    ts: float
    #: The account's signature over ``kem_pub`` (the prekey bundle's, docs/protocol.md §15.3).
    kem_sig: bytes = b""
    #: The device's node public key (from the certificate): which device of the account this
    #: record is for (docs/devices.md).
    node_public: bytes = b""

    def to_value(self, cert: bytes, kem_sig: bytes) -> bytes:
        """The DHT value for this presence (with the certificate and prekey signature)."""
        return pack(
            {
                "v": 1,
                "name": self.name,
                "account_pub": self.account_pub,
                "cert": cert,
                "onion": self.onion,
                "addr": self.address,
                "kem_pub": self.kem_pub,
                "kem_sig": kem_sig,
                "ts": self.ts,
            }
        )


def sign_prekey(sign: Any, kem_pub: bytes) -> bytes:
    """The account's signature over its KEM prekey (``sign`` is ``AccountKey.sign``)."""
    sig: bytes = sign(PREKEY_LABEL + kem_pub)
    return sig


#: The presence value's fields and their msgpack types (``ts``: int or float).
_PRESENCE_FIELDS: dict[str, tuple[type, ...]] = {
    "name": (str,),
    "account_pub": (bytes,),
    "cert": (bytes,),
    "onion": (str,),
    "addr": (str,),
    "kem_pub": (bytes,),
    "kem_sig": (bytes,),
    "ts": (int, float),
}


def _presence_fields(value: bytes) -> dict[str, Any]:
    """The decoded presence map with every field present and of its type (errors name it)."""
    try:
        obj = unpack(value)
    except MalformedMessage as exc:
        raise PresenceError("presence record is not msgpack") from exc
    if not isinstance(obj, dict):
        raise PresenceError("presence record is not a map")
    if obj.get("v") != 1 or type(obj.get("v")) is not int:
        raise PresenceError("presence field 'v' must be 1")
    for name, types in _PRESENCE_FIELDS.items():
        if name not in obj:
            raise PresenceError(f"presence record lacks field {name!r}")
        v = obj[name]
        if isinstance(v, bool) or not isinstance(v, types):
            kinds = " or ".join(t.__name__ for t in types)
            raise PresenceError(f"presence field {name!r} must be {kinds}")
    return obj


def parse_presence(acct_id: str, owner: bytes, value: bytes, now: float) -> Presence:
    """Verify and decode a presence record fetched for ``acct_id``."""
    obj = _presence_fields(value)
    pub, cert_raw, kem_pub, onion = obj["account_pub"], obj["cert"], obj["kem_pub"], obj["onion"]
    if owner != pub or account_id(pub) != acct_id:
        raise PresenceError(
            "presence field 'account_pub' is not the record's owner or the account asked for"
        )
    try:
        cert = NodeCertificate.from_bytes(cert_raw)
        if cert.account_public != pub or onion_address(cert.node_public) != onion:
            raise PresenceError("presence field 'cert' does not bind 'onion' to 'account_pub'")
        cert.verify(cert.node_public, int(now))
    except BadCertificate as exc:
        raise PresenceError(f"presence field 'cert' does not verify: {exc}") from exc
    try:
        verify_signature(pub, PREKEY_LABEL + kem_pub, obj["kem_sig"])
    except BadSignature as exc:
        raise PresenceError("presence field 'kem_sig' does not verify over 'kem_pub'") from exc
    try:
        kem.check_public_key(kem_pub)
    except CryptoError as exc:
        raise PresenceError(f"presence field 'kem_pub': {exc}") from exc
    return Presence(
        acct_id,
        pub,
        obj["name"][:64],
        onion,
        obj["addr"][:255],
        kem_pub,
        float(obj["ts"]),
        obj["kem_sig"],
        cert.node_public,
    )
