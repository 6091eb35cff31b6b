"""The mutual authenticated handshake (sans-IO state machines).

Modelled on Gosling's proof of onion ownership, made mutual and post-quantum::

    I → R  hs1  {onion: R's address as dialled or "", cookie: 32 B, kem: I's ephemeral hybrid pk}
    R → I  hs2  {onion: R's address, cookie: 32 B, kem: R's ephemeral pk, ct: Encaps(I's pk)}
    I → R  hs3  {onion: I's address, ct: Encaps(R's pk), cert: I's certificate, sig}
    R → I  hs4  {cert: R's certificate, sig}

Both sides sign, with their node key, ``role label ‖ T ‖ SHA3-256(own cert)`` where ``T`` is the
transcript hash over the version, both onion addresses, both cookies, both KEM public keys and
both ciphertexts (see docs/protocol.md). The verifier takes the signer's key from the *claimed
onion address*, so only the owner of that address can complete the handshake. Session keys come
from both KEM secrets and ``T``.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import struct
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

from ohtchat.crypto import kem
from ohtchat.crypto.errors import BadCertificate, BadSignature, CryptoError, InvalidOnionAddress
from ohtchat.crypto.keys import CERT_LEN, NodeCertificate, verify_signature
from ohtchat.crypto.onion import normalize_onion, pubkey_from_onion
from ohtchat.session.identity import NodeIdentity, PeerIdentity
from ohtchat.wire import envelope
from ohtchat.wire.errors import HandshakeFailed, MalformedMessage, WrongIdentity

LABEL = b"ohtchat handshake v1"
SIG_INITIATOR = b"ohtchat handshake v1 initiator signature\x00"
SIG_RESPONDER = b"ohtchat handshake v1 responder signature\x00"
COOKIE_LEN = 32
ONION_MAX = 62


@dataclass(frozen=True)
class HandshakeResult:
    """What a finished handshake yields: the authenticated peer and the traffic keys."""

    peer: PeerIdentity
    send_key: bytes
    recv_key: bytes
    session_id: bytes
    transcript: bytes


class HandshakeRandomness(Protocol):
    """Where one side of a handshake gets its fresh values: a cookie, a KEM key pair and the
    randomness of its one encapsulation. :data:`OS_RANDOMNESS` unless a test vector fixes them."""

    def cookie(self) -> bytes:
        """32 fresh bytes: this side's cookie."""
        ...

    def kem_key_pair(self) -> kem.KemKeyPair:
        """This side's ephemeral hybrid key pair."""
        ...

    def encapsulate(self, public: bytes) -> tuple[bytes, bytes]:
        """``(ciphertext, shared secret)`` to the peer's ephemeral ``public`` key."""
        ...


class OsRandomness:
    """Fresh values from the OS (libsodium, pqcrypto): what every real handshake uses."""

    def cookie(self) -> bytes:
        """32 bytes from ``os.urandom``."""
        return os.urandom(COOKIE_LEN)

    def kem_key_pair(self) -> kem.KemKeyPair:
        """A fresh hybrid key pair."""
        return kem.KemKeyPair.generate()

    def encapsulate(self, public: bytes) -> tuple[bytes, bytes]:
        """A fresh hybrid encapsulation."""
        return kem.encapsulate(public)


OS_RANDOMNESS: HandshakeRandomness = OsRandomness()


def _lp(data: bytes) -> bytes:
    return struct.pack(">H", len(data)) + data


def transcript_hash(
    onion_i: str,
    onion_r: str,
    cookie_i: bytes,
    cookie_r: bytes,
    kem_i: bytes,
    kem_r: bytes,
    ct_to_i: bytes,
    ct_to_r: bytes,
) -> bytes:
    """``T``: SHA3-256 over every value both sides contributed, length-prefixed."""
    h = hashlib.sha3_256(LABEL + struct.pack(">H", envelope.PROTOCOL_VERSION))
    for part in (
        onion_i.encode(),
        onion_r.encode(),
        cookie_i,
        cookie_r,
        kem_i,
        kem_r,
        ct_to_i,
        ct_to_r,
    ):
        h.update(_lp(part))
    return h.digest()


def _signed_message(label: bytes, transcript: bytes, cert: bytes) -> bytes:
    return label + transcript + hashlib.sha3_256(cert).digest()


