"""What a linked device receives: the account key, the device list, contacts, channels and
the shareable configuration — packed by the existing device, checked field by field by the
new one before anything is stored.

msgpack ``{v: 1, account: {name, seed, created}, devices: bin (the DeviceList value),
contacts: [...], channels: [...], config: {key: value}}``; every bound is below. Ratchet states
are not part of it: they belong to each device.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ohtchat.config import Config, ConfigError, Value
from ohtchat.crypto.keys import AccountKey, account_id
from ohtchat.devices import DeviceError, DeviceList
from ohtchat.store.records import Channel, Contact, channel_to_doc, contact_to_doc
from ohtchat.wire.envelope import pack, unpack
from ohtchat.wire.errors import MalformedMessage

BUNDLE_VERSION = 1
MAX_CONTACTS = 4096
MAX_CHANNELS = 1024
MAX_MEMBERS = 256
MAX_CONFIG = 256
MAX_ONIONS = 16
MAX_DEVICE_LIST = 64 * 1024
#: Configuration kept per device: where files go, how this machine reaches the ring and tor,
#: the node's timers and logging (first dotted part, or the whole key).
LOCAL_CONFIG = ("bootstrap", "files.dir", "tor", "chord", "dht", "node", "log", "listen", "webui")

_HEX64 = re.compile(r"[0-9a-f]{64}")
_CHANNEL_ID = re.compile(r"[0-9a-f]{1,64}")


class BundleError(ValueError):
    """The bundle is malformed; the message names the field."""


@dataclass(frozen=True)
class Bundle:
    """A checked bundle: the account to adopt and what to import."""

    name: str
    seed: bytes
    created: float
    devices: DeviceList
    contacts: tuple[Contact, ...]
    channels: tuple[Channel, ...]
    config: tuple[tuple[str, Value], ...]


def shared_config(items: Iterable[tuple[str, Value]]) -> list[tuple[str, Value]]:
    """The settings that travel to a linked device (not the :data:`LOCAL_CONFIG` ones)."""
    return [
        (k, v) for k, v in items if not any(k == p or k.startswith(p + ".") for p in LOCAL_CONFIG)
    ]


def pack_bundle(
    name: str,
    key: AccountKey,
    created: float,
    devices: DeviceList,
    contacts: Iterable[Contact],
    channels: Iterable[Channel],
    config: Iterable[tuple[str, Value]],
) -> bytes:
    """The bundle as bytes (the host sends it in parts)."""
    return pack(
        {
            "v": BUNDLE_VERSION,
            "account": {"name": name, "seed": key.seed, "created": created},
            "devices": devices.to_value(),
            "contacts": [_contact_wire(c) for c in list(contacts)[:MAX_CONTACTS]],
            "channels": [_channel_wire(c) for c in list(channels)[:MAX_CHANNELS]],
            "config": dict(shared_config(config)[:MAX_CONFIG]),
        }
    )


def _contact_wire(c: Contact) -> dict[str, Any]:
    return {**contact_to_doc(c), "onions": list(c.onions)[:MAX_ONIONS]}


def _channel_wire(c: Channel) -> dict[str, Any]:
    return {**channel_to_doc(c), "members": list(c.members)[:MAX_MEMBERS]}


# ---------------------------------------------------------------------- reading
def parse_bundle(raw: bytes, node_public: bytes, now: int) -> Bundle:
    """Check every field; the account must be the one that signed the device list, and the
    list must name ``node_public`` (this device) with a valid certificate."""
    try:
        obj = unpack(raw)
    except MalformedMessage as exc:
        raise BundleError("the bundle is not msgpack") from exc
    m = _map(obj, "bundle")
    if m.get("v") != BUNDLE_VERSION or type(m.get("v")) is not int:
        raise BundleError(f"bundle field 'v' must be {BUNDLE_VERSION}")
    acct = _map(m.get("account"), "account")
    name = _str(acct, "name", 64, "account", min_len=1)
    seed = _bytes(acct, "seed", "account", size=32)
    created = _number(acct, "created", "account")
    key = AccountKey(seed)
    devices_raw = _bytes(m, "devices", "bundle", max_len=MAX_DEVICE_LIST)
    try:
        devices = DeviceList.from_value(key.public, devices_raw)
    except DeviceError as exc:
        raise BundleError(f"bundle field 'devices' is not this account's list: {exc}") from exc
    if not devices.speaks_for(node_public, now):
        raise BundleError("the device list does not name this device with a valid certificate")
    contacts = tuple(_contact(c) for c in _list(m, "contacts", MAX_CONTACTS, "bundle"))
    channels = tuple(_channel(c) for c in _list(m, "channels", MAX_CHANNELS, "bundle"))
    config = _config(m.get("config"))
    return Bundle(name, seed, created, devices, contacts, channels, config)


def _map(v: Any, where: str) -> dict[str, Any]:
    if not isinstance(v, dict) or not all(isinstance(k, str) for k in v):
        raise BundleError(f"{where} must be a map")
    return v


def _str(m: dict[str, Any], key: str, max_len: int, where: str, *, min_len: int = 0) -> str:
    v = m.get(key)
    if not isinstance(v, str) or not min_len <= len(v) <= max_len:
        raise BundleError(f"{where} field {key!r} must be a string of {min_len}–{max_len}")
    return v


def _bytes(
    m: dict[str, Any], key: str, where: str, *, size: int | None = None, max_len: int = 64
) -> bytes:
    v = m.get(key)
    if not isinstance(v, bytes) or (size is not None and len(v) != size) or len(v) > max_len:
        want = f"{size} bytes" if size is not None else f"at most {max_len} bytes"
        raise BundleError(f"{where} field {key!r} must be {want}")
    return v


def _number(m: dict[str, Any], key: str, where: str) -> float:
    v = m.get(key)
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v < 0:
        raise BundleError(f"{where} field {key!r} must be a finite number ≥ 0")
    return float(v)


def _list(m: dict[str, Any], key: str, max_len: int, where: str) -> list[Any]:
    v = m.get(key)
    if not isinstance(v, list) or len(v) > max_len:
        raise BundleError(f"{where} field {key!r} must be an array of ≤ {max_len}")
    return v


def _hex64(m: dict[str, Any], key: str, where: str, *, empty: bool = False) -> str:
    v = m.get(key)
    if not isinstance(v, str) or not (_HEX64.fullmatch(v) or (empty and v == "")):
        raise BundleError(f"{where} field {key!r} must be 64 lowercase hex digits")
    return v


def _contact(raw: Any) -> Contact:
    c = _map(raw, "contact")
    acct = _hex64(c, "account_id", "contact")
    pub = _bytes(c, "account_public", "contact", max_len=32)
    if pub and (len(pub) != 32 or account_id(pub) != acct):
        raise BundleError("contact field 'account_public' is not the key of 'account_id'")
    onions = _list(c, "onions", MAX_ONIONS, "contact")
    if not all(isinstance(o, str) and 0 < len(o) <= 128 for o in onions):
        raise BundleError("contact field 'onions' must hold strings of 1–128")
    return Contact(
        acct,
        _str(c, "name", 128, "contact"),
        _str(c, "state", 32, "contact", min_len=1),
        _str(c, "fingerprint", 128, "contact"),
        _number(c, "added", "contact"),
        pub,
        tuple(onions),
        _str(c, "note", 1024, "contact"),
        _str(c, "verified", 128, "contact"),
    )


def _channel(raw: Any) -> Channel:
    c = _map(raw, "channel")
    cid = c.get("channel_id")
    if not isinstance(cid, str) or not _CHANNEL_ID.fullmatch(cid):
        raise BundleError("channel field 'channel_id' must be 1–64 lowercase hex digits")
    members = _list(c, "members", MAX_MEMBERS, "channel")
    if not all(isinstance(x, str) and _HEX64.fullmatch(x) for x in members):
        raise BundleError("channel field 'members' must hold account ids (64 hex digits)")
    return Channel(
        cid,
        _str(c, "name", 64, "channel"),
        tuple(members),
        _number(c, "created", "channel"),
        _hex64(c, "owner", "channel", empty=True),
        _bytes(c, "key", "channel", max_len=64),
    )


def _config(raw: Any) -> tuple[tuple[str, Value], ...]:
    m = _map(raw, "config")
    if len(m) > MAX_CONFIG:
        raise BundleError(f"bundle field 'config' must have ≤ {MAX_CONFIG} keys")
    probe = Config(Path("config.toml"))  # only its checks: never saved
    out: list[tuple[str, Value]] = []
    for key, value in m.items():
        ok_list = isinstance(value, list) and len(value) <= 64
        ok_list = ok_list and all(isinstance(s, str) and len(s) <= 1024 for s in value)
        if len(key) > 128 or (isinstance(value, str) and len(value) > 4096):
            raise BundleError(f"config field {key[:32]!r} is too long")
        if isinstance(value, list) and not ok_list:
            raise BundleError(f"config field {key!r} must be ≤ 64 strings of ≤ 1024")
        try:
            probe.set(key, value)
        except ConfigError as exc:
            raise BundleError(f"config field: {exc}") from exc
        out.append((key, value))
    return tuple(shared_config(out))
