"""Several devices per account: the signed device list, one-time link codes and their proofs
(sans-IO; docs/devices.md)."""

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

__all__ = [
    "CODE_PREFIX",
    "LINK_TTL",
    "MAX_ATTEMPTS",
    "MAX_DEVICES",
    "MAX_REVOKED",
    "DeviceEntry",
    "DeviceError",
    "DeviceList",
    "LinkCode",
    "LinkRefused",
    "PendingLink",
    "link_proof",
    "verification_string",
]