def derive_keys(ss_to_i: bytes, ss_to_r: bytes, transcript: bytes) -> tuple[bytes, bytes, bytes]:
    """``(initiator→responder key, responder→initiator key, session id)`` by HKDF-SHA256."""
    prk = hmac.new(transcript, ss_to_i + ss_to_r, hashlib.sha256).digest()

    def expand(info: bytes) -> bytes:
        return hmac.new(prk, info + b"\x01", hashlib.sha256).digest()

    return expand(b"ohtchat v1 key i2r"), expand(b"ohtchat v1 key r2i"), expand(b"ohtchat v1 sid")


def _parse_onion(fields: envelope.Fields, key: str) -> str:
    try:
        return normalize_onion(fields.str_(key, max_len=ONION_MAX))
    except InvalidOnionAddress as exc:
        raise MalformedMessage(f"{fields.where}: field {key!r}: {exc}") from exc


def _verify_peer(
    onion: str, label: bytes, transcript: bytes, cert_raw: bytes, sig: bytes, now: int
) -> PeerIdentity:
    node_public = pubkey_from_onion(onion)
    try:
        verify_signature(node_public, _signed_message(label, transcript, cert_raw), sig)
    except BadSignature as exc:
        raise WrongIdentity(f"proof is not signed by the key of {onion}") from exc
    try:
        cert = NodeCertificate.from_bytes(cert_raw)
        cert.verify(node_public, now)
    except BadCertificate as exc:
        raise HandshakeFailed(f"bad account certificate: {exc}") from exc
    return PeerIdentity(onion, node_public, cert)


def _expect(payload: bytes, want: str) -> envelope.Fields:
    kind, fields = envelope.decode(payload)
    if kind != want:
        raise HandshakeFailed(f"expected {want}, got {kind[:32]!r}")
    return fields


class Initiator:
    """The dialling side. ``start()`` gives hs1; ``receive(hs2)`` gives hs3;
    ``receive(hs4)`` gives ``None`` and sets :attr:`result`."""

    def __init__(
        self,
        me: NodeIdentity,
        peer_onion: str | None,
        now: Callable[[], float],
        *,
        randomness: HandshakeRandomness = OS_RANDOMNESS,
    ) -> None:
        self.me = me
        #: The address we expect; ``None`` accepts whoever answers (bootstrap by host:port),
        #: still authenticated by the responder's proof for the address it names in hs2.
        self.peer_onion = normalize_onion(peer_onion) if peer_onion else ""
        self.now = now
        self.result: HandshakeResult | None = None
        self._random = randomness
        self._cookie = randomness.cookie()
        self._kem = randomness.kem_key_pair()
        self._state = "start"
        self._transcript = b""
        self._keys: tuple[bytes, bytes, bytes] = (b"", b"", b"")

    def start(self) -> bytes:
        """The first message (hs1)."""
        if self._state != "start":
            raise HandshakeFailed("handshake already started")
        self._state = "sent1"
        body = {"onion": self.peer_onion, "cookie": self._cookie, "kem": self._kem.public}
        return envelope.encode("hs1", body)

    def receive(self, payload: bytes) -> bytes | None:
        """Process the responder's next message; return our reply, if any."""
        if self._state == "sent1":
            return self._on_hs2(_expect(payload, "hs2"))
        if self._state == "sent3":
            self._on_hs4(_expect(payload, "hs4"))
            return None
        raise HandshakeFailed(f"unexpected message in state {self._state}")

    def _on_hs2(self, f: envelope.Fields) -> bytes:
        onion_r = _parse_onion(f, "onion")
        if self.peer_onion and onion_r != self.peer_onion:
            raise WrongIdentity(f"dialled {self.peer_onion} but {onion_r} answered")
        if onion_r == self.me.onion:
            raise HandshakeFailed("reflected handshake: responder claims our own address")
        self.peer_onion = onion_r
        cookie_r = f.bytes_("cookie", COOKIE_LEN)
        kem_r = f.bytes_("kem", kem.PUBLIC_KEY_SIZE)
        ct_to_i = f.bytes_("ct", kem.CIPHERTEXT_SIZE)
        if cookie_r == self._cookie or kem_r == self._kem.public:
            raise HandshakeFailed("reflected handshake message")
        try:
            ss_to_i = kem.decapsulate(self._kem.secret, ct_to_i)
            ct_to_r, ss_to_r = self._random.encapsulate(kem_r)
        except CryptoError as exc:
            raise HandshakeFailed(f"key exchange failed: {exc}") from exc
        t = transcript_hash(
            self.me.onion,
            self.peer_onion,
            self._cookie,
            cookie_r,
            self._kem.public,
            kem_r,
            ct_to_i,
            ct_to_r,
        )
        self._transcript = t
        self._keys = derive_keys(ss_to_i, ss_to_r, t)
        cert = self.me.cert.to_bytes()
        sig = self.me.node_key.sign(_signed_message(SIG_INITIATOR, t, cert))
        self._state = "sent3"
        body = {"onion": self.me.onion, "ct": ct_to_r, "cert": cert, "sig": sig}
        return envelope.encode("hs3", body)

    def _on_hs4(self, f: envelope.Fields) -> None:
        cert = f.bytes_("cert", CERT_LEN)
        sig = f.bytes_("sig", 64)
        peer = _verify_peer(
            self.peer_onion, SIG_RESPONDER, self._transcript, cert, sig, int(self.now())
        )
        i2r, r2i, sid = self._keys
        peer = replace(peer, binding=self._transcript)
        self.result = HandshakeResult(peer, i2r, r2i, sid, self._transcript)
        self._state = "done"


