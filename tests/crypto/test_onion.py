"""Onion address derivation and validation (rend-spec-v3 §6)."""

import base64
import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ohtchat.crypto.errors import InvalidOnionAddress
from ohtchat.crypto.ids import node_id
from ohtchat.crypto.keys import NodeKey
from ohtchat.crypto.onion import (
    add_onion_key_blob,
    expanded_secret_key,
    is_onion_address,
    normalize_onion,
    onion_address,
    pubkey_from_onion,
)

# rend-spec-v3 / Tor's test vectors: this key and address appear in tor's own test suite
# (src/test/test_hs_common.c, test_build_address).
TOR_TEST_PUBKEY = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
TOR_TEST_ADDRESS = "25njqamcweflpvkl73j4szahhihoc4xt3ktcgjnpaingr5yhkenl5sid.onion"


def test_known_address_from_tor_test_vector():
    assert onion_address(TOR_TEST_PUBKEY) == TOR_TEST_ADDRESS
    assert pubkey_from_onion(TOR_TEST_ADDRESS) == TOR_TEST_PUBKEY


def test_address_layout_is_pubkey_checksum_version():
    key = NodeKey(bytes(range(32)))
    raw = base64.b32decode(key.onion.removesuffix(".onion").upper())
    assert raw[:32] == key.public
    assert raw[32:34] == hashlib.sha3_256(b".onion checksum" + key.public + b"\x03").digest()[:2]
    assert raw[34] == 3


@given(st.binary(min_size=32, max_size=32))
def test_round_trip_any_key(pub):
    addr = onion_address(pub)
    assert len(addr) == 62
    assert pubkey_from_onion(addr) == pub
    assert pubkey_from_onion(addr.upper().removesuffix(".ONION")) == pub
    assert normalize_onion(addr.upper()) == addr


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda a: a[:-7] + ".onion", "length"),
        (lambda a: "1" + a[1:], "outside base32"),
        (lambda a: a[:10] + "!" + a[11:], "outside base32"),
        (lambda a: "", "length"),
    ],
)
def test_rejections_name_their_reason(mutate, reason):
    with pytest.raises(InvalidOnionAddress, match=reason):
        pubkey_from_onion(mutate(TOR_TEST_ADDRESS))


def _with(pub: bytes, checksum: bytes, version: int) -> str:
    return base64.b32encode(pub + checksum + bytes([version])).decode().lower() + ".onion"


def test_bad_checksum_rejected():
    good = hashlib.sha3_256(b".onion checksum" + TOR_TEST_PUBKEY + b"\x03").digest()[:2]
    bad = bytes([good[0] ^ 1, good[1]])
    with pytest.raises(InvalidOnionAddress, match="checksum"):
        pubkey_from_onion(_with(TOR_TEST_PUBKEY, bad, 3))


def test_wrong_version_rejected():
    checksum = hashlib.sha3_256(b".onion checksum" + TOR_TEST_PUBKEY + b"\x02").digest()[:2]
    with pytest.raises(InvalidOnionAddress, match="version 2"):
        pubkey_from_onion(_with(TOR_TEST_PUBKEY, checksum, 2))


def test_non_string_rejected():
    with pytest.raises(InvalidOnionAddress):
        pubkey_from_onion(b"abc")  # type: ignore[arg-type]
    assert not is_onion_address("example.com")


def test_expanded_key_matches_nacl_scalar():
    # The low half of the expanded key is the clamped scalar; its base point multiple is the
    # public key, which is what tor computes from the ADD_ONION blob.
    import nacl.bindings

    key = NodeKey()
    exp = expanded_secret_key(key.seed)
    assert len(exp) == 64
    assert nacl.bindings.crypto_scalarmult_ed25519_base_noclamp(exp[:32]) == key.public
    blob = add_onion_key_blob(key.seed)
    assert blob.startswith("ED25519-V3:")
    assert base64.b64decode(blob.split(":", 1)[1]) == exp


def test_node_id_is_sha3_of_key():
    key = NodeKey()
    assert node_id(key.public) == int.from_bytes(hashlib.sha3_256(key.public).digest(), "big")
    assert 0 <= node_id(key.public) < 2**256
