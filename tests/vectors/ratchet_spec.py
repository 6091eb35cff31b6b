"""docs/protocol.md §15 written out a second time, from the text, for the ratchet vectors.

Every value here is computed with hashlib, hmac, libsodium's raw X25519 and AEADs, and
kyber-py's FIPS 203 internals, never with ``ohtchat.ratchet``; the vector builders then require
the production code to produce the very same bytes. Also :class:`Draws`: the fixed randomness
one side consumes (X25519 secrets, ML-KEM key generation seeds, encapsulation messages), in the
order the production code draws it.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from dataclasses import dataclass
from typing import Any

import nacl.bindings as sodium

from ohtchat.ratchet.state import RatchetState
from tests.vectors.fixed import fixed_bytes, mlkem_encaps, mlkem_keygen

P = 2**255 - 19


def sha3(data: bytes) -> bytes:
    """SHA3-256."""
    return hashlib.sha3_256(data).digest()


def hkdf(salt: bytes, ikm: bytes, info: bytes, length: int) -> bytes:
    """RFC 5869 with SHA-256."""
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    okm, t = b"", b""
    for i in range(1, length // 32 + 2):
        t = hmac.new(prk, t + info + bytes([i]), hashlib.sha256).digest()
        okm += t
    return okm[:length]


def x25519(secret: bytes, public: bytes) -> bytes:
    """X25519 (RFC 7748)."""
    return bytes(sodium.crypto_scalarmult(secret, public))


def x25519_base(secret: bytes) -> bytes:
    """X25519(secret, 9)."""
    return bytes(sodium.crypto_scalarmult_base(secret))


def montgomery(ed_public: bytes) -> bytes:
    """RFC 7748 §4.1: an ed25519 public key's u = (1 + y) / (1 − y) mod p, 32 bytes LE."""
    y = int.from_bytes(ed_public, "little") & ((1 << 255) - 1)
    u = (1 + y) * pow(1 - y, P - 2, P) % P
    return u.to_bytes(32, "little")


def identity_secret(seed: bytes) -> bytes:
    """SHA-512(seed)[0:32], clamped (as X25519 would clamp it)."""
    k = bytearray(hashlib.sha512(seed).digest()[:32])
    k[0] &= 248
    k[31] &= 127
    k[31] |= 64
    return bytes(k)


def ad(initiator: bytes, responder: bytes) -> bytes:
    """AD = "ohtchat ratchet ad v1\\0" ‖ H(A_I) ‖ H(A_R)."""
    return b"ohtchat ratchet ad v1\x00" + sha3(initiator) + sha3(responder)


@dataclass(frozen=True)
class Draws:
    """Fixed randomness: X25519 secrets, ML-KEM (d, z) seeds, ML-KEM encapsulation ``m``s."""

    x25519: tuple[bytes, ...]
    keygen: tuple[tuple[bytes, bytes], ...]
    encaps: tuple[bytes, ...]

    @classmethod
    def named(cls, label: str, nx: int, nk: int, ne: int) -> Draws:
        """Draws derived from ``label``."""
        return cls(
            tuple(fixed_bytes(f"{label} x25519 {i}") for i in range(nx)),
            tuple(
                (fixed_bytes(f"{label} mlkem d {i}"), fixed_bytes(f"{label} mlkem z {i}"))
                for i in range(nk)
            ),
            tuple(fixed_bytes(f"{label} mlkem m {i}") for i in range(ne)),
        )

    def to_json(self) -> dict[str, Any]:
        """As vector inputs (in drawing order)."""
        return {
            "x25519_secrets": [x.hex() for x in self.x25519],
            "mlkem_keygen": [{"d": d.hex(), "z": z.hex()} for d, z in self.keygen],
            "mlkem_encaps_m": [m.hex() for m in self.encaps],
        }

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Draws:
        """Inverse of :meth:`to_json`."""
        return cls(
            tuple(bytes.fromhex(x) for x in obj["x25519_secrets"]),
            tuple((bytes.fromhex(k["d"]), bytes.fromhex(k["z"])) for k in obj["mlkem_keygen"]),
            tuple(bytes.fromhex(m) for m in obj["mlkem_encaps_m"]),
        )

    def randomness(self) -> Replay:
        """A :class:`~ohtchat.ratchet.RatchetRandomness` handing these out in order."""
        return Replay(self)


