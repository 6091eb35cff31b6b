"""The device list of an account: which node keys speak for it, and which were revoked.

Stored in the DHT as the value of ``devices:<account id>`` (a key bound to the account, so only
the account key writes it) — msgpack ``{v: 1, devices: [{cert, name, added}], revoked:
[node public key]}``. A reader checks every certificate against the account and keeps the list
with the highest record ``seq`` it ever saw (docs/devices.md). Revocation is permanent: a
revoked key never comes back into ``devices``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ohtchat.crypto.errors import BadCertificate
from ohtchat.crypto.keys import CERT_LEN, NodeCertificate
from ohtchat.devices.errors import DeviceError
from ohtchat.wire.envelope import pack, unpack
from ohtchat.wire.errors import MalformedMessage

#: Devices an account may list at once.
MAX_DEVICES = 16
#: Revoked node keys a list remembers (the oldest are forgotten past this: their
#: certificates have long expired by then).
MAX_REVOKED = 256
MAX_NAME = 64


@dataclass(frozen=True)
class DeviceEntry:
    """One device: its node certificate (signed by the account), a name and when it was added."""

    cert: NodeCertificate
    name: str
    added: int

    @property
    def node_public(self) -> bytes:
        """The device's node (onion) public key."""
        return self.cert.node_public

    def to_wire(self) -> dict[str, Any]:
        """The entry as a msgpack map."""
        return {"cert": self.cert.to_bytes(), "name": self.name, "added": self.added}


