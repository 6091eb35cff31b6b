"""Several devices per account: the signed device list, device presence, one-time link codes
and their proofs (sans-IO; docs/devices.md)."""

from ohtchat.devices.devicelist import MAX_DEVICES, MAX_REVOKED, DeviceEntry, DeviceList
from ohtchat.devices.errors import DeviceError, LinkRefused
from ohtchat.devices.link import (
    CODE_PREFIX,
    LINK_TTL,
    MAX_ATTEMPTS,
    LinkCode,
    PendingLink,
    link_proof,
    verification_string,
)
from ohtchat.devices.presence import DevicePresence, device_presence_key

__all__ = [
    "CODE_PREFIX",
    "LINK_TTL",
    "MAX_ATTEMPTS",
    "MAX_DEVICES",
    "MAX_REVOKED",
    "DeviceEntry",
    "DeviceError",
    "DeviceList",
    "DevicePresence",
    "LinkCode",
    "LinkRefused",
    "PendingLink",
    "device_presence_key",
    "link_proof",
    "verification_string",
]
