"""The ratchet's primitives against published values and an independent computation, and the
plain ML-KEM-768 helpers added to ohtchat/crypto/kem.py."""

from __future__ import annotations

import pytest

from ohtchat.crypto import kem
from ohtchat.crypto.errors import CryptoError
from ohtchat.crypto.keys import AccountKey
from ohtchat.ratchet.primitives import (
    KeyRejected,
    hkdf,
    identity_public,
    identity_secret,
    x25519,
    x25519_public,
)
from tests.vectors.ratchet_spec import identity_secret as spec_identity_secret
from tests.vectors.ratchet_spec import montgomery


def test_hkdf_matches_rfc5869_test_case_1() -> None:
    okm = hkdf(bytes(range(13)), b"\x0b" * 22, bytes(range(0xF0, 0xFA)), 42)
    assert okm.hex() == (
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
    )


def test_the_account_key_as_an_x25519_identity() -> None:
    a, b = AccountKey(), AccountKey()
    assert identity_public(a.public) == montgomery(a.public)
    ik_a = identity_secret(a.seed, a.public)
    assert ik_a == spec_identity_secret(a.seed)
    assert x25519_public(ik_a) == identity_public(a.public)
    ik_b = identity_secret(b.seed, b.public)
    assert x25519(ik_a, identity_public(b.public)) == x25519(ik_b, identity_public(a.public))
    with pytest.raises(KeyRejected):
        identity_public(b"\x01" + bytes(31))  # the neutral point: small order
    with pytest.raises(KeyRejected):
        x25519(ik_a, bytes(32))


def test_plain_mlkem_helpers() -> None:
    ek, dk = kem.mlkem_key_pair()
    assert (len(ek), len(dk)) == (kem.M_PK, kem.M_SK)
    ct, ss = kem.mlkem_encapsulate(ek)
    assert len(ct) == kem.M_CT and kem.mlkem_decapsulate(dk, ct) == ss
    forged = bytes([ct[0] ^ 1]) + ct[1:]
    assert kem.mlkem_decapsulate(dk, forged) != ss  # implicit rejection, no error
    for bad in (b"\xff" * kem.M_PK, ek[:-1]):
        with pytest.raises(CryptoError):
            kem.mlkem_encapsulate(bad)
    with pytest.raises(CryptoError):
        kem.mlkem_decapsulate(dk, ct[:-1])
