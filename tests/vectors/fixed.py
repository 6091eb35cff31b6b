"""Fixed randomness for the test vectors, fed through the production code's injection points.

pqcrypto (the runtime ML-KEM-768) draws its own randomness, so the deterministic ML-KEM parts
come from kyber-py's FIPS 203 internal functions (``ML-KEM.KeyGen_internal(d, z)``,
``ML-KEM.Encaps_internal(ek, m)``). kyber-py is a test-only dependency: nothing under
``ohtchat/`` imports it. :func:`check_mlkem_agrees` proves the two implementations agree.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass

from kyber_py.ml_kem import ML_KEM_768
from pqcrypto.kem import ml_kem_768 as pq_mlkem

from ohtchat.crypto import kem


def fixed_bytes(label: str, n: int = 32) -> bytes:
    """``n`` bytes determined by ``label`` (SHAKE-256): every input of every vector."""
    return hashlib.shake_256(b"ohtchat test vector\x00" + label.encode()).digest(n)


def mlkem_keygen(d: bytes, z: bytes) -> tuple[bytes, bytes]:
    """``(ek, dk)``: the ML-KEM-768 key pair of the seeds ``d`` and ``z`` (FIPS 203 Alg. 16)."""
    ek, dk = ML_KEM_768._keygen_internal(d, z)
    return ek, dk


def mlkem_encaps(m: bytes) -> kem.MlKemEncaps:
    """An ML-KEM-768 encapsulation with the fixed message ``m`` (FIPS 203 Alg. 17)."""

    def encaps(ek: bytes) -> tuple[bytes, bytes]:
        shared, ciphertext = ML_KEM_768._encaps_internal(ek, m)  # kyber-py returns (K, c)
        return ciphertext, shared

    return encaps


def check_mlkem_agrees(dk: bytes, ciphertext: bytes, shared: bytes) -> None:
    """pqcrypto decapsulates kyber-py's ciphertext with kyber-py's key to the same secret."""
    if pq_mlkem.decaps(dk, ciphertext) != shared:
        raise AssertionError("pqcrypto and kyber-py disagree on an ML-KEM-768 secret")


@dataclass(frozen=True)
class KemSeeds:
    """The fixed material of one hybrid key pair: X25519 secret, ML-KEM seeds ``d`` and ``z``."""

    x_secret: bytes
    d: bytes
    z: bytes

    @classmethod
    def named(cls, label: str) -> KemSeeds:
        """Seeds derived from ``label``."""
        return cls(
            fixed_bytes(label + " x25519"), fixed_bytes(label + " d"), fixed_bytes(label + " z")
        )

    def key_pair(self) -> kem.KemKeyPair:
        """The production key pair built from these seeds."""
        ek, dk = mlkem_keygen(self.d, self.z)
        return kem.KemKeyPair.from_parts(self.x_secret, ek, dk)

    def to_json(self) -> dict[str, str]:
        """The seeds as vector inputs."""
        return {
            "x25519_secret": self.x_secret.hex(),
            "mlkem_d": self.d.hex(),
            "mlkem_z": self.z.hex(),
        }

    @classmethod
    def from_json(cls, obj: dict[str, str]) -> KemSeeds:
        """Inverse of :meth:`to_json`."""
        return cls(*(bytes.fromhex(obj[k]) for k in ("x25519_secret", "mlkem_d", "mlkem_z")))


@dataclass(frozen=True)
class EncapsSeeds:
    """The fixed randomness of one hybrid encapsulation: ephemeral X25519 ``e``, ML-KEM ``m``."""

    e: bytes
    m: bytes

    @classmethod
    def named(cls, label: str) -> EncapsSeeds:
        """Seeds derived from ``label``."""
        return cls(fixed_bytes(label + " e"), fixed_bytes(label + " m"))

    def encapsulator(self) -> kem.Encapsulate:
        """The production :func:`kem.encapsulate` with this randomness."""
        return functools.partial(
            kem.encapsulate, x_secret=self.e, mlkem_encaps=mlkem_encaps(self.m)
        )

    def to_json(self) -> dict[str, str]:
        """The seeds as vector inputs."""
        return {"x25519_ephemeral_secret": self.e.hex(), "mlkem_m": self.m.hex()}

    @classmethod
    def from_json(cls, obj: dict[str, str]) -> EncapsSeeds:
        """Inverse of :meth:`to_json`."""
        return cls(bytes.fromhex(obj["x25519_ephemeral_secret"]), bytes.fromhex(obj["mlkem_m"]))


@dataclass(frozen=True)
class FixedRandomness:
    """A :class:`~ohtchat.session.handshake.HandshakeRandomness` with fixed values."""

    cookie_bytes: bytes
    kem_seeds: KemSeeds
    encaps_seeds: EncapsSeeds

    def cookie(self) -> bytes:
        """The fixed cookie."""
        return self.cookie_bytes

    def kem_key_pair(self) -> kem.KemKeyPair:
        """The fixed ephemeral key pair."""
        return self.kem_seeds.key_pair()

    def encapsulate(self, public: bytes) -> tuple[bytes, bytes]:
        """The fixed encapsulation to the peer's key."""
        return self.encaps_seeds.encapsulator()(public)
