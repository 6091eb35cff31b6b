"""Vectors of docs/dht.md, docs/ringcast.md and docs/protocol.md §10–§12: signed DHT records (a
record, a tombstone, a presence record) and a ringcast message.

``build_*`` signs with the production :class:`Record` / :class:`RingcastMessage`; ``check_*``
decodes the committed bytes with the production decoders and verifies them.
"""

from __future__ import annotations

from typing import Any

from ohtchat.chat.presence import Presence, parse_presence, presence_key, sign_prekey
from ohtchat.chord.rpc import encode_id
from ohtchat.crypto.ids import id_hex
from ohtchat.crypto.keys import AccountKey, NodeKey, verify_signature
from ohtchat.dht.record import Record, key_location
from ohtchat.ringcast.config import RingcastConfig
from ohtchat.ringcast.message import RingcastMessage, signed_body
from ohtchat.wire import envelope
from ohtchat.wire.envelope import pack, unpack
from tests.vectors.crypto_vectors import Doc, expect, unhex
from tests.vectors.fixed import KemSeeds, fixed_bytes

NOW = 1_700_000_100
CERT_ISSUED = 1_700_000_000
CERT_LIFETIME = 365 * 86400

# ----------------------------------------------------------------------- DHT records


def record_json(rec: Record) -> dict[str, Any]:
    """Every derived value of a signed record."""
    return {
        "owner": rec.owner.hex(),
        "location": id_hex(key_location(rec.key)),
        "signed_body": rec.body().hex(),
        "signature": rec.signature.hex(),
        "record": rec.to_bytes().hex(),
    }


def record_vector(key: bytes, value: bytes, seq: int, tombstone: bool, note: str) -> Doc:
    """A record (or tombstone) under ``key``, signed by a fixed account."""
    account = AccountKey(fixed_bytes("dht record account"))
    expires = NOW + 86400
    rec = Record.create(account, key, value, seq, expires, tombstone)
    return {
        "description": f"docs/dht.md (Records): {note}",
        "inputs": {
            "account_seed": account.seed.hex(),
            "key": key.hex(),
            "value": rec.value.hex(),
            "seq": seq,
            "expires": expires,
            "tombstone": tombstone,
        },
        "outputs": record_json(rec),
    }


def presence_vector() -> Doc:
    """A presence record: its value bytes and the DHT record around them."""
    account = AccountKey(fixed_bytes("presence account"))
    node = NodeKey(fixed_bytes("presence node"))
    seeds = KemSeeds.named("presence prekey")
    cert = account.certify(node.public, CERT_ISSUED, CERT_LIFETIME)
    kem_pub = seeds.key_pair().public
    kem_sig = sign_prekey(account.sign, kem_pub)
    name, ts = "alice", 1_700_000_050.25
    presence = Presence(
        account.account_id, account.public, name, node.onion, node.onion, kem_pub, ts
    )
    value = presence.to_value(cert.to_bytes(), kem_sig)
    seq, expires = 1_700_000_050_250, NOW + 6 * 3600
    rec = Record.create(account, presence_key(account.account_id), value, seq, expires)
    return {
        "description": "docs/protocol.md §12.2 (Presence record) in a §10.2 record",
        "inputs": {
            "account_seed": account.seed.hex(),
            "node_seed": node.seed.hex(),
            "cert_issued": CERT_ISSUED,
            "cert_expires": CERT_ISSUED + CERT_LIFETIME,
            "prekey": seeds.to_json(),
            "name": name,
            "addr": node.onion,
            "ts": ts,
            "seq": seq,
            "expires": expires,
            "now": NOW,
        },
        "outputs": {
            "account_id": account.account_id,
            "onion": node.onion,
            "certificate": cert.to_bytes().hex(),
            "kem_public": kem_pub.hex(),
            "kem_sig_message": (b"ohtchat kem prekey v1\x00" + kem_pub).hex(),
            "kem_sig": kem_sig.hex(),
            "key": rec.key.hex(),
            "value": value.hex(),
            **record_json(rec),
        },
    }


def build_dht() -> Doc:
    """dht.json."""
    return {
        "description": "signed DHT records: a record, a tombstone, a presence record",
        "vectors": [
            record_vector(b"greeting", b"hello, ring", 1_700_000_000_000, False, "a record"),
            record_vector(
                b"greeting", b"", 1_700_000_000_001, True, "a tombstone deleting the record above"
            ),
            presence_vector(),
        ],
    }


