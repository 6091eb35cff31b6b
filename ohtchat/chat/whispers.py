"""Whispers: one text to one account, kept in the conversation with it."""

from __future__ import annotations

from ohtchat.chat.accounts import LocalAccount
from ohtchat.chat.envelopes import ChatItem, new_msg_id
from ohtchat.chat.errors import ChatError
from ohtchat.chat.ports import MessageLog, Names, Now, Sender
from ohtchat.store import Message, MessageState, Store


class Whispers:
    """Sending whispers for one account (implements :class:`~ohtchat.chat.ports.Whisperer`)."""

    def __init__(
        self,
        account: LocalAccount,
        store: Store,
        *,
        names: Names,
        messages: MessageLog,
        sender: Sender,
        now: Now,
    ) -> None:
        self.account = account
        self.store = store
        self.names = names
        self.messages = messages
        self.sender = sender
        self.now = now

    async def whisper(self, ref: str, text: str) -> Message:
        """``/whisper``: send ``text`` to an account; returns the stored message (final state)."""
        to = self.names.resolve(ref)
        if to == self.account.account_id:
            raise ChatError("cannot whisper to yourself")
        item = ChatItem("whisper", new_msg_id(), to, self.now(), text, {"name": self.account.name})
        msg = self.messages.store_sent(item)
        state = await self.sender.send_item(to, item)
        current = self.store.get_message(msg.msg_id)
        if current.state is MessageState.DELIVERED:
            return current  # the recipient's receipt came back before the mailbox put returned
        return self.messages.set_state(msg, state)
