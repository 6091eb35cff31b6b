"""The inbox: every authenticated item that reaches us, over a session or from the mailbox.

An item arriving over a session (``chat_deliver``) is vouched for by the session's proved
account; the RPC reply is the sender's delivery receipt. A mailbox item is vouched for by its
sender's signature. Whispers and contact items arrive only inside ``ratchet`` items
(:mod:`ohtchat.chat.ratchets`), opened here with the session for their sender; a plain one is
refused. Each item goes to what handles its kind: receipts, contact requests, channel traffic;
whispers are kept in the sender's conversation, once by message id.

An account may have several devices (docs/devices.md): each item names (a ``ratchet`` item in
its ``d`` field) or is sent over a session by one device, and an item from a revoked device is
refused. Items from our own other devices are sync items (:mod:`ohtchat.chat.sync`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from ohtchat.chat.devices import DeviceDirectory
from ohtchat.chat.envelopes import ChatItem
from ohtchat.chat.ports import (
    ContactItems,
    ItemHandler,
    KeyWatch,
    MessageLog,
    Names,
    Now,
    Presences,
)
from ohtchat.chat.ratchets import RATCHET_KIND, RATCHETED_KINDS, Ratchets, sending_device
from ohtchat.chat.sync import DEVICES_CHANGED, SYNC_KINDS, DeviceSync
from ohtchat.crypto.keys import account_id
from ohtchat.ratchet import DuplicateMessage, RatchetError
from ohtchat.ringcast.guard import RateLimiter
from ohtchat.session.identity import PeerIdentity
from ohtchat.session.rpc import RpcError
from ohtchat.wire.envelope import Fields
from ohtchat.wire.errors import MalformedMessage

log = logging.getLogger(__name__)
#: The kind of an item offering a file (ratcheted; docs/protocol.md §19).
FILE_OFFER = "file_offer"


def default_limiter() -> RateLimiter:
    """The per-sender token bucket on incoming items: burst 30, then 2 per second."""
    return RateLimiter(rate=2.0, burst=30, max_keys=4096)


class Inbox:
    """Incoming items for one account, dispatched by kind."""

    def __init__(
        self,
        me: str,
        *,
        names: Names,
        presences: Presences,
        messages: MessageLog,
        contacts: ContactItems,
        channels: ItemHandler,
        receipts: ItemHandler,
        ratchets: Ratchets,
        devices: DeviceDirectory,
        sync: DeviceSync,
        keys: KeyWatch,
        now: Now,
        limiter: RateLimiter,
    ) -> None:
        self.me = me
        self.names = names
        self.presences = presences
        self.messages = messages
        self.contacts = contacts
        self.channels = channels
        self.receipts = receipts
        self.ratchets = ratchets
        self.devices = devices
        self.sync = sync
        #: Told the key of every account whose ratchet item we read (safety-number watch).
        self.keys = keys
        #: Told the account whose device list changed (set by the chat service).
        self.on_devices_changed: Callable[[str], None] | None = None
        #: Where file offers go (set by the node that runs file transfers; else ignored).
        self.files: ItemHandler | None = None
        self.now = now
        #: Refuses a flooding sender (memory and disk stay bounded).
        self.limiter = limiter

    async def handle_rpc(self, peer: PeerIdentity, method: str, params: Fields) -> dict[str, Any]:
        """Incoming ``chat_deliver`` over an authenticated session: the reply is the receipt."""
        item = ChatItem.from_fields(params)
        if item.to != self.me:
            raise RpcError("not_here", "this node does not serve that account")
        if not self.limiter.allow(peer.account_public, self.now()):
            # A flooding peer gets refused, not stored: memory and disk stay bounded.
            raise RpcError("rate_limited", "too many items; slow down")
        if self.devices.revoked(peer.account_id, peer.node_public):
            raise RpcError("device_revoked", "device revoked: this device was unlinked")
        if peer.account_id == self.me:
            self._from_own_device(peer.node_public, item)
            return {"receipt": True}
        if item.kind in RATCHETED_KINDS:
            raise RpcError("bad_request", f"req.p: kind {item.kind!r} travels only in a ratchet")
        if item.kind in SYNC_KINDS:
            raise RpcError("bad_request", f"req.p: kind {item.kind!r} comes only from own devices")
        if item.kind == RATCHET_KIND:
            if sending_device(item) != peer.node_public:
                raise RpcError("bad_request", "req.p.extra.d: not the device of this session")
            try:
                inner = self.ratchets.open(peer.account_public, item, peer.node_public)
            except DuplicateMessage:
                return {"receipt": True}  # read before (a retry): stored once already
            except RatchetError as exc:
                raise RpcError("undecryptable", f"ratchet item: {exc}") from exc
            self.keys.saw_key(peer.account_public)
            item = inner
        await self.receive(peer.account_public, item)
        return {"receipt": True}

    def _from_own_device(self, device: bytes, item: ChatItem) -> None:
        """An item from another device of our account: a sync item or a device-list change
        (:class:`RpcError` when that device is not a current one of ours, or the item bad)."""
        if not self.devices.own().speaks_for(device, int(self.now())):
            raise RpcError("not_own_device", "that device is not one of this account's")
        try:
            if item.kind == DEVICES_CHANGED:
                self.changed(self.me)
            elif item.kind in SYNC_KINDS:
                self.sync.on_item(item)
            else:
                raise MalformedMessage(f"kind {item.kind!r} is not sent between own devices")
        except MalformedMessage as exc:
            raise RpcError("bad_request", str(exc)) from exc

    def changed(self, acct: str) -> None:
        """``acct`` says its device list changed: read it again (in the background)."""
        if self.on_devices_changed is not None:
            self.on_devices_changed(acct)

    async def receive_wire(self, sender_pub: bytes, item: ChatItem) -> ChatItem | None:
        """A signed mailbox item: a ``ratchet`` item is opened first (a plain whisper or
        contact item is dropped); returns the item handled, ``None`` when it was dropped."""
        sender = account_id(sender_pub)
        if sender == self.me:
            return self._wire_from_own(item)
        if item.kind in RATCHETED_KINDS or item.kind in SYNC_KINDS:
            log.debug("dropping a plain %s from the mailbox", item.kind)
            return None
        if item.kind == RATCHET_KIND:
            try:
                device = sending_device(item)
                if self.devices.revoked(sender, device):
                    log.info("dropping a mailbox item from a revoked device")
                    return None
                item = self.ratchets.open(sender_pub, item, device)
            except (RatchetError, MalformedMessage) as exc:
                log.info("cannot read a ratchet item from the mailbox: %s", exc)
                return None
            self.keys.saw_key(sender_pub)
        await self.receive(sender_pub, item, direct=False)
        return item

    def _wire_from_own(self, item: ChatItem) -> ChatItem | None:
        """A mailbox item our account signed: a sync item from another device of ours."""
        try:
            device = Fields(item.extra, "extra").bytes_("d", 32)
            self._from_own_device(device, item)
        except (MalformedMessage, RpcError) as exc:
            log.info("dropping a mailbox item from our own account: %s", exc)
            return None
        return item

    async def receive(self, sender_pub: bytes, item: ChatItem, direct: bool = True) -> None:
        """Handle one authenticated item from ``sender_pub``: over a session (``direct``) or a
        signed mailbox item. A direct item shows the sender online at once; a mailbox item
        says nothing of where its sender is now."""
        sender = account_id(sender_pub)
        if sender == self.me:
            return
        # The sender's own display name (unverified, like any chat nickname).
        self.names.learn(sender, item.extra.get("name"))
        if direct:
            self.presences.heard(
                sender, item.extra.get("status") if item.kind == "heartbeat" else "online"
            )
        self._dispatch(sender, sender_pub, item)
        if direct:
            self.presences.refresh()

    def _dispatch(self, sender: str, sender_pub: bytes, item: ChatItem) -> None:
        """Hand an item to what handles its kind (heartbeats only update presence)."""
        if item.kind == "heartbeat":
            return
        if item.kind == DEVICES_CHANGED:
            self.changed(sender)
            return
        if item.kind == "receipt":
            self.receipts.on_item(sender, sender_pub, item)
        elif item.kind.startswith("contact_"):
            self.contacts.on_item(sender, sender_pub, item)
        elif item.kind.startswith("channel_"):
            self.channels.on_item(sender, sender_pub, item)
        else:
            if item.kind == FILE_OFFER and self.files is not None:
                self.files.on_item(sender, sender_pub, item)
            self.messages.store_received(sender, sender, item)
            if not self.contacts.is_contact(sender):
                self.contacts.remember_stranger(sender, sender_pub)
