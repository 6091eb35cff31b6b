"""Device-list news: telling others when we unlink a device, and reading a list again when
its account says it changed (docs/devices.md)."""

from __future__ import annotations

import contextlib

from ohtchat.api.bus import EventBus
from ohtchat.api.constants import DEVICES_TOPIC
from ohtchat.api.events import LogEvent
from ohtchat.chat.accounts import LocalAccount
from ohtchat.chat.contacts import STRANGER
from ohtchat.chat.delivery import Delivery
from ohtchat.chat.devices import DeviceDirectory, device_id
from ohtchat.chat.envelopes import ChatItem, new_msg_id
from ohtchat.chat.errors import ChatError
from ohtchat.chat.ports import Now, Spawn
from ohtchat.chat.sync import DEVICES_CHANGED
from ohtchat.devices import DeviceEntry
from ohtchat.store import Store


class DeviceNews:
    """Sends and handles ``devices_changed`` items for one account."""

    def __init__(
        self,
        account: LocalAccount,
        store: Store,
        bus: EventBus,
        devices: DeviceDirectory,
        delivery: Delivery,
        *,
        spawn: Spawn,
        now: Now,
    ) -> None:
        self.account = account
        self.me = account.account_id
        self.store = store
        self.bus = bus
        self.devices = devices
        self.delivery = delivery
        self.spawn = spawn
        self.now = now

    def say_unlinked(self) -> None:
        """Tell the UIs this device was unlinked (it no longer acts for the account)."""
        self.bus.publish(
            LogEvent(
                "warning",
                "this device was unlinked from the account: it no longer sends or receives",
                DEVICES_TOPIC,
            )
        )

    def new_device(self, entry: DeviceEntry) -> None:
        """Another device of ours added ``entry`` to our account: say so, since only a holder
        of the account key can (docs/threat-model.md)."""
        self.bus.publish(
            LogEvent(
                "warning",
                f"a device was added to your account: {entry.name} "
                f"({device_id(entry.node_public)[:8]}); if you did not link it, someone holds "
                "your account key: /unlink it and move to a new account",
                DEVICES_TOPIC,
            )
        )

    def changed(self, acct: str) -> None:
        """``acct`` says its device list changed: read it again in the background (ours:
        merge it, and maybe learn that this device was unlinked)."""

        async def refresh() -> None:
            if acct == self.me:
                was = self.devices.unlinked
                await self.devices.publish()
                if self.devices.unlinked and not was:
                    self.say_unlinked()
            else:
                await self.devices.current(acct, fresh=True)

        self.spawn(refresh())

    async def linked(self, node_public: bytes) -> None:
        """We linked a device: tell our contacts, so they deliver to it from now on rather
        than when their copy of our list gets old (best effort, in the background)."""
        self._tell_contacts()

    async def unlinked(self, node_public: bytes) -> None:
        """We unlinked a device: tell it, our other devices and our contacts, so each reads
        the list again (best effort, in the background)."""
        extra = {"d": self.account.node_key.public}  # names this device (see chat.sync)
        item = ChatItem(DEVICES_CHANGED, new_msg_id(), self.me, self.now(), "", extra)
        self.spawn(self.delivery.send_item(self.me, item))
        with contextlib.suppress(ChatError):  # no longer listed: reached through its record
            presence = await self.devices.device_presence(self.me, node_public)
            self.spawn(self.delivery.to_device(presence, item))
        self._tell_contacts()

    def _tell_contacts(self) -> None:
        for c in self.store.contacts():
            if c.state != STRANGER:
                item = ChatItem(DEVICES_CHANGED, new_msg_id(), c.account_id, self.now(), "", {})
                self.spawn(self.delivery.send_item(c.account_id, item))
