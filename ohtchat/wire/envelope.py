"""The versioned envelope: a msgpack map ``{"v": 4, "t": TYPE, "b": BODY}``.

Version 4 (this one) signs mailbox deposits for per-sender quotas and adds file transfer;
version 3 carried whispers and contact items only inside the double ratchet (a ``ratchet`` chat
item); version 2 signed mailbox items over their exact bytes, where version 1 signed a
re-encoding (see docs/protocol.md, Versions). The version is in every envelope and in
the handshake transcript, so an older peer is refused cleanly (``UnsupportedVersion``) instead
of failing later on an item it cannot read.

Decoding is strict: size limits on every container, no extension types, string map keys only,
no trailing bytes, and an exact envelope shape. Field accessors (:class:`Fields`) turn the
untrusted body into typed values or raise :class:`MalformedMessage`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgpack

from ohtchat.wire.errors import MalformedMessage, UnsupportedVersion

PROTOCOL_VERSION = 5
_LIMITS = {
    "max_str_len": 64 * 1024,
    "max_bin_len": 256 * 1024,
    "max_array_len": 4096,
    "max_map_len": 256,
    "max_ext_len": 0,
}


def pack(obj: Any) -> bytes:
    """msgpack-encode a value (bytes stay binary, strings stay UTF-8)."""
    return msgpack.packb(obj, use_bin_type=True)  # type: ignore[no-any-return]


def unpack(data: bytes) -> Any:
    """Strictly decode one msgpack value; :class:`MalformedMessage` on anything odd."""
    try:
        return msgpack.unpackb(data, raw=False, strict_map_key=True, use_list=True, **_LIMITS)
    except Exception as exc:  # msgpack raises many types (ExtraData, FormatError, ValueError...)
        raise MalformedMessage(f"undecodable payload: {type(exc).__name__}") from exc


def encode(msg_type: str, body: Mapping[str, Any]) -> bytes:
    """An envelope of type ``msg_type`` around ``body``."""
    return pack({"v": PROTOCOL_VERSION, "t": msg_type, "b": dict(body)})


def decode(payload: bytes) -> tuple[str, Fields]:
    """``(type, Fields(body))`` of an envelope, after checking its shape and version."""
    obj = unpack(payload)
    if not isinstance(obj, dict) or set(obj) != {"v", "t", "b"}:
        raise MalformedMessage("envelope must be a map with exactly v, t, b")
    if type(obj["v"]) is not int:
        raise MalformedMessage("envelope version must be an integer")
    if obj["v"] != PROTOCOL_VERSION:
        raise UnsupportedVersion(f"protocol version {obj['v']} (we speak {PROTOCOL_VERSION})")
    if not isinstance(obj["t"], str) or not 0 < len(obj["t"]) <= 32:
        raise MalformedMessage("envelope type must be a short string")
    if not isinstance(obj["b"], dict):
        raise MalformedMessage("envelope body must be a map")
    return obj["t"], Fields(obj["b"], obj["t"])


class Fields:
    """Typed, validating access to an untrusted map (a message body or RPC params)."""

    def __init__(self, data: dict[str, Any], where: str = "message") -> None:
        self.data = data
        self.where = where

    def _get(self, key: str, optional: bool) -> Any:
        if key not in self.data:
            if optional:
                return None
            raise MalformedMessage(f"{self.where}: missing field {key!r}")
        return self.data[key]

    def _bad(self, key: str, what: str) -> MalformedMessage:
        return MalformedMessage(f"{self.where}: field {key!r} {what}")

    def bytes_(self, key: str, size: int | None = None, max_len: int = 1 << 18) -> bytes:
        """A binary field, of exactly ``size`` bytes when given."""
        v = self._get(key, False)
        if not isinstance(v, bytes):
            raise self._bad(key, "must be bytes")
        if size is not None and len(v) != size:
            raise self._bad(key, f"must be {size} bytes, got {len(v)}")
        if len(v) > max_len:
            raise self._bad(key, f"longer than {max_len} bytes")
        return v

    def str_(self, key: str, max_len: int = 4096, min_len: int = 0) -> str:
        """A text field with length bounds."""
        v = self._get(key, False)
        if not isinstance(v, str):
            raise self._bad(key, "must be a string")
        if not min_len <= len(v) <= max_len:
            raise self._bad(key, f"length must be in [{min_len}, {max_len}]")
        return v

    def int_(self, key: str, lo: int = 0, hi: int = (1 << 64) - 1) -> int:
        """An integer field within ``[lo, hi]`` (bools are not integers here)."""
        v = self._get(key, False)
        if type(v) is not int:
            raise self._bad(key, "must be an integer")
        if not lo <= v <= hi:
            raise self._bad(key, f"must be in [{lo}, {hi}]")
        return v

    def bool_(self, key: str) -> bool:
        """A boolean field."""
        v = self._get(key, False)
        if not isinstance(v, bool):
            raise self._bad(key, "must be a boolean")
        return v

    def map_(self, key: str) -> Fields:
        """A nested map, as :class:`Fields`."""
        v = self._get(key, False)
        if not isinstance(v, dict):
            raise self._bad(key, "must be a map")
        return Fields(v, f"{self.where}.{key}")

    def list_(self, key: str, max_len: int = 4096) -> list[Any]:
        """A list field (elements unchecked: validate them with the caller's own rules)."""
        v = self._get(key, False)
        if not isinstance(v, list):
            raise self._bad(key, "must be a list")
        if len(v) > max_len:
            raise self._bad(key, f"has more than {max_len} elements")
        return v

    def has(self, key: str) -> bool:
        """True when the field is present (for optional fields)."""
        return key in self.data

    def id256(self, key: str) -> int:
        """A 256-bit identifier sent as 32 big-endian bytes."""
        return int.from_bytes(self.bytes_(key, size=32), "big")


def id_bytes(ident: int) -> bytes:
    """The 32-byte big-endian encoding of a 256-bit identifier."""
    return ident.to_bytes(32, "big")