class Responder:
    """The accepting side. ``receive(hs1)`` gives hs2; ``receive(hs3)`` gives hs4 and sets
    :attr:`result`. ``my_onions`` are the addresses we answer for (usually just ours)."""

    def __init__(
        self,
        me: NodeIdentity,
        now: Callable[[], float],
        *,
        randomness: HandshakeRandomness = OS_RANDOMNESS,
    ) -> None:
        self.me = me
        self.now = now
        self.result: HandshakeResult | None = None
        self._random = randomness
        self._cookie = randomness.cookie()
        self._kem = randomness.kem_key_pair()
        self._state = "wait1"
        self._hs1: tuple[bytes, bytes, bytes, bytes] = (b"", b"", b"", b"")

    def receive(self, payload: bytes) -> bytes | None:
        """Process the initiator's next message; return our reply."""
        if self._state == "wait1":
            return self._on_hs1(_expect(payload, "hs1"))
        if self._state == "wait3":
            return self._on_hs3(_expect(payload, "hs3"))
        raise HandshakeFailed(f"unexpected message in state {self._state}")

    def _on_hs1(self, f: envelope.Fields) -> bytes:
        dialled = f.str_("onion", ONION_MAX)
        if dialled and _parse_onion(f, "onion") != self.me.onion:
            raise HandshakeFailed(f"initiator dialled {dialled}, which is not this node")
        cookie_i = f.bytes_("cookie", COOKIE_LEN)
        kem_i = f.bytes_("kem", kem.PUBLIC_KEY_SIZE)
        try:
            ct_to_i, ss_to_i = self._random.encapsulate(kem_i)
        except CryptoError as exc:
            raise HandshakeFailed(f"key exchange failed: {exc}") from exc
        self._hs1 = (cookie_i, kem_i, ct_to_i, ss_to_i)
        self._state = "wait3"
        body = {
            "onion": self.me.onion,
            "cookie": self._cookie,
            "kem": self._kem.public,
            "ct": ct_to_i,
        }
        return envelope.encode("hs2", body)

    def _on_hs3(self, f: envelope.Fields) -> bytes:
        onion_i = _parse_onion(f, "onion")
        ct_to_r = f.bytes_("ct", kem.CIPHERTEXT_SIZE)
        cert_i = f.bytes_("cert", CERT_LEN)
        sig_i = f.bytes_("sig", 64)
        if onion_i == self.me.onion:
            raise HandshakeFailed("reflected handshake: initiator claims our own address")
        cookie_i, kem_i, ct_to_i, ss_to_i = self._hs1
        try:
            ss_to_r = kem.decapsulate(self._kem.secret, ct_to_r)
        except CryptoError as exc:
            raise HandshakeFailed(f"key exchange failed: {exc}") from exc
        t = transcript_hash(
            onion_i,
            self.me.onion,
            cookie_i,
            self._cookie,
            kem_i,
            self._kem.public,
            ct_to_i,
            ct_to_r,
        )
        peer = _verify_peer(onion_i, SIG_INITIATOR, t, cert_i, sig_i, int(self.now()))
        i2r, r2i, sid = derive_keys(ss_to_i, ss_to_r, t)
        peer = replace(peer, binding=t)
        self.result = HandshakeResult(peer, r2i, i2r, sid, t)
        self._state = "done"
        cert = self.me.cert.to_bytes()
        sig = self.me.node_key.sign(_signed_message(SIG_RESPONDER, t, cert))
        return envelope.encode("hs4", {"cert": cert, "sig": sig})
