"""The devices of accounts: our device list in the DHT, verified reads of others', and where
each device is.

``devices:<account id>`` (bound to the account key, so only the account writes it) holds the
signed :class:`~ohtchat.devices.DeviceList` (docs/devices.md): the node keys that speak for the
account, and the revoked ones. Every device of an account holds the account key, so any of them
may write it; each write first merges the list in the DHT (revocations are permanent), so
concurrent writers converge and a device can never list itself again once revoked. Each device
publishes its own presence record under ``device:<node id>:<account id>``, and a reader keeps
the highest record ``seq`` it saw per account and refuses an older list, so a holder that
replays the list from before an unlink gains nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from ohtchat.chat.accounts import LocalAccount
from ohtchat.chat.errors import ChatError
from ohtchat.chat.ports import Now
from ohtchat.chat.presence import DhtApi, Presence, PresenceError, parse_presence
from ohtchat.crypto.ids import node_id
from ohtchat.crypto.keys import account_id
from ohtchat.devices import DeviceEntry, DeviceError, DeviceList
from ohtchat.session.identity import PeerIdentity
from ohtchat.store import Store

#: Lifetime of the device list record (republished with presence, well before it expires).
DEVICES_TTL = 7 * 24 * 3600
#: Renew our own device's certificate in the list when it expires within this (seconds).
RENEW_BEFORE = 30 * 24 * 3600
#: How long (seconds) another account's list is used before the DHT is asked again.
LIST_CACHE = 300.0
#: How long (seconds) a device's presence is used before the DHT is asked again.
PRESENCE_CACHE = 60.0
#: Store setting: the node key this device last listed itself with (``/newonions`` moves it).
SELF_SETTING = "devices.self"


def devices_key(acct_id: str) -> bytes:
    """The DHT key of an account's device list."""
    return b"devices:" + acct_id.encode()


def device_key(acct_id: str, node_public: bytes) -> bytes:
    """The DHT key of one device's presence record (bound to the account: it ends in its id)."""
    return b"device:" + device_id(node_public).encode() + b":" + acct_id.encode()


def device_id(node_public: bytes) -> str:
    """A device's id: its node id (SHA3-256 of its node key), 64 hex digits."""
    return f"{node_id(node_public):064x}"


def _list_setting(acct_id: str) -> str:
    return f"devices.list.{acct_id}"


def keep_device_list(store: Store, devices: DeviceList) -> None:
    """Keep ``devices`` as our account's list in ``store`` (a newly linked device stores the
    list it received before its stack starts, so it never publishes one naming only itself)."""
    store.set_setting(_list_setting(account_id(devices.account_public)), devices.to_value())


def _seen_setting(acct_id: str) -> str:
    return f"devices.seen.{acct_id}"


#: Called with the node key of a device we just linked or unlinked (to tell others).
DeviceChanged = Callable[[bytes], Awaitable[None]]


