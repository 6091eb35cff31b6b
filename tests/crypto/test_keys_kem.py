"""Certificates and the hybrid KEM."""

import pytest

from ohtchat.crypto import kem
from ohtchat.crypto.errors import BadCertificate, CryptoError, DecryptionFailed
from ohtchat.crypto.keys import AccountKey, NodeCertificate, NodeKey, account_id


def test_certificate_round_trip_and_verify():
    acct, node = AccountKey(), NodeKey()
    cert = acct.certify(node.public, now=1000, lifetime=100)
    again = NodeCertificate.from_bytes(cert.to_bytes())
    assert again == cert
    again.verify(node.public, now=1050)
    assert again.account_id == acct.account_id == account_id(acct.public)


def test_certificate_rejections():
    acct, node, other = AccountKey(), NodeKey(), NodeKey()
    cert = acct.certify(node.public, now=1000, lifetime=100)
    with pytest.raises(BadCertificate, match="different node"):
        cert.verify(other.public, now=1050)
    with pytest.raises(BadCertificate, match="expired"):
        cert.verify(node.public, now=1101)
    with pytest.raises(BadCertificate, match="not valid yet"):
        cert.verify(node.public, now=0)
    raw = bytearray(cert.to_bytes())
    raw[70] ^= 1  # change the issue time: the signature no longer matches
    with pytest.raises(BadCertificate, match="signature"):
        NodeCertificate.from_bytes(bytes(raw)).verify(node.public, now=1050)
    with pytest.raises(BadCertificate, match="144 bytes"):
        NodeCertificate.from_bytes(bytes(raw[:-1]))


def test_keys_restore_from_seed():
    k = NodeKey()
    assert NodeKey(k.seed).public == k.public
    assert NodeKey(k.seed).onion == k.onion


def test_kem_agrees_and_binds_ciphertext():
    kp = kem.KemKeyPair.generate()
    ct, ss = kem.encapsulate(kp.public)
    assert len(ct) == kem.CIPHERTEXT_SIZE and len(ss) == 32
    assert kem.decapsulate(kp.secret, ct) == ss
    assert kem.KemKeyPair.from_secret(kp.secret) == kp
    for pos in (0, 31, 32, 500, len(ct) - 1):  # both halves of the hybrid ciphertext matter
        bad = bytearray(ct)
        bad[pos] ^= 0x01
        assert kem.decapsulate(kp.secret, bytes(bad)) != ss


def test_kem_secret_depends_on_both_public_keys():
    kp = kem.KemKeyPair.generate()
    ct, ss = kem.encapsulate(kp.public)
    other = kem.KemKeyPair.generate()
    # Same X25519 secret, different ML-KEM half: the combiner gives a different secret.
    mixed = kp.secret[:32] + other.secret[32 : 32 + kem.M_SK] + kp.public[:32] + other.public[32:]
    assert kem.decapsulate(mixed, ct) != ss


def test_kem_rejects_malformed_input():
    with pytest.raises(CryptoError):
        kem.encapsulate(b"short")
    kp = kem.KemKeyPair.generate()
    with pytest.raises(CryptoError):
        kem.decapsulate(kp.secret, b"x" * 10)


def test_seal_and_open():
    kp = kem.KemKeyPair.generate()
    box = kem.seal(kp.public, b"offline hello", aad=b"mailbox")
    assert b"offline hello" not in box
    assert kem.open_sealed(kp.secret, box, aad=b"mailbox") == b"offline hello"
    with pytest.raises(DecryptionFailed):
        kem.open_sealed(kp.secret, box, aad=b"other")
    with pytest.raises(DecryptionFailed):
        kem.open_sealed(kem.KemKeyPair.generate().secret, box, aad=b"mailbox")
    tampered = bytearray(box)
    tampered[-1] ^= 1
    with pytest.raises(DecryptionFailed):
        kem.open_sealed(kp.secret, bytes(tampered), aad=b"mailbox")
    with pytest.raises(DecryptionFailed):
        kem.open_sealed(kp.secret, box[:100])
