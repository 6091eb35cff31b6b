"""Mailbox pickup and the receipts for offline delivery.

A whisper delivered directly is receipted by the RPC reply. One that went to the recipient's
mailbox stays ``queued`` at the sender until the recipient picks it up: then the recipient sends
one ``receipt`` item ``{extra: {msg_ids: [...]}}`` back to the sender (directly, or through the
sender's mailbox when the sender is offline), and the sender moves those messages
``queued → delivered``.

A receipt counts only when it comes from the account the message was sent to (over an
authenticated session or as a mailbox item signed by that account) and names messages this
account sent to it; anything else is ignored. A receipt is never answered with a receipt.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

from ohtchat.chat.accounts import LocalAccount
from ohtchat.chat.envelopes import ChatItem, new_msg_id, open_item
from ohtchat.chat.presence import DhtApi
from ohtchat.crypto.keys import account_id
from ohtchat.store import Message, MessageState, Store
from ohtchat.wire.errors import ProtocolError

log = logging.getLogger(__name__)
RECEIPT = "receipt"
#: Most message ids one receipt names (a larger pickup sends several receipts).
MAX_RECEIPT_IDS = 256
#: Longest message id (as in ``chat_deliver``'s ``msg_id``).
MAX_MSG_ID = 64
#: Item kinds a pickup acknowledges: the ones the sender keeps as a message with a state.
RECEIPTED_KINDS = ("whisper",)


def receipt_ids(extra: dict[str, Any]) -> list[str]:
    """The message ids a receipt names: its first ``MAX_RECEIPT_IDS`` valid ones, each once."""
    raw = extra.get("msg_ids")
    if not isinstance(raw, list):
        return []
    ids = [m for m in raw[:MAX_RECEIPT_IDS] if isinstance(m, str) and 0 < len(m) <= MAX_MSG_ID]
    return list(dict.fromkeys(ids))


class PickupHost(Protocol):
    """What pickup and receipts use of the chat service (so this module never imports it)."""

    account: LocalAccount
    me: str
    store: Store
    dht: DhtApi
    now: Callable[[], float]

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run ``coro`` in the background."""
        ...

    async def receive(self, sender_pub: bytes, item: ChatItem, direct: bool = True) -> None:
        """Handle one authenticated item."""
        ...

    async def send_item(self, to: str, item: ChatItem) -> MessageState:
        """Deliver ``item`` directly, else through the mailbox."""
        ...

    def set_state(self, msg: Message, state: MessageState) -> Message:
        """Change a message's delivery state (announced)."""
        ...


class Pickup:
    """Mailbox pickup for the chat service, with its receipts."""

    def __init__(self, chat: PickupHost) -> None:
        self.chat = chat

    async def drain(self) -> int:
        """Fetch, open, store and delete our mailbox items; receipt what was stored.

        Returns how many messages were new.
        """
        chat = self.chat
        items = await chat.dht.mailbox_fetch(chat.me)
        new, done = 0, []
        picked: dict[str, list[str]] = {}
        for item_id, box in items:
            done.append(item_id)
            try:
                sender_pub, item = open_item(chat.account.kem.secret, box)
            except ProtocolError as exc:
                log.info("dropping a bad mailbox item: %s", exc)
                continue
            if item.to != chat.me:
                continue
            before = chat.store.message_count()
            await chat.receive(sender_pub, item, direct=False)
            new += chat.store.message_count() - before
            sender = account_id(sender_pub)
            if self._stored_from(sender, item):
                picked.setdefault(sender, []).append(item.msg_id)
        if done:
            with contextlib.suppress(Exception):
                await chat.dht.mailbox_delete(chat.account.key, done)
        for sender, ids in picked.items():
            chat.spawn(self.send_receipts(sender, ids))
        return new

    def _stored_from(self, sender: str, item: ChatItem) -> bool:
        """Whether ``item`` is a receipted kind now stored as ``sender``'s message to us."""
        if item.kind not in RECEIPTED_KINDS:
            return False  # receipts (and control items) are never receipted
        try:
            msg = self.chat.store.get_message(item.msg_id)
        except KeyError:
            return False
        return msg.sender == sender and msg.conversation == sender

    async def send_receipts(self, to: str, msg_ids: list[str]) -> None:
        """Tell ``to`` that we stored these of its messages (directly, else via its mailbox)."""
        for start in range(0, len(msg_ids), MAX_RECEIPT_IDS):
            chunk = msg_ids[start : start + MAX_RECEIPT_IDS]
            item = ChatItem(RECEIPT, new_msg_id(), to, self.chat.now(), "", {"msg_ids": chunk})
            state = await self.chat.send_item(to, item)
            if state is MessageState.FAILED:
                log.info("receipt for %d message(s) to %s not sent", len(chunk), to[:12])

    def on_receipt(self, sender: str, item: ChatItem) -> int:
        """An authenticated receipt from ``sender``: mark our messages to it delivered.

        Ids of messages we did not send to ``sender`` are ignored. Returns how many changed.
        """
        changed = 0
        for msg_id in receipt_ids(item.extra):
            msg = self._ours_to(sender, msg_id)
            if msg is not None:
                self.chat.set_state(msg, MessageState.DELIVERED)
                changed += 1
        return changed

    def _ours_to(self, recipient: str, msg_id: str) -> Message | None:
        """Our not-yet-delivered message ``msg_id`` to ``recipient``, or ``None``."""
        try:
            msg = self.chat.store.get_message(msg_id)
        except KeyError:
            return None
        if msg.sender != self.chat.me or msg.conversation != recipient:
            return None
        return None if msg.state is MessageState.DELIVERED else msg
