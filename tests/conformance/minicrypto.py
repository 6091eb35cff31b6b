"""The crypto of a second implementation, written from docs/protocol.md §1–2 and docs/dht.md.

Only the standard library, PyNaCl and pqcrypto's ML-KEM-768: nothing from ``ohtchat``. Onion
addresses, node and account ids, node certificates, the hybrid KEM with its combiner, and the
sealed box.
"""

from __future__ import annotations

import base64
import hashlib
import struct
import time
from dataclasses import dataclass

import nacl.bindings as sodium
import nacl.signing
from nacl.exceptions import BadSignatureError
from pqcrypto.kem import ml_kem_768

CERT_LABEL = b"ohtchat node certificate v1\x00"
CERT_LEN = 144
KEM_LABEL = b"ohtchat hybrid kem v1: X25519+ML-KEM-768"
KEM_PUBLIC = 32 + 1184
KEM_CIPHERTEXT = 32 + 1088
SEAL_VERSION = 1
CLOCK_SKEW = 300


class SpecViolation(Exception):
    """The node under test sent something the spec does not allow."""


def sha3(*parts: bytes) -> bytes:
    """``H``: SHA3-256 of the concatenation."""
    return hashlib.sha3_256(b"".join(parts)).digest()


# ---------------------------------------------------------------------- identities (§1)
def onion_address(node_public: bytes) -> str:
    """``base32(N ‖ CHECKSUM ‖ 0x03).lower() + ".onion"``."""
    checksum = sha3(b".onion checksum", node_public, b"\x03")[:2]
    return base64.b32encode(node_public + checksum + b"\x03").decode().lower() + ".onion"


def onion_key(onion: str) -> bytes:
    """The node key ``N`` inside a v3 onion address, after the §1 validation."""
    label = onion.lower().removesuffix(".onion")
    if len(label) != 56 or any(c not in "abcdefghijklmnopqrstuvwxyz234567" for c in label):
        raise SpecViolation(f"not a v3 onion address: {onion!r}")
    raw = base64.b32decode(label.upper())
    key, checksum, version = raw[:32], raw[32:34], raw[34]
    if version != 3 or checksum != sha3(b".onion checksum", key, b"\x03")[:2]:
        raise SpecViolation(f"bad onion version or checksum: {onion!r}")
    return key


def node_id(node_public: bytes) -> int:
    """A node's ring position: ``int(H(N))``."""
    return int.from_bytes(sha3(node_public), "big")


def onion_id(onion: str) -> int:
    """The ring position of whoever owns ``onion``."""
    return node_id(onion_key(onion))


def account_id(account_public: bytes) -> str:
    """Hex of ``H(A)``."""
    return sha3(account_public).hex()


def verify(public: bytes, message: bytes, signature: bytes) -> bool:
    """Whether an ed25519 signature verifies."""
    try:
        nacl.signing.VerifyKey(public).verify(message, signature)
    except (BadSignatureError, ValueError):
        return False
    return True


def make_certificate(
    account: nacl.signing.SigningKey, node_public: bytes, issued: int, expires: int
) -> bytes:
    """``A ‖ N ‖ issued ‖ expires ‖ Sign_A(label ‖ A ‖ N ‖ issued ‖ expires)``."""
    body = bytes(account.verify_key) + node_public + struct.pack(">QQ", issued, expires)
    return body + account.sign(CERT_LABEL + body).signature


def check_certificate(cert: bytes, node_public: bytes, now: float) -> bytes:
    """The account key of a certificate valid for ``node_public`` at ``now`` (§1)."""
    if len(cert) != CERT_LEN:
        raise SpecViolation(f"certificate of {len(cert)} bytes")
    issued, expires = struct.unpack(">QQ", cert[64:80])
    if cert[32:64] != node_public:
        raise SpecViolation("certificate names another node key")
    if not verify(cert[:32], CERT_LABEL + cert[:80], cert[80:]):
        raise SpecViolation("certificate signature does not verify")
    if not issued <= now + CLOCK_SKEW or not now <= expires:
        raise SpecViolation("certificate not valid now")
    return cert[:32]


