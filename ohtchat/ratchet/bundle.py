"""The signed prekey bundle a session starts from (docs/protocol.md §15.3).

The bundle is the account's signed hybrid prekey exactly as the presence record publishes it
(§12.2: ``kem_pub`` and ``kem_sig``), so no new record is needed::

    bundle    = 0x01 ‖ A (32) ‖ kem_pub (1216 = SPK_X 32 ‖ SPK_M 1184) ‖ kem_sig (64)
    kem_sig   = Sign_A("ohtchat kem prekey v1\\0" ‖ kem_pub)
    prekey id = H(kem_pub)[0:8]

``SPK_X`` is an X25519 prekey and ``SPK_M`` an ML-KEM-768 encapsulation key; the secret half is
the account's :class:`~ohtchat.crypto.kem.KemKeyPair`. No one-time prekeys (see §15.3).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from ohtchat.crypto import kem
from ohtchat.crypto.errors import BadSignature
from ohtchat.crypto.keys import AccountKey, account_id, verify_signature
from ohtchat.ratchet.errors import BadBundle
from ohtchat.ratchet.primitives import KeyRejected, identity_public

BUNDLE_VERSION = 1
#: The presence record's prekey signature label (docs/protocol.md §12.2).
PREKEY_LABEL = b"ohtchat kem prekey v1\x00"
PREKEY_ID_LEN = 8
BUNDLE_LEN = 1 + 32 + kem.PUBLIC_KEY_SIZE + 64  # 1313


def prekey_id(kem_public: bytes) -> bytes:
    """The 8-byte id of a prekey: ``H(kem_pub)[0:8]``; initial messages name it."""
    return hashlib.sha3_256(kem_public).digest()[:PREKEY_ID_LEN]


@dataclass(frozen=True)
class PrekeyBundle:
    """An account's verified signed prekey: what an initiator needs to start a session."""

    account_public: bytes
    kem_public: bytes
    signature: bytes

    def __post_init__(self) -> None:
        if len(self.account_public) != 32 or len(self.signature) != 64:
            raise BadBundle("account key must be 32 bytes and the signature 64")
        if len(self.kem_public) != kem.PUBLIC_KEY_SIZE:
            raise BadBundle(f"prekey must be {kem.PUBLIC_KEY_SIZE} bytes")
        try:
            verify_signature(self.account_public, PREKEY_LABEL + self.kem_public, self.signature)
        except BadSignature as exc:
            raise BadBundle("prekey signature does not verify") from exc
        try:
            identity_public(self.account_public)
        except KeyRejected as exc:
            raise BadBundle(str(exc)) from exc

    @classmethod
    def sign(cls, account: AccountKey, prekey: kem.KemKeyPair) -> PrekeyBundle:
        """The bundle of ``account``'s ``prekey`` (ed25519 signatures are deterministic, so this
        equals the presence record's ``kem_sig``)."""
        return cls(account.public, prekey.public, account.sign(PREKEY_LABEL + prekey.public))

    @classmethod
    def from_bytes(cls, data: bytes) -> PrekeyBundle:
        """Parse and verify the 1313-byte encoding; :class:`BadBundle` on any problem."""
        if not isinstance(data, bytes) or len(data) != BUNDLE_LEN:
            raise BadBundle(f"bundle must be {BUNDLE_LEN} bytes")
        if data[0] != BUNDLE_VERSION:
            raise BadBundle(f"unknown bundle version {data[0]}")
        return cls(data[1:33], data[33 : 33 + kem.PUBLIC_KEY_SIZE], data[-64:])

    def to_bytes(self) -> bytes:
        """``0x01 ‖ A ‖ kem_pub ‖ kem_sig``."""
        return bytes([BUNDLE_VERSION]) + self.account_public + self.kem_public + self.signature

    @property
    def prekey_id(self) -> bytes:
        """The id initial messages use to name this prekey."""
        return prekey_id(self.kem_public)

    @property
    def x25519_prekey(self) -> bytes:
        """``SPK_X``: the X25519 prekey."""
        return self.kem_public[: kem.X_PK]

    @property
    def mlkem_prekey(self) -> bytes:
        """``SPK_M``: the ML-KEM-768 prekey (encapsulation key)."""
        return self.kem_public[kem.X_PK :]

    @property
    def account_id(self) -> str:
        """The account id (hex) of the bundle's owner."""
        return account_id(self.account_public)
