"""Account and node keys (ed25519) and the certificate binding a node key to an account.

* The **account key** is the user's long-term identity. Its id is SHA3-256 of its public key.
* The **node key** is the onion service key: its public key *is* the onion address, and the
  ring id of the node is derived from it (:func:`ohtchat.crypto.ids.node_id`).
* A :class:`NodeCertificate`, signed by the account key, says "this node key serves this
  account until ``expires``", so an onion address can be rotated and several devices can
  serve one account.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

import nacl.exceptions
import nacl.signing

from ohtchat.crypto.errors import BadCertificate, BadSignature
from ohtchat.crypto.ids import id_hex
from ohtchat.crypto.onion import add_onion_key_blob, onion_address

CERT_LABEL = b"ohtchat node certificate v1\x00"
CERT_LEN = 32 + 32 + 8 + 8 + 64
DEFAULT_CERT_LIFETIME = 365 * 24 * 3600


def verify_signature(pubkey: bytes, message: bytes, signature: bytes) -> None:
    """Check an ed25519 signature; raise :class:`BadSignature` if it does not verify."""
    if len(pubkey) != 32 or len(signature) != 64:
        raise BadSignature("malformed key or signature length")
    try:
        nacl.signing.VerifyKey(pubkey).verify(message, signature)
    except (nacl.exceptions.BadSignatureError, ValueError) as exc:
        raise BadSignature("signature does not verify") from exc


class SigningKey:
    """An ed25519 key pair (PyNaCl), created fresh or from a stored 32-byte seed."""

    def __init__(self, seed: bytes | None = None) -> None:
        self._sk = (
            nacl.signing.SigningKey(seed)
            if seed is not None
            else nacl.signing.SigningKey.generate()
        )
        self.public: bytes = bytes(self._sk.verify_key)

    @property
    def seed(self) -> bytes:
        """The 32-byte secret seed (store it encrypted)."""
        return bytes(self._sk)

    def sign(self, message: bytes) -> bytes:
        """A detached 64-byte signature of ``message``."""
        return self._sk.sign(message).signature

    def __repr__(self) -> str:
        return f"{type(self).__name__}(public={self.public.hex()[:16]}…)"


class AccountKey(SigningKey):
    """The user's long-term identity key."""

    @property
    def account_id(self) -> str:
        """The account id: hex SHA3-256 of the public key."""
        return account_id(self.public)

    def certify(
        self, node_public: bytes, now: int, lifetime: int = DEFAULT_CERT_LIFETIME
    ) -> NodeCertificate:
        """Sign a certificate binding ``node_public`` to this account from ``now`` on."""
        body = _cert_body(self.public, node_public, now, now + lifetime)
        return NodeCertificate(self.public, node_public, now, now + lifetime, self.sign(body))


class NodeKey(SigningKey):
    """The onion service key of one node (device) of an account."""

    @property
    def onion(self) -> str:
        """This node's v3 onion address."""
        return onion_address(self.public)

    @property
    def add_onion_blob(self) -> str:
        """The ``ED25519-V3:…`` key blob for tor's ADD_ONION."""
        return add_onion_key_blob(self.seed)


def account_id(account_public: bytes) -> str:
    """The account id of an account public key: hex SHA3-256 (64 digits)."""
    return id_hex(int.from_bytes(hashlib.sha3_256(account_public).digest(), "big"))


def _cert_body(account_pub: bytes, node_pub: bytes, issued: int, expires: int) -> bytes:
    return CERT_LABEL + account_pub + node_pub + struct.pack(">QQ", issued, expires)


@dataclass(frozen=True)
class NodeCertificate:
    """An account's signed statement that a node key serves it between two times."""

    account_public: bytes
    node_public: bytes
    issued: int
    expires: int
    signature: bytes

    def to_bytes(self) -> bytes:
        """Fixed 144-byte encoding: account ‖ node ‖ issued ‖ expires ‖ signature."""
        return (
            self.account_public
            + self.node_public
            + struct.pack(">QQ", self.issued, self.expires)
            + self.signature
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> NodeCertificate:
        """Parse the fixed encoding; raise :class:`BadCertificate` on a wrong length."""
        if not isinstance(data, bytes | bytearray) or len(data) != CERT_LEN:
            raise BadCertificate(f"certificate must be {CERT_LEN} bytes")
        data = bytes(data)
        issued, expires = struct.unpack(">QQ", data[64:80])
        return cls(data[:32], data[32:64], issued, expires, data[80:])

    @property
    def account_id(self) -> str:
        """The id of the certifying account."""
        return account_id(self.account_public)

    def verify(self, node_public: bytes, now: int) -> None:
        """Check the signature, that it names ``node_public`` and is valid at ``now``."""
        if self.node_public != node_public:
            raise BadCertificate("certificate names a different node key")
        if not self.issued <= now + 300:  # tolerate 5 minutes of clock skew
            raise BadCertificate("certificate is not valid yet")
        if now > self.expires:
            raise BadCertificate("certificate has expired")
        body = _cert_body(self.account_public, self.node_public, self.issued, self.expires)
        try:
            verify_signature(self.account_public, body, self.signature)
        except BadSignature as exc:
            raise BadCertificate("certificate signature does not verify") from exc