def check_dht(doc: Doc) -> None:
    """Decode each record with the production decoder and verify its signature."""
    for vec in doc["vectors"]:
        inp, out = vec["inputs"], vec["outputs"]
        rec = Record.from_wire(unpack(unhex(out, "record")))
        rec.verify()
        expect("signed_body", rec.body().hex(), out["signed_body"])
        expect("signature", rec.signature.hex(), out["signature"])
        expect("location", id_hex(rec.location), out["location"])
        expect("seq/expires", (rec.seq, rec.expires), (inp["seq"], inp["expires"]))
        account = AccountKey(unhex(inp, "account_seed"))
        expect("owner", (rec.owner.hex(), account.public.hex()), (out["owner"],) * 2)
        if "tombstone" in inp:
            expect("key/value", (rec.key.hex(), rec.value.hex()), (inp["key"], inp["value"]))
            expect("tombstone", rec.tombstone, inp["tombstone"])
            continue
        expect("value", rec.value.hex(), out["value"])
        expect("key", rec.key, presence_key(out["account_id"]))
        p = parse_presence(out["account_id"], rec.owner, rec.value, inp["now"])
        expect(
            "presence",
            (p.name, p.onion, p.address, p.ts),
            (inp["name"], out["onion"], inp["addr"], inp["ts"]),
        )
        expect("kem_public", p.kem_pub.hex(), out["kem_public"])
        verify_signature(rec.owner, unhex(out, "kem_sig_message"), unhex(out, "kem_sig"))
        expect(
            "prekey", KemSeeds.from_json(inp["prekey"]).key_pair().public.hex(), out["kem_public"]
        )


# -------------------------------------------------------------------------- ringcast


def ringcast_vector(label: str, payload: bytes | dict[str, Any], certified: bool, note: str) -> Doc:
    """A ringcast message as an origin signs it and as its first forwarder sends it."""
    account = AccountKey(fixed_bytes(label + " account"))
    node = NodeKey(fixed_bytes(label + " node"))
    cert = account.certify(node.public, CERT_ISSUED, CERT_LIFETIME) if certified else None
    msg_id, ts_ms = fixed_bytes(label + " id", 16), NOW * 1000 + 123
    limit, hops = int.from_bytes(fixed_bytes(label + " limit"), "big"), 1
    msg = RingcastMessage.create(account, node.onion, ts_ms, payload, msg_id, cert)
    msg = msg.routed(limit, hops)
    params = msg.to_params()
    signed = signed_body(msg_id, account.public, node.onion, ts_ms, msg.ct, msg.body)
    request = envelope.encode("req", {"id": 7, "m": "ringcast_deliver", "p": params})
    return {
        "description": f"docs/ringcast.md (Wire message): {note}",
        "inputs": {
            "account_seed": account.seed.hex(),
            "node_seed": node.seed.hex(),
            "cert_issued": CERT_ISSUED if certified else None,
            "cert_expires": CERT_ISSUED + CERT_LIFETIME if certified else None,
            "id": msg_id.hex(),
            "ts": ts_ms,
            "payload": payload.hex() if isinstance(payload, bytes) else payload,
            "limit": encode_id(limit).hex(),
            "hops": hops,
            "now": NOW,
        },
        "outputs": {
            "account_public": account.public.hex(),
            "onion": node.onion,
            "node_public": node.public.hex(),
            "ct": msg.ct,
            "body": msg.body.hex(),
            "certificate": None if cert is None else cert.to_bytes().hex(),
            "signed_body": signed.hex(),
            "signature": msg.signature.hex(),
            "params": pack(params).hex(),
            "request_envelope": request.hex(),
        },
    }


def build_ringcast() -> Doc:
    """ringcast.json."""
    return {
        "description": "ringcast_deliver params and the origin's signed body",
        "vectors": [
            ringcast_vector(
                "ringcast 1",
                {"text": "hello, everyone", "name": "alice"},
                True,
                "a /ringcast text (ct = 1, a msgpack map), with a certificate",
            ),
            ringcast_vector("ringcast 2", b"\x00\x01raw", False, "raw bytes (ct = 0), no cert"),
        ],
    }


def check_ringcast(doc: Doc) -> None:
    """Decode each params map and request with the production decoders; verify the signature."""
    for vec in doc["vectors"]:
        inp, out = vec["inputs"], vec["outputs"]
        kind, fields = envelope.decode(unhex(out, "request_envelope"))
        expect("request", (kind, fields.str_("m")), ("req", "ringcast_deliver"))
        expect("params", pack(fields.map_("p").data).hex(), out["params"])
        msg = RingcastMessage.from_params(
            unpack(unhex(out, "params")), RingcastConfig().max_payload
        )
        expect("certified", msg.verify(inp["now"]), out["certificate"] is not None)
        expect(
            "signed_body",
            signed_body(
                msg.msg_id, msg.account_public, msg.onion, msg.ts_ms, msg.ct, msg.body
            ).hex(),
            out["signed_body"],
        )
        verify_signature(msg.account_public, unhex(out, "signed_body"), msg.signature)
        expect("routing", (encode_id(msg.limit).hex(), msg.hops), (inp["limit"], inp["hops"]))
        payload = msg.payload()
        want = inp["payload"]
        expect("payload", payload.hex() if isinstance(payload, bytes) else payload, want)
        expect("onion", NodeKey(unhex(inp, "node_seed")).onion, out["onion"])
