"""Delivery of one item to one account: directly over a session, else into its DHT mailbox.

Direct delivery calls ``chat_deliver`` on the recipient's node (its address and onion from the
presence record) over an authenticated session; the reply is the delivery receipt. When the
node cannot be reached, the item is signed, sealed to the recipient's KEM prekey and appended
to its mailbox, where the recipient picks it up later. Whispers and contact items are first
encrypted with the pairwise double ratchet (:mod:`ohtchat.chat.ratchets`): what travels is the
``ratchet`` item carrying them, encrypted once (its state stored) before either path is tried.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable

from ohtchat.chat.accounts import LocalAccount
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
        self.ratchets = ratchets
        #: Our contacts' tickets: deposits into their mailboxes use their ticketed pool.
        self.tickets = tickets
        #: Called with the account id whose node just sent a receipt.
        self.on_answer = on_answer
        self.timeout = timeout
        #: Why the last items that failed did (msg id → ``unknown`` | ``mailbox_full`` |
        #: ``unreachable``), bounded; the UI shows the true reason.
        self.failures: OrderedDict[str, str] = OrderedDict()

    def _failed(self, item: ChatItem, why: str) -> MessageState:
        self.failures[item.msg_id] = why
        while len(self.failures) > MAX_FAILURES:
            self.failures.popitem(last=False)
        return MessageState.FAILED

    async def send_item(self, to: str, item: ChatItem) -> MessageState:
        """Deliver ``item`` directly, else through the mailbox; the resulting state.

        Whispers and contact items go inside the ratchet: encrypted once, the state stored,
        then the same ``ratchet`` item is tried directly and else put in the mailbox."""
        try:
            presence = await self.lookup.lookup(to)
        except ChatError:
            return self._failed(item, "unknown")
        ratcheted = item.kind in RATCHETED_KINDS
        wire = item
        if ratcheted:
            try:
                wire = self.ratchets.seal(presence, item)
            except RatchetError as exc:
                log.warning("cannot encrypt for %s: %s", to[:12], exc)
                return self._failed(item, "unknown")
        answer = await self._direct(presence, wire)
        if answer == UNDECRYPTABLE and ratcheted:
            # The recipient lost our session (or kept an older state): start a new one.
            self.ratchets.reset(to)
            try:
                wire = self.ratchets.seal(presence, item)
            except RatchetError as exc:
                log.warning("cannot encrypt for %s: %s", to[:12], exc)
                return self._failed(item, "unknown")
            answer = await self._direct(presence, wire)
        if answer == "receipt":
            return MessageState.DELIVERED
        # The cached presence may be stale (a new onion after /newonions): look again once.
        try:
            fresh = await self.lookup.lookup(to, fresh=True)
        except ChatError:
            fresh = presence
        if fresh.onion != presence.onion and await self._direct(fresh, wire) == "receipt":
            return MessageState.DELIVERED
        try:
            box = seal_item(self.account.key, fresh.kem_pub, wire)
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
            self.lookup.forget(presence.account_id)
            return "failed"
        except (ProtocolError, TimeoutError, OSError) as exc:
            log.info("direct delivery to %s failed (%s)", presence.account_id[:12], exc)
            self.lookup.forget(presence.account_id)
            return "failed"
        if receipt:
            self.on_answer(presence.account_id)
        return "receipt" if receipt else "failed"

    async def ping(self, to: str, item: ChatItem, timeout: float) -> None:
        """Send ``item`` directly and only directly (never to the mailbox); raises when the
        account has no presence or its node does not answer within ``timeout``."""
        presence = await self.lookup.lookup(to)
        await self.pool.request(presence.address, presence.onion, DELIVER, item.body(), timeout)
