"""The randomness injection points: fixed inputs give fixed outputs; the defaults stay random."""

from __future__ import annotations

import time

import nacl.bindings as sodium
import pytest

from ohtchat.crypto import kem
from ohtchat.crypto.errors import CryptoError
from ohtchat.session.handshake import OS_RANDOMNESS, Initiator, Responder
from ohtchat.session.identity import NodeIdentity
from tests.vectors.fixed import EncapsSeeds, FixedRandomness, KemSeeds, fixed_bytes, mlkem_keygen


def test_key_pair_from_parts_works_with_the_default_encapsulation() -> None:
    seeds = KemSeeds.named("injection key")
    ek, dk = mlkem_keygen(seeds.d, seeds.z)
    pair = kem.KemKeyPair.from_parts(seeds.x_secret, ek, dk)
    assert pair.public == bytes(sodium.crypto_scalarmult_base(seeds.x_secret)) + ek
    assert kem.KemKeyPair.from_secret(pair.secret) == pair
    ct, ss = kem.encapsulate(pair.public)  # pqcrypto, OS randomness
    assert kem.decapsulate(pair.secret, ct) == ss


def test_fixed_encapsulation_is_repeatable_and_the_default_is_not() -> None:
    pair = kem.KemKeyPair.generate()
    fixed = EncapsSeeds.named("injection encaps").encapsulator()
    assert fixed(pair.public) == fixed(pair.public)
    ct, ss = fixed(pair.public)
    assert kem.decapsulate(pair.secret, ct) == ss
    assert kem.encapsulate(pair.public) != kem.encapsulate(pair.public)
    box = kem.seal(pair.public, b"x", b"aad", encaps=fixed)
    assert box == kem.seal(pair.public, b"x", b"aad", encaps=fixed)
    assert kem.seal(pair.public, b"x", b"aad") != kem.seal(pair.public, b"x", b"aad")
    assert kem.open_sealed(pair.secret, box, b"aad") == b"x"


def test_fixed_material_of_the_wrong_size_is_refused() -> None:
    pair = kem.KemKeyPair.generate()
    with pytest.raises(CryptoError):
        kem.encapsulate(pair.public, x_secret=bytes(31))
    with pytest.raises(CryptoError):
        kem.KemKeyPair.from_parts(bytes(32), bytes(kem.M_PK), bytes(kem.M_SK - 1))


def handshake(alice: NodeIdentity, bob: NodeIdentity, fixed: bool) -> list[bytes]:
    """The four handshake messages, with fixed or OS randomness."""

    def rand(label: str) -> FixedRandomness:
        return FixedRandomness(
            fixed_bytes(label + " cookie"),
            KemSeeds.named(label + " kem"),
            EncapsSeeds.named(label + " encaps"),
        )

    i = Initiator(alice, bob.onion, time.time, randomness=rand("i") if fixed else OS_RANDOMNESS)
    r = Responder(bob, time.time, randomness=rand("r") if fixed else OS_RANDOMNESS)
    hs1 = i.start()
    hs2 = r.receive(hs1)
    assert hs2 is not None
    hs3 = i.receive(hs2)
    assert hs3 is not None
    hs4 = r.receive(hs3)
    assert hs4 is not None and i.receive(hs4) is None
    assert i.result is not None and r.result is not None
    assert i.result.send_key == r.result.recv_key and i.result.recv_key == r.result.send_key
    return [hs1, hs2, hs3, hs4]


def test_handshake_randomness_is_injectable(alice: NodeIdentity, bob: NodeIdentity) -> None:
    assert handshake(alice, bob, fixed=True) == handshake(alice, bob, fixed=True)
    first, second = handshake(alice, bob, fixed=False), handshake(alice, bob, fixed=False)
    assert all(a != b for a, b in zip(first, second, strict=True))