@dataclass(frozen=True)
class Identity:
    """A node key, the account that certifies it, and the certificate."""

    node: nacl.signing.SigningKey
    account: nacl.signing.SigningKey
    cert: bytes

    @classmethod
    def fresh(cls) -> Identity:
        """A new account and node key, certified from now for a day."""
        node, account = nacl.signing.SigningKey.generate(), nacl.signing.SigningKey.generate()
        now = int(time.time())
        cert = make_certificate(account, bytes(node.verify_key), now, now + 86400)
        return cls(node, account, cert)

    @property
    def node_public(self) -> bytes:
        """``N``."""
        return bytes(self.node.verify_key)

    @property
    def account_public(self) -> bytes:
        """``A``."""
        return bytes(self.account.verify_key)

    @property
    def onion(self) -> str:
        """Our onion address."""
        return onion_address(self.node_public)

    @property
    def id(self) -> int:
        """Our ring id."""
        return node_id(self.node_public)

    @property
    def account_id(self) -> str:
        """Our account id (64 hex digits)."""
        return account_id(self.account_public)

    def sign_node(self, message: bytes) -> bytes:
        """``Sign_N(message)``."""
        return self.node.sign(message).signature

    def sign_account(self, message: bytes) -> bytes:
        """``Sign_A(message)``."""
        return self.account.sign(message).signature


# ---------------------------------------------------------------------- hybrid KEM (§2)
@dataclass(frozen=True)
class KemPair:
    """A hybrid key pair: ``public = pk_X ‖ pk_M``."""

    public: bytes
    x_secret: bytes
    m_secret: bytes

    @classmethod
    def generate(cls) -> KemPair:
        """Fresh X25519 and ML-KEM-768 keys."""
        x_pk, x_sk = sodium.crypto_box_keypair()
        m_pk, m_sk = ml_kem_768.keygen()
        return cls(bytes(x_pk) + bytes(m_pk), bytes(x_sk), bytes(m_sk))


def _combine(
    ss_m: bytes, ss_x: bytes, e_pub: bytes, pk_x: bytes, ct_m: bytes, pk_m: bytes
) -> bytes:
    return sha3(KEM_LABEL, ss_m, ss_x, e_pub, pk_x, sha3(ct_m), sha3(pk_m))


def encapsulate(public: bytes) -> tuple[bytes, bytes]:
    """``(E ‖ ct_M, ss)`` for the holder of ``public``."""
    if len(public) != KEM_PUBLIC:
        raise SpecViolation(f"KEM public key of {len(public)} bytes")
    pk_x, pk_m = public[:32], public[32:]
    e_pub, e_sec = sodium.crypto_box_keypair()
    ss_x = sodium.crypto_scalarmult(bytes(e_sec), pk_x)
    ct_m, ss_m = ml_kem_768.encaps(pk_m)
    return bytes(e_pub) + bytes(ct_m), _combine(ss_m, ss_x, bytes(e_pub), pk_x, ct_m, pk_m)


def decapsulate(pair: KemPair, ciphertext: bytes) -> bytes:
    """The shared secret inside ``ciphertext``."""
    if len(ciphertext) != KEM_CIPHERTEXT:
        raise SpecViolation(f"KEM ciphertext of {len(ciphertext)} bytes")
    e_pub, ct_m = ciphertext[:32], ciphertext[32:]
    ss_x = sodium.crypto_scalarmult(pair.x_secret, e_pub)
    ss_m = ml_kem_768.decaps(pair.m_secret, ct_m)
    return _combine(ss_m, ss_x, e_pub, pair.public[:32], ct_m, pair.public[32:])


def seal(public: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """The sealed box: ``0x01 ‖ kem_ct ‖ ChaCha20-Poly1305(k, 0¹², plaintext, 0x01 ‖ aad)``."""
    kem_ct, ss = encapsulate(public)
    key = sha3(b"ohtchat seal v1\x00", ss, sha3(kem_ct))
    version = bytes([SEAL_VERSION])
    body = sodium.crypto_aead_chacha20poly1305_ietf_encrypt(
        plaintext, version + aad, bytes(12), key
    )
    return version + kem_ct + bytes(body)
