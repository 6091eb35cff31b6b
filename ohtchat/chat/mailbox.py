"""Mailbox pickup: the items others left in our DHT mailbox while we were away.

Each item sealed to this device's KEM key (signed by its sender's account key) is opened,
handed to the inbox as an authenticated item (which opens a ``ratchet`` item with the sender's
session), and deleted from the mailbox; an item sealed to another device of the account is
left for it. Whispers it stored are receipted to their senders (see
:mod:`ohtchat.chat.receipts`).
"""

from __future__ import annotations

import contextlib
import logging

from ohtchat.chat.accounts import LocalAccount
from ohtchat.chat.envelopes import open_item
from ohtchat.chat.ports import ReceiptSender, Spawn, WireReceiver
from ohtchat.chat.presence import DhtApi
from ohtchat.crypto.keys import account_id
from ohtchat.store import Store
from ohtchat.wire.errors import ProtocolError

log = logging.getLogger(__name__)


class Pickup:
    """Mailbox pickup for one account."""

    def __init__(
        self,
        account: LocalAccount,
        store: Store,
        dht: DhtApi,
        inbox: WireReceiver,
        receipts: ReceiptSender,
        spawn: Spawn,
    ) -> None:
        self.account = account
        self.store = store
        self.dht = dht
        self.inbox = inbox
        self.receipts = receipts
        self.spawn = spawn

    async def drain(self) -> int:
        """Fetch, open, store and delete our mailbox items; receipt what was stored.

        Returns how many messages were new.
        """
        me = self.account.account_id
        items = await self.dht.mailbox_fetch(me)
        new, done = 0, []
        picked: dict[str, list[str]] = {}
        for item_id, box in items:
            try:
                sender_pub, item = open_item(self.account.kem.secret, box)
            except ProtocolError as exc:
                # Sealed to another device of our account (each has its own prekey), or junk:
                # left for that device; either way it expires with the mailbox's TTL.
                log.debug("leaving a mailbox item this device cannot open: %s", exc)
                continue
            done.append(item_id)
            if item.to != me:
                continue
            before = self.store.message_count()
            handled = await self.inbox.receive_wire(sender_pub, item)
            new += self.store.message_count() - before
            if handled is None:
                continue
            item = handled
            sender = account_id(sender_pub)
            if self.receipts.receipted(sender, item):
                picked.setdefault(sender, []).append(item.msg_id)
        if done:
            with contextlib.suppress(Exception):
                await self.dht.mailbox_delete(self.account.key, done)
        for sender, ids in picked.items():
            self.spawn(self.receipts.send_receipts(sender, ids))
        return new
