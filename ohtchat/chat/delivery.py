"""Delivery of one item to one account: directly over a session, else into its DHT mailbox.

Direct delivery calls ``chat_deliver`` on the recipient's node (its address and onion from the
presence record) over an authenticated session; the reply is the delivery receipt. When the
node cannot be reached, the item is signed, sealed to the recipient's KEM prekey and appended
to its mailbox, where the recipient picks it up later.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable

from ohtchat.chat.accounts import LocalAccount
from ohtchat.chat.envelopes import ChatItem, seal_item
from ohtchat.chat.errors import ChatError
from ohtchat.chat.ports import Lookup, Requester
from ohtchat.chat.presence import DhtApi, Presence
from ohtchat.dht.errors import QuotaExceeded
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


class Delivery:
    """Sends items for one account (implements :class:`~ohtchat.chat.ports.Sender` and
    :class:`~ohtchat.chat.ports.Pinger`)."""

    def __init__(
        self,
        account: LocalAccount,
        pool: Requester,
        dht: DhtApi,
        lookup: Lookup,
        *,
        on_answer: Callable[[str], None],
        timeout: float,
    ) -> None:
        self.account = account
        self.pool = pool
        self.dht = dht
        self.lookup = lookup
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
        """Deliver ``item`` directly, else through the mailbox; the resulting state."""
        try:
            presence = await self.lookup.lookup(to)
        except ChatError:
            return self._failed(item, "unknown")
        if await self._direct(presence, item):
            return MessageState.DELIVERED
        # The cached presence may be stale (a new onion after /newonions): look again once.
        try:
            fresh = await self.lookup.lookup(to, fresh=True)
        except ChatError:
            fresh = presence
        if fresh.onion != presence.onion and await self._direct(fresh, item):
            return MessageState.DELIVERED
        try:
            await self.dht.mailbox_put(to, seal_item(self.account.key, fresh.kem_pub, item))
        except QuotaExceeded:
            # The recipient's mailbox (or its holders) is full: say so, not "unknown".
            return self._failed(item, "mailbox_full")
        except Exception as exc:  # the DHT raises its own typed errors; any means "not queued"
            log.warning("mailbox put for %s failed: %s", to[:12], exc)
            return self._failed(item, "unreachable")
        return MessageState.QUEUED

    async def _direct(self, presence: Presence, item: ChatItem) -> bool:
        """Try one direct delivery; True when the recipient's node sent the receipt."""
        try:
            reply = await self.pool.request(
                presence.address, presence.onion, DELIVER, item.body(), self.timeout
            )
            receipt = reply.bool_("receipt")
        except (RpcError, ProtocolError, TimeoutError, OSError) as exc:
            log.info("direct delivery to %s failed (%s)", presence.account_id[:12], exc)
            self.lookup.forget(presence.account_id)
            return False
        if receipt:
            self.on_answer(presence.account_id)
        return receipt

    async def ping(self, to: str, item: ChatItem, timeout: float) -> None:
        """Send ``item`` directly and only directly (never to the mailbox); raises when the
        account has no presence or its node does not answer within ``timeout``."""
        presence = await self.lookup.lookup(to)
        await self.pool.request(presence.address, presence.onion, DELIVER, item.body(), timeout)
