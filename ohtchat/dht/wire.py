"""DHT method names and the parsing of their params and replies (strict, bounded)."""

from __future__ import annotations

from typing import Any

from ohtchat.dht.errors import REFUSALS, BadRecord

STORE = "dht_store"
FETCH = "dht_fetch"
HAVE = "dht_have"
MBOX_PUT = "dht_mbox_put"
MBOX_FETCH = "dht_mbox_fetch"
MBOX_DELETE = "dht_mbox_delete"
METHODS = (STORE, FETCH, HAVE, MBOX_PUT, MBOX_FETCH, MBOX_DELETE)

#: Most entries in one write request (``recs`` / ``items`` / ``dels``).
MAX_BATCH = 64
#: Most digests per kind in one ``dht_have`` request (512 keys of 256 bytes fit a frame).
MAX_DIGESTS = 512
#: Most items in one ``dht_mbox_fetch`` page.
MAX_PAGE_ITEMS = 1024


def field(obj: dict[str, Any], name: str) -> object:
    """A required field of a params or reply map."""
    if name not in obj:
        raise BadRecord(f"missing field {name!r}")
    return obj[name]


def bounded_list(obj: dict[str, Any], name: str, limit: int, required: bool = True) -> list[Any]:
    """A list field of at most ``limit`` entries (absent means empty unless ``required``)."""
    if not required and name not in obj:
        return []
    v = field(obj, name)
    if not isinstance(v, list | tuple) or len(v) > limit:
        raise BadRecord(f"field {name!r} must be a list of at most {limit}")
    return list(v)


def id32(obj: dict[str, Any], name: str, optional: bool = False) -> bytes | None:
    """A 32-byte id field (``None`` allowed when ``optional``)."""
    v = obj.get(name)
    if v is None and optional:
        return None
    if not isinstance(v, bytes | bytearray) or len(v) != 32:
        raise BadRecord(f"field {name!r} must be 32 bytes")
    return bytes(v)


def results(reply: dict[str, Any], count: int) -> list[str | None]:
    """The per-entry results of a write reply: ``None`` (stored/held) or a refusal code."""
    res = bounded_list(reply, "res", MAX_BATCH)
    if len(res) != count:
        raise BadRecord("result count differs from request")
    out: list[str | None] = []
    for r in res:
        if r is not None and r not in REFUSALS:
            raise BadRecord("unknown refusal code")
        out.append(r)
    return out


def indices(reply: dict[str, Any], name: str, count: int) -> list[int]:
    """Strictly increasing indices below ``count`` (a ``dht_have`` reply)."""
    idx = bounded_list(reply, name, count, required=False)
    last = -1
    for i in idx:
        if not isinstance(i, int) or isinstance(i, bool) or not last < i < count:
            raise BadRecord("indices must increase and lie within the request")
        last = i
    return idx
