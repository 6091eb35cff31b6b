"""Typed errors raised by the crypto layer."""

from __future__ import annotations


class CryptoError(Exception):
    """Base class of every error the crypto layer raises on bad input."""


class InvalidOnionAddress(CryptoError):
    """An onion address failed validation; ``reason`` names which check failed."""

    def __init__(self, address: str, reason: str) -> None:
        super().__init__(f"invalid onion address {address[:70]!r}: {reason}")
        self.address = address
        self.reason = reason


class BadSignature(CryptoError):
    """A signature did not verify under the key it claims."""


class BadCertificate(CryptoError):
    """A node certificate is malformed, expired, or not signed by its account key."""


class DecryptionFailed(CryptoError):
    """A sealed box or AEAD ciphertext did not authenticate."""
