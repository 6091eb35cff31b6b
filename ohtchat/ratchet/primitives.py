"""The ratchet's primitives and key derivations (docs/protocol.md §15.1–15.2), all pure.

* X25519 (RFC 7748, libsodium); an account's ed25519 key doubles as its X25519 identity key
  through the birational map of RFC 7748 §4.1 (libsodium's ``crypto_sign_ed25519_*_to_curve25519``).
* ML-KEM-768 (FIPS 203) through :mod:`ohtchat.crypto.kem`.
* HKDF-SHA256 (RFC 5869) for the root and message keys, HMAC-SHA256 for the chain keys.
* Headers: XChaCha20-Poly1305; bodies: ChaCha20-Poly1305 (IETF), both from libsodium.

Randomness comes through :class:`RatchetRandomness` so test vectors can fix it.
"""

from __future__ import annotations

import hmac
from typing import Protocol

import nacl.bindings as sodium
from nacl.exceptions import CryptoError as NaclCryptoError

from ohtchat.crypto import kem
from ohtchat.crypto.errors import CryptoError

KEY = 32
HEADER_NONCE = 24
TAG = 16
ZERO_SALT = bytes(32)

LABEL_PQXDH = b"ohtchat ratchet pqxdh v1"
LABEL_ROOT = b"ohtchat ratchet root v1"
LABEL_MESSAGE = b"ohtchat ratchet message v1"


class KeyRejected(Exception):
    """A public key or ciphertext is unusable (low-order point, malformed ML-KEM key)."""


class AeadFailed(Exception):
    """An AEAD ciphertext did not authenticate."""


# --------------------------------------------------------------------------- KDFs


