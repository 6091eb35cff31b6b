"""Identifiers on the ring: a node's id is derived from its key, never chosen."""

from __future__ import annotations

import hashlib

ID_BITS = 256
ID_SPACE = 1 << ID_BITS


def node_id(pubkey: bytes) -> int:
    """The ring id of a node: SHA3-256 of its ed25519 public key, big-endian integer."""
    if len(pubkey) != 32:
        raise ValueError(f"ed25519 public key must be 32 bytes, got {len(pubkey)}")
    return int.from_bytes(hashlib.sha3_256(pubkey).digest(), "big")


def key_id(data: bytes) -> int:
    """The ring position of an arbitrary DHT key: SHA3-256 of its bytes."""
    return int.from_bytes(hashlib.sha3_256(data).digest(), "big")


def id_hex(ident: int) -> str:
    """A 64-hex-digit rendering of a 256-bit identifier."""
    return f"{ident:064x}"


def short_id(ident: int, digits: int = 8) -> str:
    """The first ``digits`` hex digits of an identifier, for display."""
    return id_hex(ident)[:digits]


def parse_id(text: str) -> int:
    """Parse a full 64-digit hex identifier (``0x`` prefix allowed)."""
    t = text.strip().lower().removeprefix("0x")
    if len(t) != 64 or any(c not in "0123456789abcdef" for c in t):
        raise ValueError(f"identifier must be 64 hex digits, got {text[:80]!r}")
    return int(t, 16)