class Replay:
    """Hands out a :class:`Draws` in order; :meth:`done` checks all of it was used."""

    def __init__(self, draws: Draws) -> None:
        self.x, self.k, self.e = list(draws.x25519), list(draws.keygen), list(draws.encaps)

    def x25519_secret(self) -> bytes:
        """The next X25519 secret."""
        return self.x.pop(0)

    def mlkem_key_pair(self) -> tuple[bytes, bytes]:
        """ML-KEM.KeyGen_internal(d, z) of the next seeds."""
        return mlkem_keygen(*self.k.pop(0))

    def mlkem_encapsulate(self, ek: bytes) -> tuple[bytes, bytes]:
        """ML-KEM.Encaps_internal(ek, m) of the next ``m``."""
        return mlkem_encaps(self.e.pop(0))(ek)

    def done(self) -> None:
        """:class:`AssertionError` unless every value was drawn."""
        assert not (self.x or self.k or self.e), "the code drew less randomness than given"


def pqxdh(
    seed_i: bytes, a_i: bytes, a_r: bytes, kem_pub: bytes, ek: bytes, m0: bytes
) -> dict[str, bytes]:
    """The initiator's side of §15.4, every intermediate."""
    spk_x, spk_m = kem_pub[:32], kem_pub[32:]
    ik_i, ik_r = identity_secret(seed_i), montgomery(a_r)
    dh1, dh2, dh3 = x25519(ik_i, spk_x), x25519(ek, ik_r), x25519(ek, spk_x)
    ct0, ss0 = mlkem_encaps(m0)(spk_m)
    prefix = a_i + sha3(kem_pub)[:8] + x25519_base(ek) + ct0
    salt = sha3(b"ohtchat ratchet pqxdh salt v1\x00" + a_r + kem_pub + prefix)
    okm = hkdf(salt, dh1 + dh2 + dh3 + ss0, b"ohtchat ratchet pqxdh v1", 96)
    return {
        "identity_secret_i": ik_i,
        "identity_public_r": ik_r,
        "ephemeral_public": x25519_base(ek),
        "dh1": dh1,
        "dh2": dh2,
        "dh3": dh3,
        "ct0": ct0,
        "ss0": ss0,
        "prefix": prefix,
        "handshake_id": sha3(b"ohtchat ratchet handshake id v1\x00" + prefix),
        "salt": salt,
        "sk": okm[:32],
        "hk_i": okm[32:64],
        "hk_r": okm[64:],
    }


def send_chain(state: RatchetState, draws: Draws, plaintexts: list[bytes]) -> dict[str, Any]:
    """§15.6 encrypt from a state whose sending chain is not started: the sending half of a
    turn (one X25519 secret, one ML-KEM key pair, one encapsulation), then one message per
    plaintext. Every intermediate, and the messages."""
    assert state.cks is None and state.dhr is not None and state.kemr is not None
    assert state.nhks is not None
    dhs, (d, z), m = draws.x25519[0], draws.keygen[0], draws.encaps[0]
    kem_ek, _ = mlkem_keygen(d, z)
    kem_ct, kem_ss = mlkem_encaps(m)(state.kemr)
    dh = x25519(dhs, state.dhr)
    okm = hkdf(state.rk, dh + kem_ss, b"ohtchat ratchet root v1", 96)
    rk, ck, nhk = okm[:32], okm[32:64], okm[64:]
    first, second = (state.own, state.peer) if state.initiator else (state.peer, state.own)
    assoc = ad(first, second)
    out: dict[str, Any] = {
        "ratchet_public": x25519_base(dhs),
        "ratchet_dh": dh,
        "kem_public": kem_ek,
        "kem_ct": kem_ct,
        "kem_ss": kem_ss,
        "rk": rk,
        "ck": ck,
        "nhk": nhk,
        "header_key": state.nhks,
        "ad": assoc,
        "steps": [],
    }
    for n, plaintext in enumerate(plaintexts):
        mk = hmac.new(ck, b"\x01", hashlib.sha256).digest()
        ck = hmac.new(ck, b"\x02", hashlib.sha256).digest()
        keys = hkdf(bytes(32), mk, b"ohtchat ratchet message v1", 56)
        body_key, nonce = keys[:32], keys[32:]
        header = x25519_base(dhs) + struct.pack(">II", state.ns, n) + kem_ek + kem_ct
        kind = b"\x01\x02" + state.pre if state.pre else b"\x01\x01"
        head = kind + nonce
        enc_header = bytes(
            sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
                header, assoc + head, nonce, state.nhks
            )
        )
        body = bytes(
            sodium.crypto_aead_chacha20poly1305_ietf_encrypt(
                plaintext, assoc + head + enc_header, bytes(12), body_key
            )
        )
        out["steps"].append(
            {
                "n": n,
                "mk": mk,
                "body_key": body_key,
                "header_nonce": nonce,
                "header": header,
                "header_aad": assoc + head,
                "enc_header": enc_header,
                "message": head + enc_header + body,
            }
        )
    return out
