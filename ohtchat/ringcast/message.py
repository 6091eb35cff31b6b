"""The ringcast message: its wire form, the origin's signature, and strict decoding.

The params of ``ringcast_deliver`` (a msgpack map; receivers ignore unknown keys, forwarders
drop them)::

    v      int     1
    id     bin 16  message id, random, chosen by the origin
    acct   bin 32  origin's account public key (ed25519)
    onion  str     origin's onion address (canonical, lower case, ".onion")
    ts     int     origin's send time, unix milliseconds
    ct     int     payload type: 0 = raw bytes, 1 = a msgpack map with string keys
    body   bin     the payload bytes (for ct = 1, the msgpack encoding made by the origin)
    sig    bin 64  ed25519 signature by ``acct`` over the signed body below
    cert   bin 144 | nil   the origin's node certificate (account → node key), optional
    limit  bin 32  ring id where the receiver's part of the broadcast ends (exclusive)
    hops   int     depth of the receiver in the broadcast tree (the origin's children: 1)

``limit`` and ``hops`` are routing data set by each forwarder and are not signed. The signed
body is ``"ohtchat ringcast v1\\0" ‖ id ‖ acct ‖ node_pub ‖ ts (u64 BE) ‖ ct (u8) ‖
len(body) (u32 BE) ‖ body``, where ``node_pub`` is the 32-byte key inside ``onion``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, replace
from typing import Any

from ohtchat.chord.errors import BadReply, BadRequest
from ohtchat.chord.rpc import decode_id, encode_id
from ohtchat.crypto.errors import BadCertificate, BadSignature, InvalidOnionAddress
from ohtchat.crypto.keys import CERT_LEN, AccountKey, NodeCertificate, verify_signature
from ohtchat.crypto.onion import onion_address, pubkey_from_onion
from ohtchat.ringcast.errors import BadPayload
from ohtchat.wire.envelope import pack, unpack
from ohtchat.wire.errors import MalformedMessage

SIG_LABEL = b"ohtchat ringcast v1\x00"
VERSION = 1
ID_LEN = 16
CT_BYTES = 0
CT_MAP = 1
#: Deepest tree level accepted (a bound on what a forwarder may claim).
MAX_HOPS = 1024
_MAX_TS = (1 << 63) - 1

Payload = bytes | dict[str, Any]


@dataclass(frozen=True)
class Broadcast:
    """A verified ringcast message, as handed to the chat layer (``on_deliver``)."""

    msg_id: bytes
    origin_account_public: bytes
    origin_onion: str
    payload: Payload
    #: The origin's timestamp, unix seconds.
    sent_at: float
    #: Depth at which this node received it (0 at the origin).
    hops: int = 0
    #: True when the message carried a valid certificate binding the account to the onion.
    certified: bool = False


@dataclass(frozen=True)
class RingcastMessage:
    """One signed broadcast plus the per-hop routing fields ``limit`` and ``hops``."""

    msg_id: bytes
    account_public: bytes
    onion: str
    ts_ms: int
    ct: int
    body: bytes
    signature: bytes
    cert: bytes | None
    limit: int = 0
    hops: int = 0

    # -------------------------------------------------------------- creating
    @classmethod
    def create(
        cls,
        signer: AccountKey,
        onion: str,
        ts_ms: int,
        payload: Payload,
        msg_id: bytes,
        cert: NodeCertificate | None = None,
    ) -> RingcastMessage:
        """Encode ``payload`` and sign the message as its origin."""
        ct, body = encode_payload(payload)
        sig = signer.sign(signed_body(msg_id, signer.public, onion, ts_ms, ct, body))
        raw_cert = None if cert is None else cert.to_bytes()
        return cls(msg_id, signer.public, onion, ts_ms, ct, body, sig, raw_cert)

    def routed(self, limit: int, hops: int) -> RingcastMessage:
        """The same signed message with new routing fields."""
        return replace(self, limit=limit, hops=hops)

    # ------------------------------------------------------------------ wire
    def to_params(self) -> dict[str, Any]:
        """The ``ringcast_deliver`` params."""
        return {
            "v": VERSION,
            "id": self.msg_id,
            "acct": self.account_public,
            "onion": self.onion,
            "ts": self.ts_ms,
            "ct": self.ct,
            "body": self.body,
            "sig": self.signature,
            "cert": self.cert,
            "limit": encode_id(self.limit),
            "hops": self.hops,
        }

    @classmethod
    def from_params(cls, params: dict[str, Any], max_payload: int) -> RingcastMessage:
        """Check types and sizes (not the signature); :class:`BadRequest` on anything odd."""
        if type(params.get("v")) is not int or params["v"] != VERSION:
            raise BadRequest(f"field 'v' must be {VERSION} (the ringcast message version)")
        msg_id = _bin(params, "id", ID_LEN)
        acct = _bin(params, "acct", 32)
        sig = _bin(params, "sig", 64)
        onion = params.get("onion")
        if not isinstance(onion, str) or len(onion) > 70:
            raise BadRequest("field 'onion' must be a string of at most 70 characters")
        ts, ct, hops = _int(params, "ts", _MAX_TS), _int(params, "ct", 1), params.get("hops")
        if type(hops) is not int or not 1 <= hops <= MAX_HOPS:
            raise BadRequest(f"field 'hops' must be an integer in [1, {MAX_HOPS}]")
        body = params.get("body")
        if not isinstance(body, bytes):
            raise BadRequest("field 'body' must be bytes (bin)")
        if len(body) > max_payload:
            raise BadRequest(f"field 'body' has {len(body)} bytes, more than {max_payload}")
        cert = params.get("cert")
        if cert is not None and (not isinstance(cert, bytes) or len(cert) != CERT_LEN):
            raise BadRequest(f"field 'cert' must be nil or {CERT_LEN} bytes")
        try:
            limit = decode_id(params.get("limit"), "limit")
        except BadReply as exc:
            raise BadRequest(str(exc)) from exc
        return cls(msg_id, acct, onion, ts, ct, body, sig, cert, limit, hops)

    # ---------------------------------------------------------- verification
    def node_public(self) -> bytes:
        """The key inside the origin's onion address; :class:`BadRequest` if not canonical."""
        try:
            pub = pubkey_from_onion(self.onion)
        except InvalidOnionAddress as exc:
            raise BadRequest(f"field 'onion': {exc}") from exc
        if onion_address(pub) != self.onion:
            raise BadRequest("field 'onion' is not in canonical form (lower case, .onion)")
        return pub

    def verify(self, now: float) -> bool:
        """Check the origin's signature (and certificate, if any); True when certified.

        Raises :class:`BadRequest` on a forged or mismatched signature or certificate.
        """
        node_pub = self.node_public()
        body = signed_body(
            self.msg_id, self.account_public, self.onion, self.ts_ms, self.ct, self.body
        )
        try:
            verify_signature(self.account_public, body, self.signature)
        except BadSignature as exc:
            raise BadRequest("field 'sig' does not verify (origin signature)") from exc
        if self.cert is None:
            return False
        cert = NodeCertificate.from_bytes(self.cert)
        if cert.account_public != self.account_public:
            raise BadRequest("field 'cert' is for another account than 'acct'")
        try:
            cert.verify(node_pub, int(now))
        except BadCertificate as exc:
            raise BadRequest(f"field 'cert' does not verify: {exc}") from exc
        return True

    def payload(self) -> Payload:
        """The decoded payload; :class:`BadRequest` if a map payload does not decode."""
        if self.ct == CT_BYTES:
            return self.body
        try:
            obj = unpack(self.body)
        except MalformedMessage as exc:
            raise BadRequest(f"field 'body' (ct 1) does not decode: {exc}") from exc
        if not isinstance(obj, dict):
            raise BadRequest("field 'body' (ct 1) is not a msgpack map")
        return obj

    def broadcast(self, certified: bool) -> Broadcast:
        """The typed event for the chat layer (after :meth:`verify`)."""
        return Broadcast(
            self.msg_id,
            self.account_public,
            self.onion,
            self.payload(),
            self.ts_ms / 1000,
            self.hops,
            certified,
        )


