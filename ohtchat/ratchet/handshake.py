"""The initial key agreement, PQXDH-like (docs/protocol.md §15.4).

The initiator I holds its account key (ed25519 ``a``/``A_I``, used as X25519 ``ik_I``/``IK_I``)
and the responder R's bundle (``A_R``, ``SPK_X``, ``SPK_M``)::

    DH1 = X25519(ik_I, SPK_X)        DH2 = X25519(ek, IK_R)        DH3 = X25519(ek, SPK_X)
    (ct0, ss0) = ML-KEM-768.Encaps(SPK_M)
    prefix = A_I ‖ prekey id ‖ EK ‖ ct0
    salt = H("ohtchat ratchet pqxdh salt v1\\0" ‖ A_R ‖ SPK_X ‖ SPK_M ‖ prefix)
    SK, HK_I, HK_R = HKDF(salt, DH1 ‖ DH2 ‖ DH3 ‖ ss0, "ohtchat ratchet pqxdh v1", 96)

R computes the same from its account key, its prekey secrets and the prefix.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from ohtchat.crypto import kem
from ohtchat.crypto.errors import CryptoError
from ohtchat.crypto.keys import AccountKey
from ohtchat.ratchet.bundle import PrekeyBundle, prekey_id
from ohtchat.ratchet.errors import BadBundle, MalformedRatchetMessage, UnknownPrekey
from ohtchat.ratchet.message import InitialPrefix
from ohtchat.ratchet.primitives import (
    KeyRejected,
    RatchetRandomness,
    identity_public,
    identity_secret,
    kdf_pqxdh,
    kem_decapsulate,
    x25519,
    x25519_public,
)

SALT_LABEL = b"ohtchat ratchet pqxdh salt v1\x00"


@dataclass(frozen=True)
class Agreement:
    """The outcome of the initial key agreement (with its intermediates, for test vectors)."""

    prefix: InitialPrefix
    dh1: bytes
    dh2: bytes
    dh3: bytes
    ss0: bytes
    salt: bytes
    sk: bytes
    hk_i: bytes
    hk_r: bytes


def _agree(
    prefix: InitialPrefix, responder: bytes, kem_public: bytes, dhs: tuple[bytes, ...], ss0: bytes
) -> Agreement:
    salt = hashlib.sha3_256(SALT_LABEL + responder + kem_public + prefix.encode()).digest()
    sk, hk_i, hk_r = kdf_pqxdh(salt, dhs[0], dhs[1], dhs[2], ss0)
    return Agreement(prefix, dhs[0], dhs[1], dhs[2], ss0, salt, sk, hk_i, hk_r)


def initiator_agreement(
    me: AccountKey, bundle: PrekeyBundle, randomness: RatchetRandomness
) -> Agreement:
    """I's side: draws ``ek`` and the ML-KEM encapsulation; :class:`BadBundle` if a key in the
    bundle is unusable."""
    ek = randomness.x25519_secret()
    try:
        ik_r = identity_public(bundle.account_public)
        dh1 = x25519(identity_secret(me.seed, me.public), bundle.x25519_prekey)
        dh2 = x25519(ek, ik_r)
        dh3 = x25519(ek, bundle.x25519_prekey)
        ct0, ss0 = randomness.mlkem_encapsulate(bundle.mlkem_prekey)
    except (KeyRejected, CryptoError) as exc:
        raise BadBundle(f"unusable prekey bundle: {exc}") from exc
    prefix = InitialPrefix(me.public, bundle.prekey_id, x25519_public(ek), ct0)
    return _agree(prefix, bundle.account_public, bundle.kem_public, (dh1, dh2, dh3), ss0)


def responder_agreement(me: AccountKey, prekey: kem.KemKeyPair, prefix: InitialPrefix) -> Agreement:
    """R's side, from its account key, the prekey the prefix names and the prefix."""
    if prefix.prekey_id != prekey_id(prekey.public):
        raise UnknownPrekey("the initial message names another prekey")
    spk_x = prekey.secret[: kem.X_SK]
    spk_m = prekey.secret[kem.X_SK : kem.X_SK + kem.M_SK]
    try:
        dh1 = x25519(spk_x, identity_public(prefix.sender))
        dh2 = x25519(identity_secret(me.seed, me.public), prefix.ephemeral)
        dh3 = x25519(spk_x, prefix.ephemeral)
        ss0 = kem_decapsulate(spk_m, prefix.kem_ct)
    except KeyRejected as exc:
        raise MalformedRatchetMessage(f"unusable key in the initial prefix: {exc}") from exc
    return _agree(prefix, me.public, prekey.public, (dh1, dh2, dh3), ss0)