class DeviceDirectory:
    """Our device list and others' (verified, never rolled back), and device presences."""

    def __init__(self, account: LocalAccount, store: Store, dht: DhtApi, *, now: Now) -> None:
        self.account = account
        self.store = store
        self.dht = dht
        self.now = now
        self.me = account.account_id
        #: This device's node key.
        self._node = account.node_key.public
        self._decoded: tuple[bytes, DeviceList] | None = None
        self._cache: dict[str, tuple[float, DeviceList]] = {}
        self._presences: dict[bytes, tuple[float, Presence]] = {}
        #: Told when we linked or unlinked a device (set by the chat service).
        self.on_link: DeviceChanged | None = None
        self.on_unlink: DeviceChanged | None = None
        #: Told of each device another device of ours added (set by the chat service).
        self.on_new_device: Callable[[DeviceEntry], None] | None = None

    # ------------------------------------------------------------------ our list
    @property
    def unlinked(self) -> bool:
        """Whether this device was unlinked from the account (its key is revoked)."""
        return self._stored().is_revoked(self._node)

    def _stored(self) -> DeviceList:
        raw = self.store.get_setting(_list_setting(self.me))
        if isinstance(raw, bytes):
            if self._decoded is not None and self._decoded[0] == raw:
                return self._decoded[1]  # on every incoming item: verify the certificates once
            # Ours, so never hostile: a damaged copy is rebuilt.
            with contextlib.suppress(DeviceError):
                devices = DeviceList.from_value(self.account.key.public, raw)
                self._decoded = (raw, devices)
                return devices
        return DeviceList(self.account.key.public)

    def own(self, base: DeviceList | None = None) -> DeviceList:
        """Our device list (the one we keep, or ``base``), with this device listed and its
        certificate fresh (unless this device was unlinked: a revoked key is never listed
        again)."""
        acct = self.account
        devices = base if base is not None else self._stored()
        node = acct.node_key.public
        if devices.is_revoked(node):
            return devices
        before = self.store.get_setting(SELF_SETTING)
        if isinstance(before, bytes) and before != node:
            devices = devices.remove(before)  # /newonions: our old key is no device any more
        now = int(self.now())
        entry = devices.find(node)
        if entry is None or entry.cert.expires - now < RENEW_BEFORE:
            name = entry.name if entry is not None else acct.name
            added = entry.added if entry is not None else now
            devices = devices.add(acct.key.certify(node, now), name, added)
        return devices

    def _keep(self, devices: DeviceList) -> None:
        self.store.set_setting(_list_setting(self.me), devices.to_value())
        if not devices.is_revoked(self._node):
            self.store.set_setting(SELF_SETTING, self._node)
        self._cache[self.me] = (self.now(), devices)

    async def _merged(self) -> tuple[DeviceList, bytes | None]:
        """Our list merged with the one in the DHT (another device may have changed it), and
        the DHT's value (``None``: none, or unreadable); a device we did not know is announced
        (:attr:`on_new_device`)."""
        mine = self._stored()
        try:
            theirs = await self.lookup(self.me)
        except ChatError:
            return self.own(mine), None
        known = {d.node_public for d in mine.devices}
        merged = self.own(mine.merge(theirs))
        if self.on_new_device is not None and known:
            for entry in merged.devices:
                if entry.node_public not in known and entry.node_public != self._node:
                    self.on_new_device(entry)
        return merged, theirs.to_value()

    async def publish(self, change: Callable[[DeviceList], DeviceList] | None = None) -> DeviceList:
        """Merge our list with the DHT's, apply ``change`` (a link or an unlink) and publish
        the result unless the DHT holds exactly it (so a list that drops our revocations is
        overwritten); kept in the store. Returns the list as it now stands."""
        devices, in_dht = await self._merged()
        if change is not None:
            devices = change(devices)
        self._keep(devices)
        if devices.is_revoked(self._node):
            return devices  # unlinked: this device no longer writes for the account
        value = devices.to_value()
        if value != in_dht:
            await self.dht.put(devices_key(self.me), value, DEVICES_TTL)
        return devices

    async def link(self, node_public: bytes, name: str) -> DeviceEntry:
        """Certify a new device's node key and list it (:class:`ChatError` when the list is
        full or the key was revoked)."""
        now = int(self.now())
        cert = self.account.key.certify(node_public, now)
        devices = await self.publish(lambda d: _changed(d.add, cert, name, now))
        entry = devices.find(node_public)
        assert entry is not None
        if self.on_link is not None:
            await self.on_link(node_public)
        return entry

    async def unlink(self, node_public: bytes) -> DeviceList:
        """Revoke a device (never this one), publish the list and tell contacts and the
        device (:class:`ChatError` if it is not listed)."""
        if node_public == self._node:
            raise ChatError("this is the device you are using: unlink it from another one")
        devices = await self.publish(lambda d: _changed(d.revoke, node_public))
        if self.on_unlink is not None:
            await self.on_unlink(node_public)
        return devices

    def is_own_device(self, peer: PeerIdentity) -> bool:
        """Whether ``peer`` is another current device of our account."""
        if peer.account_id != self.me or peer.node_public == self._node:
            return False
        return self.own().speaks_for(peer.node_public, int(self.now()))

    # ------------------------------------------------------------------ others' lists
    def revoked(self, acct_id: str, node_public: bytes) -> bool:
        """Whether the list we hold for ``acct_id`` revokes ``node_public`` (no DHT read: this
        is on the path of every incoming item)."""
        if acct_id == self.me:
            return self._stored().is_revoked(node_public)
        cached = self._cache.get(acct_id)
        return cached is not None and cached[1].is_revoked(node_public)

    async def current(self, acct_id: str, fresh: bool = False) -> DeviceList:
        """An account's verified device list, cached for :data:`LIST_CACHE` seconds
        (:class:`ChatError` if none, if it does not verify, or if it is older than one we
        already saw)."""
        cached = self._cache.get(acct_id)
        if cached is not None and not fresh and self.now() - cached[0] < LIST_CACHE:
            return cached[1]
        devices = await self.lookup(acct_id)
        if cached is not None:
            # Revocations we saw stay: a list without them is a replay of an older one.
            devices = devices.merge(DeviceList(devices.account_public, (), cached[1].revoked))
        self._cache[acct_id] = (self.now(), devices)
        return devices

    async def lookup(self, acct_id: str) -> DeviceList:
        """An account's verified device list from the DHT (:class:`ChatError` if none, if it
        does not verify, or if it is older than one we already saw)."""
        record = await self.dht.get(devices_key(acct_id))
        if record is None:
            raise ChatError(f"no device list for {acct_id[:16]}…")
        seen = self.store.get_setting(_seen_setting(acct_id))
        seq = int(getattr(record, "seq", 0))
        if isinstance(seen, int) and seq < seen:
            raise ChatError(
                f"the device list of {acct_id[:16]}… is older than one already seen "
                f"(seq {seq} < {seen}): a holder replays it"
            )
        try:
            devices = DeviceList.from_value(record.owner, record.value)
        except DeviceError as exc:
            raise ChatError(f"the device list of {acct_id[:16]}… is invalid: {exc}") from exc
        if not isinstance(seen, int) or seq > seen:
            self.store.set_setting(_seen_setting(acct_id), seq)
        return devices

    # ------------------------------------------------------------------ device presences
    async def presences(self, acct_id: str, fresh: bool = False) -> list[Presence]:
        """One verified presence per current device of ``acct_id`` that published one (for
        our own account: our other devices). Empty when the account has no device list."""
        try:
            devices = self.own() if acct_id == self.me else await self.current(acct_id, fresh)
        except ChatError:
            return []
        now = int(self.now())
        found = []
        for entry in devices.devices:
            node = entry.node_public
            if node == self._node or not devices.speaks_for(node, now):
                continue
            with contextlib.suppress(ChatError):
                found.append(await self.device_presence(acct_id, node, fresh))
        return found

    async def device_presence(
        self, acct_id: str, node_public: bytes, fresh: bool = False
    ) -> Presence:
        """The verified presence record of one device (:class:`ChatError` if none); cached
        for :data:`PRESENCE_CACHE` seconds."""
        cached = self._presences.get(node_public)
        if cached is not None and not fresh and self.now() - cached[0] < PRESENCE_CACHE:
            return cached[1]
        record = await self.dht.get(device_key(acct_id, node_public))
        if record is None:
            raise ChatError(f"no presence for device {device_id(node_public)[:8]}")
        try:
            p = parse_presence(acct_id, record.owner, record.value, self.now())
        except PresenceError as exc:
            raise ChatError(str(exc)) from exc
        if p.node_public != node_public:
            raise ChatError("a device presence names another device")
        if len(self._presences) >= 4096:
            self._presences.clear()  # bounded; refilled by the next lookups
        self._presences[node_public] = (self.now(), p)
        return p

    def forget(self, node_public: bytes) -> None:
        """Drop a device's cached presence (a delivery to it failed: it may have moved)."""
        self._presences.pop(node_public, None)


def _changed(change: Callable[..., DeviceList], *args: Any) -> DeviceList:
    """``change(*args)`` with a refused change (list full, key revoked or not listed) as a
    :class:`ChatError`."""
    try:
        return change(*args)
    except DeviceError as exc:
        raise ChatError(str(exc)) from exc
