"""DHT method names and the parsing of their params and replies (strict, bounded)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

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
T = TypeVar("T")

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
        raise BadRecord(f"field {name!r} must be an array of at most {limit} entries")
    return list(v)


def entries(
    obj: dict[str, Any], name: str, limit: int, decode: Callable[[object, str], T]
) -> list[T]:
    """Decode every entry of the list field ``name`` (errors name the entry: ``recs[3].k``)."""
    return [decode(e, f"{name}[{i}]") for i, e in enumerate(bounded_list(obj, name, limit))]


def id32(obj: dict[str, Any], name: str, optional: bool = False) -> bytes | None:
    """A 32-byte id field (``None`` allowed when ``optional``)."""
    v = obj.get(name)
    if v is None and optional:
        return None
    if not isinstance(v, bytes | bytearray) or len(v) != 32:
        raise BadRecord(f"field {name!r} must be 32 bytes (bin)" + (" or nil" if optional else ""))
    return bytes(v)


def results(reply: dict[str, Any], count: int) -> list[str | None]:
    """The per-entry results of a write reply: ``None`` (stored/held) or a refusal code."""
    res = bounded_list(reply, "res", MAX_BATCH)
    if len(res) != count:
        raise BadRecord(f"field 'res' has {len(res)} entries for {count} sent")
    out: list[str | None] = []
    for i, r in enumerate(res):
        if r is not None and r not in REFUSALS:
            raise BadRecord(f"field 'res[{i}]' is neither nil nor a known refusal code")
        out.append(r)
    return out


def indices(reply: dict[str, Any], name: str, count: int) -> list[int]:
    """Strictly increasing indices below ``count`` (a ``dht_have`` reply)."""
    idx = bounded_list(reply, name, count, required=False)
    last = -1
    for n, i in enumerate(idx):
        if not isinstance(i, int) or isinstance(i, bool) or not last < i < count:
            raise BadRecord(
                f"field '{name}[{n}]' must be an index above the previous one and below {count}"
            )
        last = i
    return idx
