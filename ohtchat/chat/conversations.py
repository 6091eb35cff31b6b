"""Conversations: messages kept once by id, announced to the UIs, read back as history.

A conversation is named by the other account's id (whispers), a channel id, or ``ringcast``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from ohtchat.api.bus import EventBus
from ohtchat.api.constants import RINGCAST_CONVERSATION
from ohtchat.api.events import MessageEvent, MessageStateEvent
from ohtchat.api.views import MessageView
from ohtchat.chat.envelopes import MAX_TEXT, ChatItem
from ohtchat.chat.errors import ChatError
from ohtchat.chat.ports import Names
from ohtchat.crypto.keys import account_id
from ohtchat.ringcast.message import Broadcast
from ohtchat.store import Message, MessageState, Store

#: Domain separator of received message ids scoped by their sender (local, never on the wire).
MSG_ID_LABEL = b"ohtchat message id v1\x00"
#: Ringcasts kept (anyone on the ring can write to that conversation, so it is bounded: the
#: oldest go first). Whispers and channels are kept whole: only contacts and members write.
RINGCAST_HISTORY = 1000


def scoped_message_id(sender: str, msg_id: str) -> str:
    """``msg_id`` of account ``sender`` as kept locally: the first 32 hex digits of
    SHA3-256(label ‖ sender's 32-byte account id ‖ msg_id as UTF-8)."""
    scoped = hashlib.sha3_256(MSG_ID_LABEL + bytes.fromhex(sender) + msg_id.encode())
    return scoped.hexdigest()[:32]


class Conversations:
    """The messages of one account, in the store; every change is published on the bus."""

    def __init__(
        self,
        store: Store,
        bus: EventBus,
        me: str,
        names: Names,
        *,
        ringcast_history: int = RINGCAST_HISTORY,
    ) -> None:
        self.store = store
        self.bus = bus
        self.me = me
        self.names = names
        self.ringcast_history = ringcast_history
        #: Told each of our messages that reached a final state (delivered, queued, failed):
        #: the sync to our other devices.
        self.on_final: Callable[[Message], None] | None = None

    def keep(self, msg: Message) -> bool:
        """Store a message once and announce it; False if it was already stored."""
        if not self.store.append_message(msg):
            return False
        self.emit_message(msg)
        return True

    def store_sent(self, item: ChatItem) -> Message:
        """Keep an outgoing item's text as our message in its conversation (state sending)."""
        msg = Message(
            item.msg_id, item.to, self.me, item.text, item.sent_at, MessageState.SENDING, read=True
        )
        self.store.append_message(msg)
        self.emit_message(msg)
        return msg

    def local_id(self, sender: str, msg_id: str) -> str:
        """The id a message from ``sender`` is kept under: the sender's own id for our own
        messages, else ``msg_id`` scoped by the sender, so another account that learns an id
        (channel fan-out and ringcasts show them) cannot pre-empt the real message with it."""
        return msg_id if sender == self.me else scoped_message_id(sender, msg_id)

    def store_received(self, conversation: str, sender: str, item: ChatItem) -> bool:
        """Store a received message once per (sender, id); announce it. False if it was a
        duplicate."""
        local = self.local_id(sender, item.msg_id)
        if self.store.has_message(local):
            return False
        msg = Message(local, conversation, sender, item.text, item.sent_at, MessageState.RECEIVED)
        return self.keep(msg)

    def on_ringcast(self, b: Broadcast) -> None:
        """A ringcast arrived (or our own came back): keep it in the ``ringcast`` conversation."""
        payload = b.payload if isinstance(b.payload, dict) else {}
        sender = account_id(b.origin_account_public)
        mine = sender == self.me
        if not mine:
            self.names.learn(sender, payload.get("name"), replace=False)
        msg = Message(
            self.local_id(sender, b.msg_id.hex()),
            RINGCAST_CONVERSATION,
            sender,
            str(payload.get("text", ""))[:MAX_TEXT],
            b.sent_at,
            MessageState.DELIVERED if mine else MessageState.RECEIVED,
            read=mine,
        )
        if self.keep(msg):
            self.store.trim_conversation(RINGCAST_CONVERSATION, self.ringcast_history)

    def set_state(self, msg: Message, state: MessageState) -> Message:
        """Record and announce a message's new delivery state."""
        updated = self.store.update_message_state(msg.msg_id, state)
        self.bus.publish(MessageStateEvent(msg.msg_id, msg.conversation, str(state)))
        if self.on_final is not None and state is not MessageState.SENDING:
            self.on_final(updated)
        return updated

    def emit_message(self, msg: Message) -> None:
        """Announce a message (sent or received) to the UIs."""
        self.bus.publish(MessageEvent.of(self.message_view(msg)))

    def message_view(self, msg: Message) -> MessageView:
        """A message as UIs see it, in results and events."""
        return MessageView(
            msg_id=msg.msg_id,
            conversation=msg.conversation,
            sender=msg.sender,
            sender_name=self.names.name_of(msg.sender),
            text=msg.text,
            timestamp=msg.timestamp,
            state=str(msg.state),
            outgoing=msg.sender == self.me,
        )

    def history(
        self, ref: str | None, limit: int, before: str | None = None
    ) -> tuple[str, list[Message]]:
        """The newest ``limit`` messages of a conversation (the latest one when ``ref`` is
        ``None``), oldest first."""
        conv = self.conversation_of(ref) if ref else self._latest_conversation()
        msgs = self.store.history(conv, limit=limit, before=before)
        return conv, list(reversed(msgs))

    def conversation_of(self, ref: str) -> str:
        """A conversation id from a channel id/name, ``ringcast``, or an account reference."""
        if ref == RINGCAST_CONVERSATION:
            return ref
        for ch in self.store.channels():
            if ref in (ch.channel_id, ch.name) or (len(ref) >= 6 and ch.channel_id.startswith(ref)):
                return ch.channel_id
        return self.names.resolve(ref)

    def _latest_conversation(self) -> str:
        convs = self.store.conversations()
        if not convs:
            raise ChatError("no conversations yet")
        return convs[0].conversation
