"""Messages of the upper layers, built and checked from the spec alone.

Ring arithmetic and peers (docs/chord.md), signed DHT records, mailbox items and deletion
markers (docs/dht.md), the signed ringcast message (docs/ringcast.md), chat items, presence
records and sealed mailbox items (docs/protocol.md §10–§12). No ``ohtchat`` import.
"""

from __future__ import annotations

import os
import struct
import time
from typing import Any

from tests.conformance.minicrypto import (
    Identity,
    SpecViolation,
    account_id,
    check_certificate,
    onion_id,
    onion_key,
    seal,
    sha3,
    verify,
)
from tests.conformance.miniwire import pack, unpack

RING = 1 << 256
RECORD_LABEL = b"ohtchat dht record v1\x00"
DELETE_LABEL = b"ohtchat dht mailbox delete v1\x00"
DEPOSIT_LABEL = b"ohtchat mailbox deposit v1\x00"
RINGCAST_LABEL = b"ohtchat ringcast v1\x00"
PREKEY_LABEL = b"ohtchat kem prekey v1\x00"
ITEM_LABEL = b"ohtchat mailbox item v2\x00"
MAILBOX_AAD = b"ohtchat mailbox"
REFUSALS = {"forged", "stale", "not_owner", "too_large", "expired", "future", "quota"}


# ------------------------------------------------------------------------ ring, peers
def id32(ident: int) -> bytes:
    """A 256-bit id as 32 big-endian bytes."""
    return ident.to_bytes(32, "big")


def dist(a: int, b: int) -> int:
    """Clockwise distance from ``a`` to ``b``."""
    return (b - a) % RING


def in_open(x: int, a: int, b: int) -> bool:
    """``x ∈ (a, b)`` on the circle (``(a, a)`` is everything but ``a``)."""
    return x != a if a == b else 0 < dist(a, x) < dist(a, b)


def in_half_open(x: int, a: int, b: int) -> bool:
    """``x ∈ (a, b]`` on the circle (``(a, a]`` is everything)."""
    return True if a == b else 0 < dist(a, x) <= dist(a, b)


def peer_ref(ident: Identity, addr: str) -> dict[str, Any]:
    """``{id, onion, addr}`` of a node."""
    return {"id": id32(ident.id), "onion": ident.onion, "addr": addr}


def peer_id(peer: Any) -> int:
    """The id of a peer map, refused unless it is SHA3-256 of the key inside ``onion``."""
    if not isinstance(peer, dict) or set(peer) != {"id", "onion", "addr"}:
        raise SpecViolation(f"peer must be {{id, onion, addr}}: {peer!r:.200}")
    if not isinstance(peer["addr"], str) or not 0 < len(peer["addr"]) <= 255:
        raise SpecViolation(f"peer addr {peer['addr']!r}")
    ident = int.from_bytes(peer["id"], "big") if isinstance(peer["id"], bytes) else -1
    if len(peer["id"]) != 32 or ident != onion_id(peer["onion"]):
        raise SpecViolation(f"peer id does not match its onion {peer['onion']}")
    return ident


# ---------------------------------------------------------------------------- the DHT
def key_location(key: bytes) -> int:
    """``int(H("ohtchat dht v1\\0" ‖ key))``."""
    return int.from_bytes(sha3(b"ohtchat dht v1\x00", key), "big")


def mailbox_id(acct_id: str) -> bytes:
    """``H("mailbox" ‖ H(A))`` from the hex account id (docs/dht.md)."""
    return sha3(b"mailbox", bytes.fromhex(acct_id))


def _record_body(rec: dict[str, Any]) -> bytes:
    key, value = rec["k"], rec["v"]
    return b"".join(
        (
            RECORD_LABEL,
            struct.pack(">H", len(key)),
            key,
            struct.pack(">I", len(value)),
            value,
            rec["o"],
            struct.pack(">QQB", rec["s"], rec["e"], 1 if rec["t"] else 0),
        )
    )


def record(owner: Identity, key: bytes, value: bytes, seq: int, expires: int) -> dict[str, Any]:
    """A record signed by ``owner``'s account: ``{k, v, o, s, e, t, g}``."""
    rec: dict[str, Any] = {
        "k": key,
        "v": value,
        "o": owner.account_public,
        "s": seq,
        "e": expires,
        "t": False,
    }
    rec["g"] = owner.sign_account(_record_body(rec))
    return rec