@dataclass(frozen=True)
class DeviceList:
    """An account's devices and revoked node keys (immutable: changes return a new list)."""

    account_public: bytes
    devices: tuple[DeviceEntry, ...] = ()
    revoked: tuple[bytes, ...] = ()

    def to_value(self) -> bytes:
        """The DHT value (msgpack)."""
        return pack(
            {
                "v": 1,
                "devices": [d.to_wire() for d in self.devices],
                "revoked": list(self.revoked),
            }
        )

    @classmethod
    def from_value(cls, account_public: bytes, value: bytes) -> DeviceList:
        """Decode and verify a list read for the account holding ``account_public``.

        Every certificate must be the account's and its signature verify; no key may appear
        twice or be both listed and revoked. An expired certificate keeps its entry (the
        primary renews it) but does not speak for the account (:meth:`speaks_for`).
        """
        try:
            obj = unpack(value)
        except MalformedMessage as exc:
            raise DeviceError("device list is not msgpack") from exc
        if not isinstance(obj, dict) or obj.get("v") != 1 or type(obj.get("v")) is not int:
            raise DeviceError("device list field 'v' must be 1")
        raw_devices, raw_revoked = obj.get("devices"), obj.get("revoked")
        if not isinstance(raw_devices, list) or len(raw_devices) > MAX_DEVICES:
            raise DeviceError(f"device list field 'devices' must be an array of ≤ {MAX_DEVICES}")
        if not isinstance(raw_revoked, list) or len(raw_revoked) > MAX_REVOKED:
            raise DeviceError(f"device list field 'revoked' must be an array of ≤ {MAX_REVOKED}")
        revoked = tuple(_key(k, "revoked") for k in raw_revoked)
        devices = tuple(_entry(d, account_public) for d in raw_devices)
        result = cls(account_public, devices, revoked)
        result.check()
        return result

    def check(self) -> None:
        """:class:`DeviceError` if a key is listed twice or is both listed and revoked."""
        keys = [d.node_public for d in self.devices]
        if len(set(keys)) != len(keys) or len(set(self.revoked)) != len(self.revoked):
            raise DeviceError("device list names a node key twice")
        if set(keys) & set(self.revoked):
            raise DeviceError("device list names a node key both as a device and as revoked")

    def find(self, node_public: bytes) -> DeviceEntry | None:
        """The entry of a listed device, or ``None``."""
        return next((d for d in self.devices if d.node_public == node_public), None)

    def is_revoked(self, node_public: bytes) -> bool:
        """Whether the node key was revoked."""
        return node_public in self.revoked

    def speaks_for(self, node_public: bytes, now: int) -> bool:
        """Whether the node key is a current, unexpired device of the account."""
        entry = self.find(node_public)
        if entry is None:
            return False
        try:
            entry.cert.verify(node_public, now)
        except BadCertificate:
            return False
        return True

    def add(self, cert: NodeCertificate, name: str, now: int) -> DeviceList:
        """The list with a newly certified device (replacing an entry for the same key)."""
        if cert.account_public != self.account_public:
            raise DeviceError("the certificate is for another account")
        if self.is_revoked(cert.node_public):
            raise DeviceError("this device was revoked; a revoked key cannot be linked again")
        others = tuple(d for d in self.devices if d.node_public != cert.node_public)
        if len(others) >= MAX_DEVICES:
            raise DeviceError(f"an account has at most {MAX_DEVICES} devices: /unlink one first")
        entry = DeviceEntry(cert, name.strip()[:MAX_NAME] or "device", now)
        return DeviceList(self.account_public, (*others, entry), self.revoked)

    def revoke(self, node_public: bytes) -> DeviceList:
        """The list without that device, its key remembered as revoked."""
        if self.find(node_public) is None:
            raise DeviceError("no such device in the list")
        devices = tuple(d for d in self.devices if d.node_public != node_public)
        revoked = (*self.revoked, node_public)[-MAX_REVOKED:]
        return DeviceList(self.account_public, devices, revoked)

    def remove(self, node_public: bytes) -> DeviceList:
        """The list without that device, not revoked (a device that moved to a new node key
        with ``/newonions`` drops its old entry this way)."""
        devices = tuple(d for d in self.devices if d.node_public != node_public)
        return DeviceList(self.account_public, devices, self.revoked)

    def merge(self, other: DeviceList) -> DeviceList:
        """Both lists in one: every revoked key of either stays revoked, every other device of
        either is listed (the newer entry for a key wins). Devices of one account may change
        the list at once; merging before each write makes their writes converge."""
        if other.account_public != self.account_public:
            raise DeviceError("cannot merge the device lists of two accounts")
        revoked = tuple(dict.fromkeys((*self.revoked, *other.revoked)))[-MAX_REVOKED:]
        gone = set(revoked)
        entries: dict[bytes, DeviceEntry] = {}
        for d in (*self.devices, *other.devices):
            known = entries.get(d.node_public)
            if d.node_public not in gone and (known is None or d.cert.issued > known.cert.issued):
                entries[d.node_public] = d
        devices = tuple(sorted(entries.values(), key=lambda d: (d.added, d.node_public)))
        return DeviceList(self.account_public, devices[:MAX_DEVICES], revoked)


def _key(raw: Any, where: str) -> bytes:
    if not isinstance(raw, bytes) or len(raw) != 32:
        raise DeviceError(f"device list field {where!r}: a node key is 32 bytes")
    return raw


def _entry(raw: Any, account_public: bytes) -> DeviceEntry:
    if not isinstance(raw, dict):
        raise DeviceError("device list field 'devices': an entry is a map")
    cert_raw, name, added = raw.get("cert"), raw.get("name"), raw.get("added")
    if not isinstance(cert_raw, bytes) or len(cert_raw) != CERT_LEN:
        raise DeviceError(f"device entry field 'cert' must be {CERT_LEN} bytes")
    if not isinstance(name, str) or len(name) > MAX_NAME:
        raise DeviceError(f"device entry field 'name' must be a string of ≤ {MAX_NAME}")
    if type(added) is not int or added < 0:
        raise DeviceError("device entry field 'added' must be a non-negative integer")
    cert = NodeCertificate.from_bytes(cert_raw)
    if cert.account_public != account_public:
        raise DeviceError("device entry field 'cert' is for another account")
    try:
        # The signature and the validity window's order, whatever the time now.
        cert.verify(cert.node_public, cert.issued)
    except BadCertificate as exc:
        raise DeviceError(f"device entry field 'cert' does not verify: {exc}") from exc
    return DeviceEntry(cert, name, added)
