"""Tor v3 onion addresses ⇄ ed25519 public keys, per rend-spec-v3 §6.

    onion_address = base32(PUBKEY | CHECKSUM | VERSION) + ".onion"
    CHECKSUM      = SHA3-256(".onion checksum" | PUBKEY | VERSION)[:2]
    VERSION       = 0x03

Also the ``ED25519-V3`` key blob that tor's ADD_ONION expects: the 64-byte *expanded*
secret key (clamped SHA-512 of the seed), base64-encoded.
"""

from __future__ import annotations

import base64
import hashlib

from ohtchat.crypto.errors import InvalidOnionAddress

VERSION = 3
_CHECKSUM_PREFIX = b".onion checksum"
_ALPHABET = set("abcdefghijklmnopqrstuvwxyz234567")
ADDRESS_LEN = 56  # base32 characters, without ".onion"
SUFFIX = ".onion"


def _checksum(pubkey: bytes) -> bytes:
    return hashlib.sha3_256(_CHECKSUM_PREFIX + pubkey + bytes([VERSION])).digest()[:2]


def onion_address(pubkey: bytes) -> str:
    """The v3 onion address (with ``.onion``) of a 32-byte ed25519 public key."""
    if len(pubkey) != 32:
        raise ValueError(f"ed25519 public key must be 32 bytes, got {len(pubkey)}")
    raw = pubkey + _checksum(pubkey) + bytes([VERSION])
    return base64.b32encode(raw).decode("ascii").lower() + SUFFIX


def pubkey_from_onion(address: str) -> bytes:
    """The ed25519 public key inside a v3 onion address, after full validation.

    Accepts the address with or without the ``.onion`` suffix, in any letter case.
    Raises :class:`InvalidOnionAddress` naming the failed check: length, alphabet,
    version or checksum.
    """
    if not isinstance(address, str):
        raise InvalidOnionAddress(repr(address), "not a string")
    label = address.strip().lower()
    if label.endswith(SUFFIX):
        label = label[: -len(SUFFIX)]
    if len(label) != ADDRESS_LEN:
        raise InvalidOnionAddress(address, f"length {len(label)}, expected {ADDRESS_LEN}")
    bad = sorted(set(label) - _ALPHABET)
    if bad:
        raise InvalidOnionAddress(address, f"characters outside base32: {''.join(bad)!r}")
    raw = base64.b32decode(label.upper())
    pubkey, checksum, version = raw[:32], raw[32:34], raw[34]
    if version != VERSION:
        raise InvalidOnionAddress(address, f"version {version}, expected {VERSION}")
    if checksum != _checksum(pubkey):
        raise InvalidOnionAddress(address, "checksum mismatch")
    return pubkey


def normalize_onion(address: str) -> str:
    """The canonical form (lower case, with ``.onion``) of a valid address."""
    return onion_address(pubkey_from_onion(address))


def is_onion_address(address: str) -> bool:
    """True when ``address`` is a valid v3 onion address."""
    try:
        pubkey_from_onion(address)
    except InvalidOnionAddress:
        return False
    return True


def expanded_secret_key(seed: bytes) -> bytes:
    """The 64-byte expanded ed25519 secret key tor stores for a 32-byte seed.

    SHA-512(seed), with the low half clamped as RFC 8032 §5.1.5 describes.
    """
    if len(seed) != 32:
        raise ValueError(f"ed25519 seed must be 32 bytes, got {len(seed)}")
    h = bytearray(hashlib.sha512(seed).digest())
    h[0] &= 248
    h[31] &= 127
    h[31] |= 64
    return bytes(h)


def add_onion_key_blob(seed: bytes) -> str:
    """The ``ED25519-V3:<base64>`` key argument for tor's ADD_ONION command."""
    return "ED25519-V3:" + base64.b64encode(expanded_secret_key(seed)).decode("ascii")
