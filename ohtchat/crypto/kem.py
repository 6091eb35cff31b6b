"""Hybrid post-quantum KEM: X25519 + ML-KEM-768 with an X-Wing-style combiner.

The shared secret binds both component secrets, both ciphertexts and both public keys::

    ss = SHA3-256(LABEL ‖ ss_mlkem ‖ ss_x25519 ‖ ct_x25519 ‖ pk_x25519
                  ‖ SHA3-256(ct_mlkem) ‖ SHA3-256(pk_mlkem))

(X-Wing hashes ``ss_M ‖ ss_X ‖ ct_X ‖ pk_X ‖ label``; we additionally bind the ML-KEM ciphertext
and public key, by hash, as the issue asks.) An attacker must break *both* X25519 and ML-KEM-768
to learn ``ss``.

Also :func:`seal` / :func:`open_sealed`: encrypt to a public KEM key (offline messages and
``/encrypt``), and plain ML-KEM-768 (:func:`mlkem_key_pair`, :func:`mlkem_encapsulate`,
:func:`mlkem_decapsulate`) for the KEM step of the double ratchet (``ohtchat/ratchet``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

import nacl.bindings as sodium
from nacl.exceptions import CryptoError as NaclCryptoError
from pqcrypto.kem import ml_kem_768 as mlkem

from ohtchat.crypto.errors import CryptoError, DecryptionFailed

LABEL = b"ohtchat hybrid kem v1: X25519+ML-KEM-768"
X_PK = 32
M_PK = 1184
M_SK = 2400
M_CT = 1088
PUBLIC_KEY_SIZE = X_PK + M_PK  # 1216
SECRET_KEY_SIZE = 32 + M_SK + PUBLIC_KEY_SIZE  # x sk ‖ m sk ‖ pk (pk kept for the combiner)
CIPHERTEXT_SIZE = X_PK + M_CT  # 1120
SHARED_SECRET_SIZE = 32
X_SK = 32

#: An ML-KEM-768 encapsulation ``pk_M → (ct_M, ss_M)``; pqcrypto's (OS randomness) by default.
MlKemEncaps = Callable[[bytes], tuple[bytes, bytes]]
#: A hybrid encapsulation ``public → (ciphertext, shared secret)``, like :func:`encapsulate`.
Encapsulate = Callable[[bytes], tuple[bytes, bytes]]


def _combine(ss_m: bytes, ss_x: bytes, ct_x: bytes, pk_x: bytes, ct_m: bytes, pk_m: bytes) -> bytes:
    h = hashlib.sha3_256()
    for part in (
        LABEL,
        ss_m,
        ss_x,
        ct_x,
        pk_x,
        hashlib.sha3_256(ct_m).digest(),
        hashlib.sha3_256(pk_m).digest(),
    ):
        h.update(part)
    return h.digest()


@dataclass(frozen=True)
class KemKeyPair:
    """A hybrid key pair; ``public`` is 1216 bytes, ``secret`` 3648 bytes."""

    public: bytes
    secret: bytes

    @classmethod
    def generate(cls) -> KemKeyPair:
        """A fresh key pair (X25519 from libsodium, ML-KEM-768 from pqcrypto)."""
        x_pk, x_sk = sodium.crypto_box_keypair()
        m_pk, m_sk = mlkem.keygen()
        public = bytes(x_pk) + bytes(m_pk)
        return cls(public, bytes(x_sk) + bytes(m_sk) + public)

    @classmethod
    def from_parts(cls, x_secret: bytes, mlkem_public: bytes, mlkem_secret: bytes) -> KemKeyPair:
        """A key pair from fixed material: an X25519 secret and an ML-KEM-768 key pair
        (``ek``, ``dk`` of FIPS 203). For test vectors; :meth:`generate` makes real keys."""
        if (len(x_secret), len(mlkem_public), len(mlkem_secret)) != (X_SK, M_PK, M_SK):
            raise CryptoError(f"KEM parts must be {X_SK}, {M_PK} and {M_SK} bytes")
        public = bytes(sodium.crypto_scalarmult_base(x_secret)) + mlkem_public
        return cls(public, x_secret + mlkem_secret + public)

    @classmethod
    def from_secret(cls, secret: bytes) -> KemKeyPair:
        """Rebuild a key pair from its stored secret."""
        if len(secret) != SECRET_KEY_SIZE:
            raise CryptoError(f"KEM secret key must be {SECRET_KEY_SIZE} bytes")
        return cls(secret[32 + M_SK :], secret)


def check_public_key(public: bytes) -> None:
    """Raise :class:`CryptoError` if ``public`` is not a well-formed hybrid public key."""
    if not isinstance(public, bytes) or len(public) != PUBLIC_KEY_SIZE:
        raise CryptoError(f"KEM public key must be {PUBLIC_KEY_SIZE} bytes")


def encapsulate(
    public: bytes, *, x_secret: bytes | None = None, mlkem_encaps: MlKemEncaps | None = None
) -> tuple[bytes, bytes]:
    """``(ciphertext, shared_secret)`` for the holder of ``public``.

    The randomness is fresh from the OS unless given: ``x_secret`` is the X25519 ephemeral
    secret ``e`` and ``mlkem_encaps`` the ML-KEM-768 encapsulation (test vectors fix both).
    """
    check_public_key(public)
    pk_x, pk_m = public[:X_PK], public[X_PK:]
    if x_secret is None:
        e_pk, e_sk = sodium.crypto_box_keypair()
    elif len(x_secret) == X_SK:
        e_pk, e_sk = sodium.crypto_scalarmult_base(x_secret), x_secret
    else:
        raise CryptoError(f"X25519 ephemeral secret must be {X_SK} bytes")
    try:
        ss_x = sodium.crypto_scalarmult(bytes(e_sk), pk_x)
        ct_m, ss_m = (mlkem_encaps or mlkem.encaps)(pk_m)
    except (NaclCryptoError, RuntimeError, ValueError) as exc:
        raise CryptoError("KEM public key rejected") from exc
    ct_x = bytes(e_pk)
    return ct_x + ct_m, _combine(ss_m, ss_x, ct_x, pk_x, ct_m, pk_m)


def decapsulate(secret: bytes, ciphertext: bytes) -> bytes:
    """The shared secret inside ``ciphertext``. ML-KEM decapsulation never fails (implicit
    rejection): a forged ciphertext yields an unrelated secret and the AEAD that uses it fails."""
    if len(secret) != SECRET_KEY_SIZE:
        raise CryptoError(f"KEM secret key must be {SECRET_KEY_SIZE} bytes")
    if not isinstance(ciphertext, bytes) or len(ciphertext) != CIPHERTEXT_SIZE:
        raise CryptoError(f"KEM ciphertext must be {CIPHERTEXT_SIZE} bytes")
    x_sk, m_sk, public = secret[:32], secret[32 : 32 + M_SK], secret[32 + M_SK :]
    ct_x, ct_m = ciphertext[:X_PK], ciphertext[X_PK:]
    try:
        ss_x = sodium.crypto_scalarmult(x_sk, ct_x)
        ss_m = mlkem.decaps(m_sk, ct_m)
    except (NaclCryptoError, RuntimeError, ValueError) as exc:
        raise CryptoError("KEM ciphertext rejected") from exc
    return _combine(ss_m, ss_x, ct_x, public[:X_PK], ct_m, public[X_PK:])


# --- ML-KEM-768 on its own (the KEM step of the double ratchet, ohtchat/ratchet) -------------


def mlkem_key_pair() -> tuple[bytes, bytes]:
    """A fresh ML-KEM-768 key pair ``(ek, dk)``: 1184 and 2400 bytes (pqcrypto, OS randomness)."""
    ek, dk = mlkem.keygen()
    return bytes(ek), bytes(dk)


def mlkem_encapsulate(ek: bytes) -> tuple[bytes, bytes]:
    """``(ct, ss)``: a fresh ML-KEM-768 encapsulation to ``ek`` (1088 and 32 bytes).

    :class:`CryptoError` if ``ek`` is not a well-formed encapsulation key (FIPS 203's input check).
    """
    if not isinstance(ek, bytes) or len(ek) != M_PK:
        raise CryptoError(f"ML-KEM-768 public key must be {M_PK} bytes")
    try:
        ct, ss = mlkem.encaps(ek)
    except (RuntimeError, ValueError) as exc:
        raise CryptoError("ML-KEM-768 public key rejected") from exc
    return bytes(ct), bytes(ss)


def mlkem_decapsulate(dk: bytes, ct: bytes) -> bytes:
    """The 32-byte ML-KEM-768 shared secret in ``ct``. Never fails on a forged ciphertext
    (implicit rejection: an unrelated secret comes out); :class:`CryptoError` on wrong sizes."""
    if len(dk) != M_SK or not isinstance(ct, bytes) or len(ct) != M_CT:
        raise CryptoError(f"ML-KEM-768 secret key and ciphertext must be {M_SK} and {M_CT} bytes")
    try:
        return bytes(mlkem.decaps(dk, ct))
    except (RuntimeError, ValueError) as exc:
        raise CryptoError("ML-KEM-768 decapsulation failed") from exc


# --- sealed boxes: encrypt to a public KEM key ---------------------------------------------

SEAL_VERSION = 1
SEAL_OVERHEAD = 1 + CIPHERTEXT_SIZE + 16


def _seal_key(ss: bytes, kem_ct: bytes) -> bytes:
    return hashlib.sha3_256(
        b"ohtchat seal v1\x00" + ss + hashlib.sha3_256(kem_ct).digest()
    ).digest()


def seal(
    public: bytes, plaintext: bytes, aad: bytes = b"", *, encaps: Encapsulate = encapsulate
) -> bytes:
    """Encrypt ``plaintext`` so only the holder of the KEM secret for ``public`` can read it.

    Format: ``0x01 ‖ kem ciphertext (1120) ‖ ChaCha20-Poly1305(key, nonce=0, plaintext, aad)``.
    The key is fresh for every box, so the all-zero nonce is never reused. ``encaps`` is
    :func:`encapsulate` with OS randomness unless a test vector fixes it.
    """
    kem_ct, ss = encaps(public)
    key = _seal_key(ss, kem_ct)
    body = sodium.crypto_aead_chacha20poly1305_ietf_encrypt(
        plaintext, bytes([SEAL_VERSION]) + aad, bytes(12), key
    )
    return bytes([SEAL_VERSION]) + kem_ct + body


def open_sealed(secret: bytes, box: bytes, aad: bytes = b"") -> bytes:
    """Decrypt a box made by :func:`seal`; :class:`DecryptionFailed` if it does not authenticate."""
    if not isinstance(box, bytes) or len(box) < SEAL_OVERHEAD:
        raise DecryptionFailed("sealed box too short")
    if box[0] != SEAL_VERSION:
        raise DecryptionFailed(f"unknown sealed box version {box[0]}")
    kem_ct = box[1 : 1 + CIPHERTEXT_SIZE]
    key = _seal_key(decapsulate(secret, kem_ct), kem_ct)
    try:
        return bytes(
            sodium.crypto_aead_chacha20poly1305_ietf_decrypt(
                box[1 + CIPHERTEXT_SIZE :], bytes([SEAL_VERSION]) + aad, bytes(12), key
            )
        )
    except NaclCryptoError as exc:
        raise DecryptionFailed("sealed box does not authenticate") from exc
