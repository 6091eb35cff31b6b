"""Byte layouts of ratchet messages and headers (docs/protocol.md §15.5), and routing (`peek`).

::

    message = 0x01 (version) ‖ kind (1) ‖ [prefix (1160), kind 0x02 only] ‖ nonce (24)
              ‖ enc_header (2328) ‖ body (len(plaintext) + 16)
    prefix  = A_I (32) ‖ prekey id (8) ‖ EK (32) ‖ ct0 (1088)
    header  = DH (32) ‖ u32 PN ‖ u32 N ‖ KEM_PK (1184) ‖ KEM_CT (1088)        (2312 bytes)

Kind 0x01 is a ratchet message, 0x02 an initial message (the initiator's messages until it has
read one from the responder). Integers are big-endian.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

from ohtchat.crypto import kem
from ohtchat.ratchet.errors import MalformedRatchetMessage
from ohtchat.ratchet.primitives import HEADER_NONCE, TAG

VERSION = 1
KIND_RATCHET = 1
KIND_INITIAL = 2
HEADER_LEN = 32 + 4 + 4 + kem.M_PK + kem.M_CT  # 2312
ENC_HEADER_LEN = HEADER_LEN + TAG  # 2328
PREFIX_LEN = 32 + 8 + 32 + kem.M_CT  # 1160
#: Largest plaintext a message carries (a mailbox item is at most 64 KiB).
MAX_PLAINTEXT = 65536
#: Bytes a ratchet message adds to its plaintext (an initial message: + PREFIX_LEN).
OVERHEAD = 2 + HEADER_NONCE + ENC_HEADER_LEN + TAG  # 2370
AD_LABEL = b"ohtchat ratchet ad v1\x00"
HID_LABEL = b"ohtchat ratchet handshake id v1\x00"
_COUNTERS = struct.Struct(">II")


def associated_data(initiator_public: bytes, responder_public: bytes) -> bytes:
    """``AD = "ohtchat ratchet ad v1\\0" ‖ H(A_I) ‖ H(A_R)``: both account ids, initiator first."""
    return (
        AD_LABEL
        + hashlib.sha3_256(initiator_public).digest()
        + hashlib.sha3_256(responder_public).digest()
    )


@dataclass(frozen=True)
class Header:
    """A message header (encrypted on the wire under the chain's header key)."""

    dh: bytes
    pn: int
    n: int
    kem_pk: bytes
    kem_ct: bytes

    def encode(self) -> bytes:
        """``DH ‖ u32 PN ‖ u32 N ‖ KEM_PK ‖ KEM_CT``."""
        return self.dh + _COUNTERS.pack(self.pn, self.n) + self.kem_pk + self.kem_ct

    @classmethod
    def decode(cls, data: bytes) -> Header:
        """Inverse of :meth:`encode` (the AEAD already fixed the length)."""
        if len(data) != HEADER_LEN:
            raise MalformedRatchetMessage(f"header must be {HEADER_LEN} bytes")
        pn, n = _COUNTERS.unpack_from(data, 32)
        return cls(data[:32], pn, n, data[40 : 40 + kem.M_PK], data[40 + kem.M_PK :])


@dataclass(frozen=True)
class InitialPrefix:
    """What the responder needs before it can open the first header (the PQXDH values)."""

    sender: bytes
    prekey_id: bytes
    ephemeral: bytes
    kem_ct: bytes

    def encode(self) -> bytes:
        """``A_I ‖ prekey id ‖ EK ‖ ct0``."""
        return self.sender + self.prekey_id + self.ephemeral + self.kem_ct

    @classmethod
    def decode(cls, data: bytes) -> InitialPrefix:
        """Inverse of :meth:`encode`."""
        if len(data) != PREFIX_LEN:
            raise MalformedRatchetMessage(f"initial prefix must be {PREFIX_LEN} bytes")
        return cls(data[:32], data[32:40], data[40:72], data[72:])

    @property
    def handshake_id(self) -> bytes:
        """``H("ohtchat ratchet handshake id v1\\0" ‖ prefix)``: names the session it starts."""
        return hashlib.sha3_256(HID_LABEL + self.encode()).digest()


@dataclass(frozen=True)
class Parsed:
    """A message cut into its parts; ``raw`` is the whole message."""

    raw: bytes
    kind: int
    prefix: InitialPrefix | None
    nonce: bytes
    enc_header: bytes
    body: bytes

    @property
    def header_offset(self) -> int:
        """Where ``enc_header`` starts: its AEAD authenticates ``AD ‖ raw[:header_offset]``."""
        return 2 + (PREFIX_LEN if self.prefix else 0) + HEADER_NONCE

    def header_aad(self, ad: bytes) -> bytes:
        """``AD ‖`` every byte before ``enc_header``."""
        return ad + self.raw[: self.header_offset]

    def body_aad(self, ad: bytes) -> bytes:
        """``AD ‖`` every byte before the body."""
        return ad + self.raw[: self.header_offset + ENC_HEADER_LEN]


def parse(message: bytes) -> Parsed:
    """Cut a message into its parts; :class:`MalformedRatchetMessage` on a bad layout."""
    if not isinstance(message, bytes) or len(message) < 2:
        raise MalformedRatchetMessage("message too short")
    if message[0] != VERSION:
        raise MalformedRatchetMessage(f"unknown ratchet message version {message[0]}")
    kind = message[1]
    if kind not in (KIND_RATCHET, KIND_INITIAL):
        raise MalformedRatchetMessage(f"unknown ratchet message kind {kind}")
    at = 2
    prefix = None
    if kind == KIND_INITIAL:
        prefix = InitialPrefix.decode(message[at : at + PREFIX_LEN])
        at += PREFIX_LEN
    body_len = len(message) - at - HEADER_NONCE - ENC_HEADER_LEN
    if not TAG <= body_len <= MAX_PLAINTEXT + TAG:
        raise MalformedRatchetMessage(f"message of {len(message)} bytes has a bad length")
    nonce = message[at : at + HEADER_NONCE]
    enc_header = message[at + HEADER_NONCE : at + HEADER_NONCE + ENC_HEADER_LEN]
    return Parsed(message, kind, prefix, nonce, enc_header, message[-body_len:])


@dataclass(frozen=True)
class MessageInfo:
    """What a caller can learn from a message without keys, to route it (see :func:`peek`)."""

    initial: bool
    handshake_id: bytes | None
    sender: bytes | None
    prekey_id: bytes | None


def peek(message: bytes) -> MessageInfo:
    """Route a message: an initial message names its sender's account key, the prekey it used
    and its handshake id (compare with ``Session.handshake_id``); a ratchet message names
    nothing (the caller knows the peer from the session or mailbox it came through)."""
    parsed = parse(message)
    if parsed.prefix is None:
        return MessageInfo(False, None, None, None)
    p = parsed.prefix
    return MessageInfo(True, p.handshake_id, p.sender, p.prekey_id)
