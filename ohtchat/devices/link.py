"""One-time link codes, the new device's proof of the code, and the verification string.

The primary device shows ``ohtchat-link:`` + base32 (lowercase, no padding) of
``onion public key (32 B) ‖ secret (16 B) ‖ checksum (2 B)``, checksum = the first two bytes of
SHA3-256("ohtchat link code v1\\0" ‖ key ‖ secret), so a mistyped code is caught before any
dial. The new device dials that onion and proves it holds the code on *this* session: the
proof is an HMAC under the secret over the handshake's session binding and the device's node
key, so neither a replay on another session nor a swap of the node key passes. Both screens
then show a 6-digit verification string derived from the secret and the same binding.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from dataclasses import dataclass, field

from ohtchat.devices.errors import DeviceError, LinkRefused

CODE_PREFIX = "ohtchat-link:"
CHECKSUM_LABEL = b"ohtchat link code v1\x00"
PROOF_LABEL = b"ohtchat link proof v1\x00"
SAS_LABEL = b"ohtchat link sas v1\x00"
SECRET_LEN = 16
#: Seconds a link code stays valid.
LINK_TTL = 600.0
#: Bad proofs after which a code is void.
MAX_ATTEMPTS = 3


def _checksum(key: bytes, secret: bytes) -> bytes:
    return hashlib.sha3_256(CHECKSUM_LABEL + key + secret).digest()[:2]


@dataclass(frozen=True)
class LinkCode:
    """What a link code carries: where to dial (the primary's onion key) and the secret."""

    onion_public: bytes
    secret: bytes

    @classmethod
    def new(cls, onion_public: bytes) -> LinkCode:
        """A fresh code for the primary whose onion key is ``onion_public``."""
        return cls(onion_public, os.urandom(SECRET_LEN))

    def __str__(self) -> str:
        raw = self.onion_public + self.secret + _checksum(self.onion_public, self.secret)
        return CODE_PREFIX + base64.b32encode(raw).decode().rstrip("=").lower()

    @classmethod
    def parse(cls, text: str) -> LinkCode:
        """Decode a code as typed or pasted (case and surrounding space ignored)."""
        text = text.strip()
        if not text.lower().startswith(CODE_PREFIX):
            raise DeviceError(f"a link code starts with {CODE_PREFIX!r}")
        body = text[len(CODE_PREFIX) :].upper()
        try:
            raw = base64.b32decode(body + "=" * (-len(body) % 8))
        except (binascii.Error, ValueError) as exc:
            raise DeviceError("the link code is not valid base32") from exc
        if len(raw) != 32 + SECRET_LEN + 2:
            raise DeviceError("the link code has the wrong length")
        key, secret, check = raw[:32], raw[32:-2], raw[-2:]
        if not hmac.compare_digest(check, _checksum(key, secret)):
            raise DeviceError("the link code's checksum does not match (mistyped?)")
        return cls(key, secret)


def link_proof(secret: bytes, binding: bytes, node_public: bytes) -> bytes:
    """HMAC-SHA3-256(secret, label ‖ session binding ‖ the new device's node public key)."""
    return hmac.new(secret, PROOF_LABEL + binding + node_public, hashlib.sha3_256).digest()


def verification_string(secret: bytes, binding: bytes) -> str:
    """Six decimal digits both screens show: HMAC-SHA3-256(secret, label ‖ binding), its
    first 4 bytes as a big-endian integer modulo 10⁶, zero-padded, split 3 + 3."""
    mac = hmac.new(secret, SAS_LABEL + binding, hashlib.sha3_256).digest()
    digits = f"{int.from_bytes(mac[:4], 'big') % 1_000_000:06d}"
    return f"{digits[:3]} {digits[3:]}"


@dataclass
class PendingLink:
    """The primary's side of one code: single use, expiring, voided by repeated bad proofs."""

    code: LinkCode
    created: float
    ttl: float = LINK_TTL
    attempts: int = 0
    used: bool = field(default=False)

    def check(self, proof: bytes, binding: bytes, node_public: bytes, now: float) -> str:
        """Accept a new device's proof once; returns the verification string to show.

        Raises :class:`LinkRefused` (``expired``, ``used``, ``voided``, ``bad_proof``).
        """
        if self.used:
            raise LinkRefused("used", "this link code was already used")
        if self.attempts >= MAX_ATTEMPTS:
            raise LinkRefused("voided", "this link code is void after repeated bad attempts")
        if not self.created <= now <= self.created + self.ttl:
            raise LinkRefused("expired", "this link code has expired: run /link again")
        expected = link_proof(self.code.secret, binding, node_public)
        if not isinstance(proof, bytes) or not hmac.compare_digest(proof, expected):
            self.attempts += 1
            raise LinkRefused("bad_proof", "the link proof does not match this code")
        self.used = True
        return verification_string(self.code.secret, binding)
