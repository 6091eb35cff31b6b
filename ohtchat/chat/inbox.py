"""The inbox: every authenticated item that reaches us, over a session or from the mailbox.

An item arriving over a session (``chat_deliver``) is vouched for by the session's proved
account; the RPC reply is the sender's delivery receipt. A mailbox item is vouched for by its
sender's signature. Each item goes to what handles its kind: receipts, contact requests,
channel traffic; whispers are kept in the sender's conversation, once by message id.
"""

from __future__ import annotations

from typing import Any

from ohtchat.chat.envelopes import ChatItem
from ohtchat.chat.ports import ContactItems, ItemHandler, MessageLog, Names, Now, Presences
from ohtchat.crypto.keys import account_id
from ohtchat.ringcast.guard import RateLimiter
from ohtchat.session.identity import PeerIdentity
from ohtchat.session.rpc import RpcError
from ohtchat.wire.envelope import Fields


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
        await self.receive(peer.account_public, item)
        return {"receipt": True}

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
        if item.kind == "receipt":
            self.receipts.on_item(sender, sender_pub, item)
        elif item.kind.startswith("contact_"):
            self.contacts.on_item(sender, sender_pub, item)
        elif item.kind.startswith("channel_"):
            self.channels.on_item(sender, sender_pub, item)
        else:
            self.messages.store_received(sender, sender, item)
            if not self.contacts.is_contact(sender):
                self.contacts.remember_stranger(sender, sender_pub)
