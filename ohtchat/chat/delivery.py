"""Delivery of one item to one account: directly over a session, else into its DHT mailbox.

Direct delivery calls ``chat_deliver`` on the recipient's node (its address and onion from the
presence record) over an authenticated session; the reply is the delivery receipt. When the
node cannot be reached, the item is signed, sealed to the recipient's KEM prekey and appended
to its mailbox, where the recipient picks it up later. Whispers and contact items are first
encrypted with the pairwise double ratchet (:mod:`ohtchat.chat.ratchets`): what travels is the
``ratchet`` item carrying them, encrypted once (its state stored) before either path is tried.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable

from ohtchat.chat.accounts import LocalAccount
from ohtchat.chat.devices import DeviceDirectory, device_id
from ohtchat.chat.envelopes import ChatItem, seal_item
from ohtchat.chat.errors import ChatError
from ohtchat.chat.ports import Lookup, Requester, TicketBook
from ohtchat.chat.presence import DhtApi, Presence
from ohtchat.chat.ratchets import RATCHETED_KINDS, Ratchets
from ohtchat.dht.errors import QuotaExceeded
from ohtchat.ratchet import RatchetError
from ohtchat.session.rpc import RpcError
from ohtchat.store import MessageState
from ohtchat.wire.errors import ProtocolError

#: How many failure reasons are remembered.
MAX_FAILURES = 256
log = logging.getLogger(__name__)
#: The one RPC method of the chat layer.
DELIVER = "chat_deliver"
#: Every method the chat layer serves.
METHODS = (DELIVER,)
#: The error code of a ratchet item the recipient cannot read (its sender starts over).
UNDECRYPTABLE = "undecryptable"


class Delivery:
    """Sends items for one account (implements :class:`~ohtchat.chat.ports.Sender` and
    :class:`~ohtchat.chat.ports.Pinger`)."""

    def __init__(
        self,
        account: LocalAccount,
        pool: Requester,
        dht: DhtApi,
        lookup: Lookup,
        devices: DeviceDirectory,
        ratchets: Ratchets,
        tickets: TicketBook,
        *,
        on_answer: Callable[[str], None],
        timeout: float,
    ) -> None:
        self.account = account
        self.pool = pool
        self.dht = dht
        self.lookup = lookup
        #: Where each device of an account is (docs/devices.md).
        self.devices = devices
        self.ratchets = ratchets
        #: Our contacts' tickets: deposits into their mailboxes use their ticketed pool.
        self.tickets = tickets
        #: Called with the account id whose node just sent a receipt.
        self.on_answer = on_answer
        self.timeout = timeout
        #: Why the last items that failed did (msg id → ``unknown`` | ``mailbox_full`` |
        #: ``unreachable``), bounded; the UI shows the true reason.
        self.failures: OrderedDict[str, str] = OrderedDict()
        #: Which devices (device ids) receipted our last delivered items, bounded.
        self.receipts: OrderedDict[str, tuple[str, ...]] = OrderedDict()

    def _failed(self, item: ChatItem, why: str) -> MessageState:
        self.failures[item.msg_id] = why
        while len(self.failures) > MAX_FAILURES:
            self.failures.popitem(last=False)
        return MessageState.FAILED

    async def send_item(self, to: str, item: ChatItem) -> MessageState:
        """Deliver ``item`` to every device of ``to`` (each directly, else through the
        mailbox); the best resulting state: delivered when one device receipted it.

        Whispers and contact items go inside the ratchet of each device: encrypted once per
        device, the state stored, then the same ``ratchet`` item is tried directly and else put
        in the mailbox, sealed to that device's prekey. When a device does not answer, the
        device list is read again first: a device added meanwhile (or one that moved with
        ``/newonions``) is tried too, and one no longer listed gets nothing."""
        if self.devices.unlinked:
            return self._failed(item, "unlinked")
        targets = await self._targets(to)
        if not targets:
            return self._failed(item, "unknown")
        tried = list(await asyncio.gather(*(self._attempt(p, item) for p in targets)))
        deposits = []
        if any(wire is not None for _, wire in tried):
            fresh = {p.node_public: p for p in await self._targets(to, fresh=True)}
            known = {t.node_public for t in targets}
            more = [p for node, p in fresh.items() if node not in known]
            tried += await asyncio.gather(*(self._attempt(p, item) for p in more))
            targets += more
            deposits = [
                self._deposit(fresh.get(p.node_public, p), item, wire)
                for p, (_, wire) in zip(targets, tried, strict=True)
                if wire is not None and (not fresh or p.node_public in fresh)
            ]
        states = [s for s, _ in tried if s is not None] + list(await asyncio.gather(*deposits))
        delivered = MessageState.DELIVERED
        if receipted := [p for p, (s, _) in zip(targets, tried, strict=True) if s is delivered]:
            self._receipted(item.msg_id, receipted)
            self.failures.pop(item.msg_id, None)
            return delivered
        if MessageState.QUEUED in states:
            self.failures.pop(item.msg_id, None)
            return MessageState.QUEUED
        if item.msg_id not in self.failures:
            self._failed(item, "unreachable")
        return MessageState.FAILED

    async def _targets(self, to: str, fresh: bool = False) -> list[Presence]:
        """Where ``to``'s devices are: one presence per listed device that published one;
        for an account without a device list, its account presence (never a revoked device,
        never this device)."""
        found = await self.devices.presences(to, fresh)
        if found or to == self.account.account_id:
            return found
        try:
            presence = await self.lookup.lookup(to, fresh)
        except ChatError:
            return []
        return [] if self.devices.revoked(to, presence.node_public) else [presence]

    def _receipted(self, msg_id: str, devices: list[Presence]) -> None:
        self.receipts[msg_id] = tuple(device_id(p.node_public) for p in devices)
        while len(self.receipts) > MAX_FAILURES:
            self.receipts.popitem(last=False)

    async def to_device(self, presence: Presence, item: ChatItem) -> MessageState:
        """Deliver ``item`` to the one device of ``presence`` (directly, else its mailbox)."""
        state, wire = await self._attempt(presence, item)
        if wire is None:
            return state or MessageState.FAILED
        return await self._deposit(presence, item, wire)

    async def _attempt(
        self, presence: Presence, item: ChatItem
    ) -> tuple[MessageState | None, ChatItem | None]:
        """Try to deliver ``item`` directly to one device: ``(delivered, None)``, ``(failed,
        None)`` when it cannot be encrypted, else ``(None, wire)``: the item as it would go to
        that device's mailbox (a ratchet item is encrypted once, whichever way it goes)."""
        to = presence.account_id
        ratcheted = item.kind in RATCHETED_KINDS
        wire = item
        if ratcheted:
            try:
                wire = self.ratchets.seal(presence, item)
            except RatchetError as exc:
                log.warning("cannot encrypt for %s: %s", to[:12], exc)
                return self._failed(item, "unknown"), None
        answer = await self._direct(presence, wire)
        if answer == UNDECRYPTABLE and ratcheted:
            # The recipient lost our session (or kept an older state): start a new one.
            self.ratchets.reset(to, presence.node_public)
            try:
                wire = self.ratchets.seal(presence, item)
            except RatchetError as exc:
                log.warning("cannot encrypt for %s: %s", to[:12], exc)
                return self._failed(item, "unknown"), None
            answer = await self._direct(presence, wire)
        if answer == "receipt":
            return MessageState.DELIVERED, None
        return None, wire

    async def _deposit(self, presence: Presence, item: ChatItem, wire: ChatItem) -> MessageState:
        """Seal ``wire`` to the device's prekey and put it in its account's mailbox."""
        to = presence.account_id
        try:
            box = seal_item(self.account.key, presence.kem_pub, wire)
            await self.dht.mailbox_put(to, box, deposit=self.tickets.deposit_for(to))
        except QuotaExceeded:
            # Our share of the recipient's mailbox is used up (or its pool is full of signers
            # holding no more than we do, or its holders are full): say so, not "unknown".
            return self._failed(item, "mailbox_full")
        except Exception as exc:  # the DHT raises its own typed errors; any means "not queued"
            log.warning("mailbox put for %s failed: %s", to[:12], exc)
            return self._failed(item, "unreachable")
        return MessageState.QUEUED

    async def _direct(self, presence: Presence, item: ChatItem) -> str:
        """Try one direct delivery: ``receipt`` when the recipient's node sent the receipt,
        ``undecryptable`` when it could not read our ratchet item, else ``failed``."""
        try:
            reply = await self.pool.request(
                presence.address, presence.onion, DELIVER, item.body(), self.timeout
            )
            receipt = reply.bool_("receipt")
        except RpcError as exc:
            log.info("direct delivery to %s refused (%s)", presence.account_id[:12], exc)
            if exc.code == UNDECRYPTABLE:
                return UNDECRYPTABLE
            self._forget(presence)
            return "failed"
        except (ProtocolError, TimeoutError, OSError) as exc:
            log.info("direct delivery to %s failed (%s)", presence.account_id[:12], exc)
            self._forget(presence)
            return "failed"
        if receipt:
            self.on_answer(presence.account_id)
        return "receipt" if receipt else "failed"

    def _forget(self, presence: Presence) -> None:
        self.lookup.forget(presence.account_id)
        self.devices.forget(presence.node_public)

    async def ping(self, to: str, item: ChatItem, timeout: float) -> None:
        """Send ``item`` directly and only directly (never to the mailbox) to every device of
        ``to`` at once (each shows our presence on its own); raises when the account has no
        presence or none of its devices answers within ``timeout``."""
        targets = await self._targets(to)
        if not targets:
            raise ChatError(f"no presence for {to[:16]}…")
        body = item.body()
        replies = await asyncio.gather(
            *(self.pool.request(p.address, p.onion, DELIVER, body, timeout) for p in targets),
            return_exceptions=True,
        )
        failed = [r for r in replies if isinstance(r, BaseException)]
        if len(failed) == len(replies):
            raise failed[0]
