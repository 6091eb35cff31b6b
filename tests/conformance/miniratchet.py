"""The first message of a double-ratchet session and the ``ratchet`` chat item, from the spec
alone (docs/protocol.md §12.4, §15.2–§15.6): the PQXDH-like agreement with the recipient's
signed prekey, the initiator's first sending turn, one initial message. No ``ohtchat`` import.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import struct
from typing import Any

import nacl.bindings as sodium
from pqcrypto.kem import ml_kem_768

from tests.conformance.minicrypto import Identity, sha3
from tests.conformance.miniwire import pack

P = 2**255 - 19


def hkdf(salt: bytes, ikm: bytes, info: bytes, length: int) -> bytes:
    """RFC 5869 with SHA-256."""
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    okm, t = b"", b""
    for i in range(1, length // 32 + 2):
        t = hmac.new(prk, t + info + bytes([i]), hashlib.sha256).digest()
        okm += t
    return okm[:length]


def x25519(secret: bytes, public: bytes) -> bytes:
    """RFC 7748's X25519."""
    return bytes(sodium.crypto_scalarmult(secret, public))


def x25519_public(secret: bytes) -> bytes:
    """X25519(secret, 9)."""
    return bytes(sodium.crypto_scalarmult_base(secret))


def identity_public(ed_public: bytes) -> bytes:
    """IK(A): the ed25519 key's Montgomery u-coordinate (1 + y) / (1 − y) (§15.2)."""
    y = int.from_bytes(ed_public, "little") & ((1 << 255) - 1)
    return ((1 + y) * pow(1 - y, P - 2, P) % P).to_bytes(32, "little")


def identity_secret(seed: bytes) -> bytes:
    """ik(a): SHA-512(seed)[0:32], clamped (§15.2)."""
    k = bytearray(hashlib.sha512(seed).digest()[:32])
    k[0] &= 248
    k[31] &= 127
    k[31] |= 64
    return bytes(k)


def initial_message(me: Identity, responder: bytes, kem_pub: bytes, plaintext: bytes) -> bytes:
    """An initial message (kind 0x02) of a new session from ``me`` to the account
    ``responder`` under its signed prekey ``kem_pub`` (checked by the caller), carrying
    ``plaintext``: §15.4, then §15.6 Encrypt from the initiator's initial state."""
    a_i, spk_x, spk_m = me.account_public, kem_pub[:32], kem_pub[32:]
    ek = os.urandom(32)
    dh1 = x25519(identity_secret(me.account.encode()), spk_x)
    dh2 = x25519(ek, identity_public(responder))
    dh3 = x25519(ek, spk_x)
    ct0, ss0 = ml_kem_768.encaps(spk_m)
    prefix = a_i + sha3(kem_pub)[:8] + x25519_public(ek) + bytes(ct0)
    salt = sha3(b"ohtchat ratchet pqxdh salt v1\x00", responder, kem_pub, prefix)
    okm = hkdf(salt, dh1 + dh2 + dh3 + bytes(ss0), b"ohtchat ratchet pqxdh v1", 96)
    sk, hk_i = okm[:32], okm[32:64]
    # The sending half of the first turn: DHr = SPK_X, KEM_PKr = SPK_M, HKs = NHKs = HK_I.
    dhs = os.urandom(32)
    kem_ek, _kem_dk = ml_kem_768.keygen()
    kem_ct, kem_ss = ml_kem_768.encaps(spk_m)
    okm = hkdf(sk, x25519(dhs, spk_x) + bytes(kem_ss), b"ohtchat ratchet root v1", 96)
    ck = okm[32:64]
    mk = hmac.new(ck, b"\x01", hashlib.sha256).digest()
    keys = hkdf(bytes(32), mk, b"ohtchat ratchet message v1", 56)
    body_key, nonce = keys[:32], keys[32:]
    header = x25519_public(dhs) + struct.pack(">II", 0, 0) + bytes(kem_ek) + bytes(kem_ct)
    assoc = b"ohtchat ratchet ad v1\x00" + sha3(a_i) + sha3(responder)
    head = b"\x01\x02" + prefix + nonce
    enc_header = bytes(
        sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(header, assoc + head, nonce, hk_i)
    )
    body = bytes(
        sodium.crypto_aead_chacha20poly1305_ietf_encrypt(
            plaintext, assoc + head + enc_header, bytes(12), body_key
        )
    )
    return head + enc_header + body


def ratchet_item(
    me: Identity, responder: bytes, kem_pub: bytes, inner: dict[str, Any]
) -> dict[str, Any]:
    """The ``ratchet`` chat item (§12.4) carrying ``inner`` (a whisper or contact item) in an
    initial message of a new session."""
    return {
        "kind": "ratchet",
        "msg_id": inner["msg_id"],
        "to": inner["to"],
        "sent_at": inner["sent_at"],
        "text": "",
        "extra": {
            "r": initial_message(me, responder, kem_pub, pack(inner)),
            "d": bytes(me.node.verify_key),  # the sending device (§12.4, protocol 5)
        },
    }