def hkdf(salt: bytes, ikm: bytes, info: bytes, length: int) -> bytes:
    """HKDF-SHA256 (RFC 5869): extract with ``salt``, expand to ``length`` bytes with ``info``."""
    prk = hmac.digest(salt, ikm, "sha256")
    out, block = b"", b""
    for i in range(1, -(-length // 32) + 1):
        block = hmac.digest(prk, block + info + bytes([i]), "sha256")
        out += block
    return out[:length]


def kdf_pqxdh(salt: bytes, dh1: bytes, dh2: bytes, dh3: bytes, ss: bytes) -> tuple[bytes, ...]:
    """``(SK, HK_I, HK_R)`` of the initial key agreement: HKDF(salt, DH1‖DH2‖DH3‖ss, 96)."""
    okm = hkdf(salt, dh1 + dh2 + dh3 + ss, LABEL_PQXDH, 96)
    return okm[:32], okm[32:64], okm[64:]


def kdf_root(rk: bytes, dh: bytes, ss: bytes) -> tuple[bytes, bytes, bytes]:
    """``(RK', CK, NHK)``: one turn of the root chain, hybrid: HKDF(salt=RK, DH ‖ ss, 96)."""
    okm = hkdf(rk, dh + ss, LABEL_ROOT, 96)
    return okm[:32], okm[32:64], okm[64:]


def kdf_chain(ck: bytes) -> tuple[bytes, bytes]:
    """``(MK, CK')``: MK = HMAC-SHA256(CK, 0x01), CK' = HMAC-SHA256(CK, 0x02) (Signal)."""
    return hmac.digest(ck, b"\x01", "sha256"), hmac.digest(ck, b"\x02", "sha256")


def message_keys(mk: bytes) -> tuple[bytes, bytes]:
    """``(body key, header nonce)`` of a message key: HKDF(zero salt, MK, 56) split 32 / 24."""
    okm = hkdf(ZERO_SALT, mk, LABEL_MESSAGE, KEY + HEADER_NONCE)
    return okm[:KEY], okm[KEY:]


# --------------------------------------------------------------------------- X25519


def x25519(secret: bytes, public: bytes) -> bytes:
    """X25519(secret, public); :class:`KeyRejected` when the result is all zero."""
    try:
        return bytes(sodium.crypto_scalarmult(secret, public))
    except (NaclCryptoError, RuntimeError, ValueError, TypeError) as exc:
        raise KeyRejected("X25519 result rejected (low-order point)") from exc


def x25519_public(secret: bytes) -> bytes:
    """The X25519 public key of ``secret``."""
    return bytes(sodium.crypto_scalarmult_base(secret))


def identity_public(account_public: bytes) -> bytes:
    """An ed25519 account public key as an X25519 public key (RFC 7748 §4.1 map)."""
    try:
        return bytes(sodium.crypto_sign_ed25519_pk_to_curve25519(account_public))
    except (NaclCryptoError, RuntimeError, ValueError, TypeError) as exc:
        raise KeyRejected("account key is not a usable ed25519 point") from exc


def identity_secret(account_seed: bytes, account_public: bytes) -> bytes:
    """An ed25519 account secret as an X25519 secret: SHA-512(seed)[0:32] (clamped by X25519)."""
    return bytes(sodium.crypto_sign_ed25519_sk_to_curve25519(account_seed + account_public))


# --------------------------------------------------------------------------- ML-KEM-768


def kem_decapsulate(dk: bytes, ct: bytes) -> bytes:
    """ML-KEM-768 decapsulation (implicit rejection: a forged ``ct`` gives an unrelated secret)."""
    try:
        return kem.mlkem_decapsulate(dk, ct)
    except CryptoError as exc:
        raise KeyRejected(str(exc)) from exc


# --------------------------------------------------------------------------- AEADs


def seal_header(hk: bytes, nonce: bytes, header: bytes, aad: bytes) -> bytes:
    """XChaCha20-Poly1305(hk, 24-byte nonce, header, aad)."""
    return bytes(sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(header, aad, nonce, hk))


def open_header(hk: bytes, nonce: bytes, enc_header: bytes, aad: bytes) -> bytes | None:
    """The header, or ``None`` when ``hk`` does not open it."""
    try:
        return bytes(sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(enc_header, aad, nonce, hk))
    except NaclCryptoError:
        return None


def seal_body(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """ChaCha20-Poly1305-IETF(key, nonce = 12 zero bytes, plaintext, aad); the key is used once."""
    return bytes(sodium.crypto_aead_chacha20poly1305_ietf_encrypt(plaintext, aad, bytes(12), key))


def open_body(key: bytes, body: bytes, aad: bytes) -> bytes:
    """Inverse of :func:`seal_body`; :class:`AeadFailed` if it does not authenticate."""
    try:
        return bytes(sodium.crypto_aead_chacha20poly1305_ietf_decrypt(body, aad, bytes(12), key))
    except NaclCryptoError as exc:
        raise AeadFailed("message body does not authenticate") from exc


# --------------------------------------------------------------------------- randomness


class RatchetRandomness(Protocol):
    """Where the ratchet gets fresh values; :data:`OS_RANDOMNESS` unless a test fixes them."""

    def x25519_secret(self) -> bytes:
        """32 fresh bytes: an X25519 secret (the initiator's ephemeral, or a ratchet key)."""
        ...

    def mlkem_key_pair(self) -> tuple[bytes, bytes]:
        """A fresh ML-KEM-768 key pair ``(ek, dk)``."""
        ...

    def mlkem_encapsulate(self, ek: bytes) -> tuple[bytes, bytes]:
        """``(ct, ss)``: a fresh ML-KEM-768 encapsulation to ``ek``."""
        ...


class OsRandomness:
    """Fresh values from the OS (libsodium, pqcrypto): what every real session uses."""

    def x25519_secret(self) -> bytes:
        """A fresh X25519 secret from libsodium."""
        _, secret = sodium.crypto_box_keypair()
        return bytes(secret)

    def mlkem_key_pair(self) -> tuple[bytes, bytes]:
        """A fresh ML-KEM-768 key pair from pqcrypto."""
        return kem.mlkem_key_pair()

    def mlkem_encapsulate(self, ek: bytes) -> tuple[bytes, bytes]:
        """A fresh ML-KEM-768 encapsulation from pqcrypto."""
        return kem.mlkem_encapsulate(ek)


OS_RANDOMNESS: RatchetRandomness = OsRandomness()
