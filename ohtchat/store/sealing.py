"""Key derivation (Argon2id) and sealing (XChaCha20-Poly1305 with associated data).

Every sealed blob is ``nonce(24) ‖ ciphertext+tag``. The associated data binds a blob
to where it belongs (the store id, the file name, the journal generation and record
number), so a record moved, dropped or replayed from elsewhere fails authentication.
"""

from __future__ import annotations

from dataclasses import dataclass

import nacl.bindings
import nacl.exceptions
import nacl.pwhash
import nacl.utils

KEY_BYTES = 32
SALT_BYTES = nacl.pwhash.argon2id.SALTBYTES
NONCE_BYTES = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
TAG_BYTES = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_ABYTES
OVERHEAD = NONCE_BYTES + TAG_BYTES

# Bounds a header may ask for: larger values are treated as a corrupted header rather
# than letting a damaged file make us allocate terabytes or spin for hours.
MAX_OPSLIMIT = 64
MAX_MEMLIMIT = 4 << 30


class SealError(Exception):
    """A sealed blob did not authenticate (wrong key, wrong place, or damaged)."""


@dataclass(frozen=True)
class KdfParams:
    """Argon2id cost parameters; stored in the plaintext header of every store."""

    opslimit: int
    memlimit: int

    @classmethod
    def default(cls) -> KdfParams:
        """libsodium's *interactive* limits (~70 ms, 64 MiB here): a fast cold open."""
        return cls(
            nacl.pwhash.argon2id.OPSLIMIT_INTERACTIVE, nacl.pwhash.argon2id.MEMLIMIT_INTERACTIVE
        )

    @classmethod
    def moderate(cls) -> KdfParams:
        """libsodium's *moderate* limits (~0.5 s, 256 MiB): stronger, slower to open."""
        return cls(nacl.pwhash.argon2id.OPSLIMIT_MODERATE, nacl.pwhash.argon2id.MEMLIMIT_MODERATE)

    @classmethod
    def minimum(cls) -> KdfParams:
        """The smallest limits libsodium accepts: for tests only, offers no protection."""
        return cls(nacl.pwhash.argon2id.OPSLIMIT_MIN, nacl.pwhash.argon2id.MEMLIMIT_MIN)

    def valid(self) -> bool:
        """Whether libsodium accepts these limits and they are within sane bounds."""
        return (
            nacl.pwhash.argon2id.OPSLIMIT_MIN <= self.opslimit <= MAX_OPSLIMIT
            and nacl.pwhash.argon2id.MEMLIMIT_MIN <= self.memlimit <= MAX_MEMLIMIT
        )


def new_salt() -> bytes:
    """A fresh random Argon2id salt."""
    return nacl.utils.random(SALT_BYTES)


def derive_key(passphrase: str, salt: bytes, kdf: KdfParams) -> bytes:
    """The 32-byte store key: Argon2id(passphrase as UTF-8, salt, kdf)."""
    if not isinstance(passphrase, str):
        raise TypeError("passphrase must be a str")
    if not kdf.valid():
        raise ValueError(f"Argon2id parameters out of range: {kdf}")
    return bytes(
        nacl.pwhash.argon2id.kdf(
            KEY_BYTES,
            passphrase.encode("utf-8"),
            salt,
            opslimit=kdf.opslimit,
            memlimit=kdf.memlimit,
        )
    )


def seal(key: bytes, plaintext: bytes, ad: bytes) -> bytes:
    """Encrypt and authenticate ``plaintext`` (and ``ad``) under ``key``."""
    nonce = nacl.utils.random(NONCE_BYTES)
    return nonce + bytes(
        nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, ad, nonce, key)
    )


def unseal(key: bytes, blob: bytes, ad: bytes) -> bytes:
    """Inverse of :func:`seal`; raises :class:`SealError` if anything does not match."""
    if len(blob) < OVERHEAD:
        raise SealError("sealed blob too short")
    nonce, body = blob[:NONCE_BYTES], blob[NONCE_BYTES:]
    try:
        return bytes(nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(body, ad, nonce, key))
    except (nacl.exceptions.CryptoError, ValueError) as exc:
        raise SealError("authentication failed") from exc
