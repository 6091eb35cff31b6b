"""Our account's device list in the DHT, and verified reads of other accounts' lists.

``devices:<account id>`` (bound to the account key, so only the account writes it) holds the
signed :class:`~ohtchat.devices.DeviceList` (docs/devices.md). Today every account has one
device, the node that holds the account key, and it publishes a list naming itself next to its
presence; linking and unlinking devices (issue 16) will change the list. A reader keeps the
highest record ``seq`` it saw per account and refuses an older list, so a holder that replays
the list from before an unlink gains nothing.
"""

from __future__ import annotations

import contextlib
from typing import Any

from ohtchat.chat.accounts import LocalAccount
from ohtchat.chat.errors import ChatError
from ohtchat.chat.ports import Now
from ohtchat.chat.presence import DhtApi
from ohtchat.devices import DeviceError, DeviceList
from ohtchat.store import Store

#: Lifetime of the device list record (republished with presence, well before it expires).
DEVICES_TTL = 7 * 24 * 3600
#: Renew our own device's certificate in the list when it expires within this (seconds).
RENEW_BEFORE = 30 * 24 * 3600


def devices_key(acct_id: str) -> bytes:
    """The DHT key of an account's device list."""
    return b"devices:" + acct_id.encode()


def _list_setting(acct_id: str) -> str:
    return f"devices.list.{acct_id}"


def _seen_setting(acct_id: str) -> str:
    return f"devices.seen.{acct_id}"


class DeviceDirectory:
    """Publishes our device list and reads others' (verified, never rolled back)."""

    def __init__(self, account: LocalAccount, store: Store, dht: DhtApi, *, now: Now) -> None:
        self.account = account
        self.store = store
        self.dht = dht
        self.now = now
        #: The value we last put: the DHT republishes it while we run, so an unchanged list
        #: is not put again with every presence refresh.
        self._published: bytes | None = None

    def own(self) -> DeviceList:
        """Our device list: the one we keep, with this node listed and its certificate fresh."""
        acct = self.account
        raw = self.store.get_setting(_list_setting(acct.account_id))
        devices = DeviceList(acct.key.public)
        if isinstance(raw, bytes):
            # Ours, so never hostile: a damaged copy is rebuilt below.
            with contextlib.suppress(DeviceError):
                devices = DeviceList.from_value(acct.key.public, raw)
        now = int(self.now())
        node = acct.node_key.public
        entry = devices.find(node)
        if entry is None or entry.cert.expires - now < RENEW_BEFORE:
            name = entry.name if entry is not None else acct.name
            added = entry.added if entry is not None else now
            devices = devices.add(acct.key.certify(node, now), name, added)
        return devices

    async def publish(self) -> Any:
        """Publish our device list when it changed since we last put it (once per run at
        least); kept in the store for the next change."""
        value = self.own().to_value()
        if value == self._published:
            return None
        self.store.set_setting(_list_setting(self.account.account_id), value)
        result = await self.dht.put(devices_key(self.account.account_id), value, DEVICES_TTL)
        self._published = value
        return result

    async def lookup(self, acct_id: str) -> DeviceList:
        """An account's verified device list (:class:`ChatError` if none, if it does not
        verify, or if it is older than one we already saw)."""
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
