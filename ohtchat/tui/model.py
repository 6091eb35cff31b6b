"""The client's view of the node: conversations, unread counts, status; fed by views and events.

Pure data (no Textual): the widgets render it, the screen feeds it the typed views of its
``ListContacts``, ``ListChannels`` and ``GetStatus`` calls and the backend's typed events.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Literal

from ohtchat.api.constants import RINGCAST_CONVERSATION
from ohtchat.api.events import (
    ChannelEvent,
    ContactEvent,
    MessageStateEvent,
    PresenceEvent,
    RingEvent,
)
from ohtchat.api.views import (
    ChannelView,
    ContactView,
    Membership,
    MessageView,
    PeerView,
    StatusView,
    TorView,
)
from ohtchat.tui.text import clean, short_id

Kind = Literal["channel", "contact"]


@dataclass
class Conversation:
    """A contact or a channel in the sidebar."""

    id: str
    name: str
    kind: Kind
    presence: str = ""
    unread: int = 0
    state: str = ""

    @property
    def label(self) -> str:
        """The name to show (a short id when the name is empty)."""
        return clean(self.name) or short_id(self.id)


@dataclass(frozen=True)
class RingState:
    """Where the node is on the ring, as its status, ring events and joins last said."""

    member: bool | None = None  # None: not known yet
    successor: PeerView | None = None
    predecessor: PeerView | None = None
    peers: int = 0

    @classmethod
    def of(cls, view: StatusView | RingEvent) -> RingState:
        """The ring part of a status or a ring event."""
        return cls(view.member, view.successor, view.predecessor, view.peers)

    def joined(self, view: Membership) -> RingState:
        """After a ``/create`` or ``/connect``."""
        return replace(self, member=view.member, successor=view.successor or self.successor)


@dataclass
class ChatModel:
    """Conversations in sidebar order, the open one, the node's status, the last delivery state."""

    conversations: dict[str, Conversation] = field(default_factory=dict)
    current: str | None = None
    status: StatusView | None = None  # who and where the node is (None until it answered)
    ring: RingState = field(default_factory=RingState)
    tor: TorView = field(default_factory=TorView)
    last_sent: tuple[str, str] | None = None  # (msg_id, state) of the last message sent
    numbers: dict[str, int] = field(default_factory=dict)  # Alt-n: stable once given
    loaded: set[Kind] = field(default_factory=set)  # lists seen (numbering waits for both)

    def ordered(self) -> list[Conversation]:
        """Channels first, then contacts; each by name (case-insensitive), then id."""
        return sorted(
            self.conversations.values(),
            key=lambda c: (c.kind != "channel", c.label.casefold(), c.id),
        )

    def set_contacts(self, contacts: Iterable[ContactView]) -> None:
        """Replace the contacts with a contact list."""
        self._drop("contact")
        for c in contacts:
            self._put(c.account_id, c.name, "contact", c.unread, str(c.state), c.presence)
        self._loaded("contact")

    def set_channels(self, channels: Iterable[ChannelView]) -> None:
        """Replace the channels with a channel list."""
        self._drop("channel")
        for ch in channels:
            self._put(ch.channel_id, ch.name, "channel", ch.unread)
        self._loaded("channel")

    def _drop(self, kind: Kind) -> None:
        for cid in [c.id for c in self.conversations.values() if c.kind == kind]:
            if cid != RINGCAST_CONVERSATION:  # not in the channel list, yet shown among them
                del self.conversations[cid]

    def _put(
        self, cid: str, name: str, kind: Kind, unread: int, state: str = "", presence: str = ""
    ) -> None:
        if not cid:
            return
        # The open conversation has been read, whatever the node counted meanwhile.
        unread = 0 if cid == self.current else max(0, unread)
        self.conversations[cid] = Conversation(cid, name, kind, presence, unread, state)

    def _loaded(self, kind: Kind) -> None:
        self.loaded.add(kind)
        self.renumber()

    def renumber(self) -> None:
        """Give numbers (Alt-1…9) to conversations that have none: the lowest free ones, in
        sidebar order. A conversation keeps its number while it exists, so adding one never
        moves the others; a removed one frees its number. Waits until both lists arrived,
        so the first numbering follows the sidebar's order."""
        for cid in [c for c in self.numbers if c not in self.conversations]:
            del self.numbers[cid]
        if len(self.loaded) < 2 or len(self.numbers) == len(self.conversations):
            return
        taken = set(self.numbers.values())
        free = (n for n in range(1, len(self.conversations) + len(taken) + 2) if n not in taken)
        for conv in self.ordered():
            if conv.id not in self.numbers:
                self.numbers[conv.id] = next(free)

    def mark_loaded(self, kind: Kind) -> None:
        """A list could not be fetched: number what there is rather than nothing."""
        self._loaded(kind)

    def number(self, cid: str) -> int | None:
        """The sidebar number of ``cid`` (None before the lists arrived)."""
        return self.numbers.get(cid)

    def select(self, cid: str | None) -> Conversation | None:
        """Open ``cid`` (its unread count drops to 0); unknown ids close the conversation."""
        conv = self.conversations.get(cid or "")
        self.current = conv.id if conv else None
        if conv:
            conv.unread = 0
        return conv

    def neighbour(self, step: int) -> Conversation | None:
        """The conversation ``step`` places after (negative: before) the open one, wrapping."""
        order = self.ordered()
        if not order:
            return None
        ids = [c.id for c in order]
        at = ids.index(self.current) if self.current in ids else (-1 if step > 0 else 0)
        return order[(at + step) % len(order)]

    def nth(self, index: int) -> Conversation | None:
        """The conversation numbered ``index + 1`` in the sidebar, or None."""
        for cid, number in self.numbers.items():
            if number == index + 1:
                return self.conversations.get(cid)
        return None

    def on_message(self, msg: MessageView) -> bool:
        """Account a stored message; True when it arrived in a conversation not open."""
        cid = msg.conversation
        if msg.outgoing:
            self.last_sent = (msg.msg_id, msg.state)
            return False
        conv = self.conversations.get(cid)
        if conv is None and cid == RINGCAST_CONVERSATION:
            # The node keeps every ringcast in one conversation: a ring-wide channel, not a
            # contact named after whoever ringcast first.
            conv = self.conversations[cid] = Conversation(cid, cid, "channel")
        elif conv is None:
            # A message from someone not (yet) listed: show it anyway.
            conv = self.conversations[cid] = Conversation(cid, msg.sender_name, "contact")
        self.renumber()
        if cid == self.current:
            return False
        conv.unread += 1
        return True

    def on_message_state(self, event: MessageStateEvent) -> None:
        """Track the delivery state of the last message sent."""
        if self.last_sent is None or self.last_sent[0] == event.msg_id:
            self.last_sent = (event.msg_id, event.state)

    def on_presence(self, event: PresenceEvent) -> None:
        """Update a contact's presence dot."""
        conv = self.conversations.get(event.account_id)
        if conv is not None:
            conv.presence = event.presence

    def on_contact(self, event: ContactEvent) -> None:
        """A contact was added, changed or removed."""
        cid, state = event.account_id, str(event.state)
        if not cid:
            return
        if state == "removed":
            self.conversations.pop(cid, None)
        else:
            conv = self.conversations.setdefault(cid, Conversation(cid, "", "contact"))
            conv.name = event.name or conv.name
            conv.state = state
        self.renumber()

    def on_channel(self, event: ChannelEvent) -> None:
        """A channel was created, joined or changed; one without members was left."""
        cid = event.channel_id
        if not cid:
            return
        if not event.members:
            self.conversations.pop(cid, None)
        else:
            conv = self.conversations.setdefault(cid, Conversation(cid, "", "channel"))
            conv.name = event.name or conv.name
        self.renumber()

    def on_status(self, status: StatusView) -> None:
        """A status (a ``GetStatus`` result or a status event): who, where, tor."""
        self.status = status
        self.ring = RingState.of(status)
        self.tor = status.tor

    def on_tor(self, tor: TorView) -> None:
        """Tor's state and bootstrap progress."""
        self.tor = tor

    def kind_of(self, cid: str | None) -> Kind | None:
        """Whether ``cid`` is a channel or a contact (None when unknown)."""
        conv = self.conversations.get(cid or "")
        return conv.kind if conv else None
