"""Device presence: where one device of an account can be reached, signed by the device itself.

Stored under ``devpresence:<account id>:<node id>`` (both 64 hex digits). The DHT binds a key
ending in a 64-hex id to the signer whose SHA3-256 is that id (docs/protocol.md §10), and a
node id is SHA3-256 of the node key, so only the device's own node key can write its presence.
The value is msgpack ``{v: 1, name, cert, onion, addr, kem_pub, kem_sig, ts}``: ``cert`` binds
the node key to the account, ``kem_sig`` is the *node* key's signature over the device's KEM
prekey (the account key stays on the primary: docs/devices.md). A reader also checks the
account's device list: a revoked or unlisted device has no presence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ohtchat.crypto import kem
from ohtchat.crypto.errors import BadCertificate, BadSignature, CryptoError
from ohtchat.crypto.keys import CERT_LEN, NodeCertificate, account_id, verify_signature
from ohtchat.crypto.onion import onion_address
from ohtchat.devices.devicelist import DeviceList
from ohtchat.devices.errors import DeviceError
from ohtchat.wire.envelope import pack, unpack
from ohtchat.wire.errors import MalformedMessage

#: Domain separator of a device's signature over its KEM prekey.
DEVICE_PREKEY_LABEL = b"ohtchat device prekey v1\x00"

_FIELDS: dict[str, tuple[type, ...]] = {
    "name": (str,),
    "cert": (bytes,),
    "onion": (str,),
    "addr": (str,),
    "kem_pub": (bytes,),
    "kem_sig": (bytes,),
    "ts": (int, float),
}


def device_presence_key(acct_id: str, node_public: bytes) -> bytes:
    """The DHT key of a device's presence: ``devpresence:<account id>:<node id>``."""
    return f"devpresence:{acct_id}:{account_id(node_public)}".encode()


def prekey_message(kem_pub: bytes) -> bytes:
    """What the device's node key signs over its KEM prekey."""
    return DEVICE_PREKEY_LABEL + kem_pub


@dataclass(frozen=True)
class DevicePresence:
    """A verified presence of one device."""

    account_id: str
    node_public: bytes
    cert: NodeCertificate
    name: str
    onion: str
    address: str
    kem_pub: bytes
    kem_sig: bytes
    ts: float

    def to_value(self) -> bytes:
        """The DHT value (msgpack)."""
        return pack(
            {
                "v": 1,
                "name": self.name,
                "cert": self.cert.to_bytes(),
                "onion": self.onion,
                "addr": self.address,
                "kem_pub": self.kem_pub,
                "kem_sig": self.kem_sig,
                "ts": self.ts,
            }
        )

    @classmethod
    def from_value(
        cls, acct_id: str, owner: bytes, value: bytes, devices: DeviceList, now: int
    ) -> DevicePresence:
        """Verify and decode a device presence read for ``acct_id`` whose DHT record is
        signed by ``owner``, against the account's current device list."""
        obj = _fields(value)
        cert = _cert(obj["cert"], acct_id, owner, now)
        if onion_address(owner) != obj["onion"]:
            raise DeviceError("device presence field 'onion' is not the signer's address")
        if devices.account_public != cert.account_public:
            raise DeviceError("the device list is another account's")
        if devices.is_revoked(owner):
            raise DeviceError("device revoked")
        if not devices.speaks_for(owner, now):
            raise DeviceError("the device is not in the account's device list")
        try:
            verify_signature(owner, prekey_message(obj["kem_pub"]), obj["kem_sig"])
            kem.check_public_key(obj["kem_pub"])
        except BadSignature as exc:
            raise DeviceError("device presence field 'kem_sig' does not verify") from exc
        except CryptoError as exc:
            raise DeviceError(f"device presence field 'kem_pub': {exc}") from exc
        return cls(
            acct_id,
            owner,
            cert,
            obj["name"][:64],
            obj["onion"],
            obj["addr"][:255],
            obj["kem_pub"],
            obj["kem_sig"],
            float(obj["ts"]),
        )


def _fields(value: bytes) -> dict[str, Any]:
    try:
        obj = unpack(value)
    except MalformedMessage as exc:
        raise DeviceError("device presence is not msgpack") from exc
    if not isinstance(obj, dict) or obj.get("v") != 1 or type(obj.get("v")) is not int:
        raise DeviceError("device presence field 'v' must be 1")
    for name, types in _FIELDS.items():
        v = obj.get(name)
        if v is None or isinstance(v, bool) or not isinstance(v, types):
            kinds = " or ".join(t.__name__ for t in types)
            raise DeviceError(f"device presence field {name!r} must be {kinds}")
    return obj


def _cert(raw: bytes, acct_id: str, owner: bytes, now: int) -> NodeCertificate:
    if len(raw) != CERT_LEN:
        raise DeviceError(f"device presence field 'cert' must be {CERT_LEN} bytes")
    cert = NodeCertificate.from_bytes(raw)
    if cert.account_id != acct_id:
        raise DeviceError("device presence field 'cert' is for another account")
    try:
        cert.verify(owner, now)
    except BadCertificate as exc:
        raise DeviceError(f"device presence field 'cert': {exc}") from exc
    return cert
