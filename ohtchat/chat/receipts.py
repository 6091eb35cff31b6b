"""Receipts for offline delivery.

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

import logging
from typing import Any

from ohtchat.chat.conversations import scoped_message_id
from ohtchat.chat.envelopes import ChatItem, new_msg_id
from ohtchat.chat.ports import MessageLog, Now, Sender
from ohtchat.store import Message, MessageState, Store

log = logging.getLogger(__name__)
RECEIPT = "receipt"
#: Most message ids one receipt names (a larger pickup sends several receipts).
MAX_RECEIPT_IDS = 256
#: Longest message id (as in ``chat_deliver``'s ``msg_id``).
MAX_MSG_ID = 64
#: Item kinds a pickup acknowledges: the ones the sender keeps as a message with a state.
RECEIPTED_KINDS = ("whisper", "file_offer")


def receipt_ids(extra: dict[str, Any]) -> list[str]:
    """The message ids a receipt names: its first ``MAX_RECEIPT_IDS`` valid ones, each once."""
    raw = extra.get("msg_ids")
    if not isinstance(raw, list):
        return []
    ids = [m for m in raw[:MAX_RECEIPT_IDS] if isinstance(m, str) and 0 < len(m) <= MAX_MSG_ID]
    return list(dict.fromkeys(ids))


class Receipts:
    """Sending receipts for what we picked up, and applying the receipts we get."""

    def __init__(
        self, me: str, store: Store, sender: Sender, messages: MessageLog, now: Now
    ) -> None:
        self.me = me
        self.store = store
        self.sender = sender
        self.messages = messages
        self.now = now

    def receipted(self, sender: str, item: ChatItem) -> bool:
        """Whether ``item`` is a receipted kind now stored as ``sender``'s message to us."""
        if item.kind not in RECEIPTED_KINDS:
            return False  # receipts (and control items) are never receipted
        try:
            msg = self.store.get_message(scoped_message_id(sender, item.msg_id))
        except KeyError:
            return False
        return msg.sender == sender and msg.conversation == sender

    async def send_receipts(self, to: str, msg_ids: list[str]) -> None:
        """Tell ``to`` that we stored these of its messages (directly, else via its mailbox)."""
        for start in range(0, len(msg_ids), MAX_RECEIPT_IDS):
            chunk = msg_ids[start : start + MAX_RECEIPT_IDS]
            item = ChatItem(RECEIPT, new_msg_id(), to, self.now(), "", {"msg_ids": chunk})
            state = await self.sender.send_item(to, item)
            if state is MessageState.FAILED:
                log.info("receipt for %d message(s) to %s not sent", len(chunk), to[:12])

    def on_item(self, sender: str, sender_pub: bytes, item: ChatItem) -> None:
        """An authenticated ``receipt`` item from ``sender`` (see :meth:`on_receipt`)."""
        self.on_receipt(sender, item)

    def on_receipt(self, sender: str, item: ChatItem) -> int:
        """An authenticated receipt from ``sender``: mark our messages to it delivered.

        Ids of messages we did not send to ``sender`` are ignored. Returns how many changed.
        """
        changed = 0
        for msg_id in receipt_ids(item.extra):
            msg = self._ours_to(sender, msg_id)
            if msg is not None:
                self.messages.set_state(msg, MessageState.DELIVERED)
                changed += 1
        return changed

    def _ours_to(self, recipient: str, msg_id: str) -> Message | None:
        """Our not-yet-delivered message ``msg_id`` to ``recipient``, or ``None``."""
        try:
            msg = self.store.get_message(msg_id)
        except KeyError:
            return None
        if msg.sender != self.me or msg.conversation != recipient:
            return None
        return None if msg.state is MessageState.DELIVERED else msg
