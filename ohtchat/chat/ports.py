"""The small interfaces the parts of the chat layer depend on, instead of on each other.

Each part (delivery, the inbox, contacts, channels, receipts, heartbeats …) is built by
:class:`~ohtchat.chat.service.ChatService` with the collaborators it needs, typed by these
protocols, so no chat module imports another for its behaviour and each part can be driven
alone with fakes. Time comes in the same way: a ``now`` (unix seconds) and a ``sleep``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Protocol

from ohtchat.chat.envelopes import ChatItem
from ohtchat.chat.presence import Presence
from ohtchat.store import Message, MessageState
from ohtchat.wire.envelope import Fields

#: The wall clock, unix seconds (``time.time`` in a node, virtual time in simulations).
Now = Callable[[], float]
#: Waiting (``asyncio.sleep`` in a node; on a virtual-time loop it advances the clock).
Sleep = Callable[[float], Awaitable[None]]
#: Run a coroutine in the background, owned (and cancelled at stop) by the chat service.
Spawn = Callable[[Coroutine[Any, Any, Any]], None]


class Requester(Protocol):
    """One RPC over an authenticated session (``SessionPool`` provides it)."""

    async def request(
        self, address: str, onion: str, method: str, params: dict[str, Any], timeout: float
    ) -> Fields:
        """Call ``method`` on the node at ``address`` proving ``onion``; its reply."""
        ...


class Names(Protocol):
    """Display names of accounts and the reading of an account reference."""

    def name_of(self, acct_id: str) -> str:
        """A display name for an account."""
        ...

    def resolve(self, ref: str) -> str:
        """An account id from a full id, a unique id prefix, or a contact name."""
        ...

    def learn(self, acct_id: str, name: object, *, replace: bool = True) -> None:
        """Remember the name an account calls itself (ignored unless a non-blank string)."""
        ...


class Lookup(Protocol):
    """Verified presence records of accounts (cached)."""

    async def lookup(self, acct_id: str, fresh: bool = False) -> Presence:
        """The presence of ``acct_id`` (``ChatError`` if none); ``fresh`` skips the cache."""
        ...

    def forget(self, acct_id: str) -> None:
        """Drop the cached presence of ``acct_id`` (it did not answer there)."""
        ...


class Sender(Protocol):
    """Sending one item to an account: directly, else through its mailbox."""

    async def send_item(self, to: str, item: ChatItem) -> MessageState:
        """Deliver ``item``; ``delivered``, ``queued`` (mailbox) or ``failed``."""
        ...


class Pinger(Protocol):
    """A direct call that only shows whether the account's node answers (no mailbox)."""

    async def ping(self, to: str, item: ChatItem, timeout: float) -> None:
        """Send ``item`` directly; raises when the node cannot be reached."""
        ...


class MessageLog(Protocol):
    """The store of conversations, announcing every change to the UIs."""

    def keep(self, msg: Message) -> bool:
        """Store a message once and announce it; False if it was already stored."""
        ...

    def store_sent(self, item: ChatItem) -> Message:
        """Keep an outgoing item as our message (state ``sending``)."""
        ...

    def store_received(self, conversation: str, sender: str, item: ChatItem) -> bool:
        """Keep a received item once in ``conversation``; False if it was a duplicate."""
        ...

    def set_state(self, msg: Message, state: MessageState) -> Message:
        """Record and announce a message's new delivery state."""
        ...


class Presences(Protocol):
    """Who is online, from what we heard from them."""

    def presence(self, acct_id: str) -> str:
        """``online``, ``away`` or ``offline``."""
        ...

    def heard(self, acct_id: str, status: object) -> None:
        """``acct_id`` just talked to us directly, saying ``status``."""
        ...

    def answered(self, acct_id: str) -> None:
        """``acct_id``'s node answered us (its status unchanged)."""
        ...

    def refresh(self) -> None:
        """Announce the contacts whose presence changed."""
        ...


class ItemHandler(Protocol):
    """What handles one kind of authenticated incoming item."""

    def on_item(self, sender: str, sender_pub: bytes, item: ChatItem) -> None:
        """Handle ``item`` from the account ``sender`` (public key ``sender_pub``)."""
        ...


class ContactItems(ItemHandler, Protocol):
    """The contact list as the inbox sees it."""

    def is_contact(self, acct_id: str) -> bool:
        """Whether ``acct_id`` is in the contact list (in any state)."""
        ...

    def remember_stranger(self, acct_id: str, pub: bytes) -> None:
        """List someone who wrote to us without being a contact."""
        ...


class Receiver(Protocol):
    """Where authenticated items go (the inbox)."""

    async def receive(self, sender_pub: bytes, item: ChatItem, direct: bool = True) -> None:
        """Handle one item, over a session (``direct``) or from the mailbox."""
        ...


class WireReceiver(Protocol):
    """Where signed mailbox items go (the inbox): ratchet items are opened there."""

    async def receive_wire(self, sender_pub: bytes, item: ChatItem) -> ChatItem | None:
        """Handle one mailbox item; the item handled (a ratchet item's inner one), or
        ``None`` when it was dropped."""
        ...


class KeyWatch(Protocol):
    """Watches the keys of accounts we read ratchet items from (verified safety numbers)."""

    def saw_key(self, pub: bytes) -> None:
        """A ratchet item from the account with public key ``pub`` was read."""
        ...


class ReceiptSender(Protocol):
    """Receipts for items picked up from our mailbox."""

    def receipted(self, sender: str, item: ChatItem) -> bool:
        """Whether ``item`` is now stored as ``sender``'s message to us and of a kind that is
        receipted."""
        ...

    async def send_receipts(self, to: str, msg_ids: list[str]) -> None:
        """Tell ``to`` that we stored these of its messages."""
        ...


class TicketBook(Protocol):
    """Contact tickets: the ones we give contacts for our mailbox, the ones they gave us."""

    def issue(self, peer: str) -> dict[str, Any]:
        """A fresh ticket for ``peer`` (the ``ticket`` extra field of a contact item)."""
        ...

    def issued(self, peer: str) -> bool:
        """Whether we gave ``peer`` a ticket."""
        ...

    def unissue(self, peer: str) -> None:
        """Forget that we gave ``peer`` a ticket (the item carrying it was not sent)."""
        ...

    def accept(self, sender_pub: bytes, extra: dict[str, Any]) -> bool:
        """Keep a valid ticket the account ``sender_pub`` gave us in ``extra``."""
        ...

    def deposit_for(self, to: str) -> Any:
        """How to sign a deposit into ``to``'s mailbox (an ``ohtchat.dht`` ``Deposit``)."""
        ...

    def forget(self, peer: str) -> None:
        """Drop both tickets of ``peer``."""
        ...


class Whisperer(Protocol):
    """Whispers: one text to one account, kept in its conversation."""

    async def whisper(self, ref: str, text: str) -> Message:
        """Send ``text`` to the account ``ref`` names; the stored message (final state)."""
        ...