def encode_payload(payload: object) -> tuple[int, bytes]:
    """``(ct, body)`` of a payload: raw bytes, or the msgpack encoding of a string-keyed map."""
    if isinstance(payload, bytes | bytearray):
        return CT_BYTES, bytes(payload)
    if isinstance(payload, dict):
        try:
            body = pack(payload)
            unpack(body)  # refuse what receivers would refuse (non-string keys, extensions)
        except (MalformedMessage, TypeError, ValueError, OverflowError) as exc:
            raise BadPayload(f"payload map is not msgpack-encodable: {exc}") from exc
        return CT_MAP, body
    raise BadPayload("payload must be bytes or a dict")


def signed_body(
    msg_id: bytes, account_public: bytes, onion: str, ts_ms: int, ct: int, body: bytes
) -> bytes:
    """The canonical, domain-separated bytes the origin signs."""
    node_pub = pubkey_from_onion(onion)
    return (
        SIG_LABEL
        + msg_id
        + account_public
        + node_pub
        + struct.pack(">QBI", ts_ms, ct, len(body))
        + body
    )


def _bin(params: dict[str, Any], name: str, size: int) -> bytes:
    value = params.get(name)
    if not isinstance(value, bytes) or len(value) != size:
        raise BadRequest(f"field {name!r} must be {size} bytes (bin)")
    return value


def _int(params: dict[str, Any], name: str, top: int) -> int:
    value = params.get(name)
    if type(value) is not int or not 0 <= value <= top:
        raise BadRequest(f"field {name!r} must be an integer in [0, {top}]")
    return value