def check_record(rec: Any, key: bytes) -> dict[str, Any]:
    """A fetched record for ``key``, its shape and signature checked."""
    if not isinstance(rec, dict) or set(rec) != {"k", "v", "o", "s", "e", "t", "g"}:
        raise SpecViolation(f"record shape {rec!r:.200}")
    if rec["k"] != key or not isinstance(rec["t"], bool) or len(rec["g"]) != 64:
        raise SpecViolation("record for another key, or mistyped")
    if not verify(rec["o"], _record_body(rec), rec["g"]):
        raise SpecViolation("record signature does not verify")
    return rec


def mailbox_item(
    acct_id: str, data: bytes, ttl: int = 3600, signer: Identity | None = None
) -> dict[str, Any]:
    """``{m, i, e, s, g}``: ``data`` appended to ``acct_id``'s mailbox, an unticketed deposit
    signed by ``signer``'s account key (any ed25519 key will do; default a fresh one)."""
    signer = signer or Identity.fresh()
    mbox, expires = mailbox_id(acct_id), int(time.time()) + ttl
    signed = DEPOSIT_LABEL + mbox + sha3(data) + struct.pack(">QB", expires, 0)
    return {
        "m": mbox,
        "i": data,
        "e": expires,
        "s": signer.account_public,
        "g": signer.sign_account(signed),
    }


def delete_marker(owner: Identity, item: bytes, ttl: int = 3600) -> dict[str, Any]:
    """``{m, d, p, g, e}``: ``owner`` deletes item bytes ``item`` from its own mailbox."""
    mbox, iid = mailbox_id(owner.account_id), sha3(item)
    sig = owner.sign_account(DELETE_LABEL + mbox + iid)
    return {"m": mbox, "d": iid, "p": owner.account_public, "g": sig, "e": int(time.time()) + ttl}


# ------------------------------------------------------------------------- ringcast
def ringcast(origin: Identity, payload: dict[str, Any], limit: int) -> dict[str, Any]:
    """``ringcast_deliver`` params: ``origin``'s signed map payload, for the arc up to
    ``limit``, at depth 1 (the origin's child)."""
    msg_id, ts, body = os.urandom(16), int(time.time() * 1000), pack(payload)
    signed = b"".join(
        (
            RINGCAST_LABEL,
            msg_id,
            origin.account_public,
            origin.node_public,
            struct.pack(">QBI", ts, 1, len(body)),
            body,
        )
    )
    return {
        "v": 1,
        "id": msg_id,
        "acct": origin.account_public,
        "onion": origin.onion,
        "ts": ts,
        "ct": 1,
        "body": body,
        "sig": origin.sign_account(signed),
        "cert": origin.cert,
        "limit": id32(limit),
        "hops": 1,
    }


# ----------------------------------------------------------------------------- chat
def chat_item(to: str, text: str, name: str, kind: str = "whisper") -> dict[str, Any]:
    """A chat item (§12.1) for account ``to``."""
    return {
        "kind": kind,
        "msg_id": os.urandom(16).hex(),
        "to": to,
        "sent_at": time.time(),
        "text": text,
        "extra": {"name": name},
    }


def presence_kem(acct_id: str, rec: dict[str, Any]) -> bytes:
    """The signed KEM prekey of a presence record (§12.2), after checking the record."""
    value = unpack(rec["v"])
    if not isinstance(value, dict) or value.get("v") != 1:
        raise SpecViolation(f"presence value {value!r:.200}")
    pub, cert, kem_pub = value["account_pub"], value["cert"], value["kem_pub"]
    if rec["o"] != pub or account_id(pub) != acct_id:
        raise SpecViolation("presence not owned by that account")
    if check_certificate(cert, onion_key(value["onion"]), time.time()) != pub:
        raise SpecViolation("presence certificate is for another account")
    if not verify(pub, PREKEY_LABEL + kem_pub, value["kem_sig"]):
        raise SpecViolation("presence prekey signature does not verify")
    return bytes(kem_pub)


def sealed_item(sender: Identity, kem_pub: bytes, item: dict[str, Any]) -> bytes:
    """The v2 mailbox box: sealed ``{v: 2, b: item bytes, from, sig}``."""
    item_bytes = pack(item)
    inner = {
        "v": 2,
        "b": item_bytes,
        "from": sender.account_public,
        "sig": sender.sign_account(ITEM_LABEL + item_bytes),
    }
    return seal(kem_pub, pack(inner), MAILBOX_AAD)
