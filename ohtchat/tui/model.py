"""The client's view of the node: conversations, unread counts, status; fed by results and events.

Pure data (no Textual): the widgets render it, the app feeds it ``/contacts``, ``/channels``
and ``/status`` results and the backend's events.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from ohtchat.api.constants import RINGCAST_CONVERSATION
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


@dataclass
class ChatModel:
    """Conversations in sidebar order, the open one, the node's status, the last delivery state."""

    conversations: dict[str, Conversation] = field(default_factory=dict)
    current: str | None = None
    status: dict[str, Any] = field(default_factory=dict)
    tor: dict[str, Any] = field(default_factory=dict)
    last_sent: tuple[str, str] | None = None  # (msg_id, state) of the last message sent
    numbers: dict[str, int] = field(default_factory=dict)  # Alt-n: stable once given
    loaded: set[Kind] = field(default_factory=set)  # lists seen (numbering waits for both)

    def ordered(self) -> list[Conversation]:
        """Channels first, then contacts; each by name (case-insensitive), then id."""
        return sorted(
            self.conversations.values(),
            key=lambda c: (c.kind != "channel", c.label.casefold(), c.id),
        )

    def set_contacts(self, contacts: list[dict[str, Any]]) -> None:
        """Replace the contacts with a ``/contacts`` result's list."""
        self._replace("contact", contacts, "account_id")

    def set_channels(self, channels: list[dict[str, Any]]) -> None:
        """Replace the channels with a ``/channels`` result's list."""
        self._replace("channel", channels, "channel_id")

    def _replace(self, kind: Kind, items: list[dict[str, Any]], key: str) -> None:
        for cid in [c.id for c in self.conversations.values() if c.kind == kind]:
            if cid != RINGCAST_CONVERSATION:  # not in /channels, yet shown among them
                del self.conversations[cid]
        for item in items:
            cid = str(item.get(key, ""))
            if not cid:
                continue
            self.conversations[cid] = Conversation(
                cid,
                str(item.get("name") or ""),
                kind,
                presence=str(item.get("presence") or ""),
                unread=_int(item.get("unread")),
                state=str(item.get("state") or ""),
            )
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
        self.loaded.add(kind)
        self.renumber()

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

    def on_message(self, data: dict[str, Any]) -> bool:
        """Account a ``message`` event; True when it arrived in a conversation not open."""
        cid = str(data.get("conversation", ""))
        if data.get("outgoing"):
            self.last_sent = (str(data.get("msg_id", "")), str(data.get("state", "")))
            return False
        conv = self.conversations.get(cid)
        if conv is None and cid == RINGCAST_CONVERSATION:
            # The node keeps every ringcast in one conversation: a ring-wide channel, not a
            # contact named after whoever ringcast first.
            conv = self.conversations[cid] = Conversation(cid, cid, "channel")
        elif conv is None:
            # A message from someone not (yet) listed: show it anyway.
            name = str(data.get("sender_name") or "")
            conv = self.conversations[cid] = Conversation(cid, name, "contact")
        self.renumber()
        if cid == self.current:
            return False
        conv.unread += 1
        return True

    def on_message_state(self, data: dict[str, Any]) -> None:
        """Track the delivery state of the last message sent."""
        msg_id, state = str(data.get("msg_id", "")), str(data.get("state", ""))
        if self.last_sent is None or self.last_sent[0] == msg_id:
            self.last_sent = (msg_id, state)

    def on_presence(self, data: dict[str, Any]) -> None:
        """Update a contact's presence dot."""
        conv = self.conversations.get(str(data.get("account_id", "")))
        if conv is not None:
            conv.presence = str(data.get("presence") or "")

    def on_contact(self, data: dict[str, Any]) -> None:
        """A contact was added, changed or removed."""
        cid, state = str(data.get("account_id", "")), str(data.get("state") or "")
        if not cid:
            return
        if state == "removed":
            self.conversations.pop(cid, None)
        else:
            conv = self.conversations.setdefault(cid, Conversation(cid, "", "contact"))
            conv.name = str(data.get("name") or conv.name)
            conv.state = state
        self.renumber()

    def on_channel(self, data: dict[str, Any]) -> None:
        """A channel was created, joined or changed (``left`` removes it)."""
        cid = str(data.get("channel_id", ""))
        if not cid:
            return
        if data.get("state") == "left":
            self.conversations.pop(cid, None)
        else:
            conv = self.conversations.setdefault(cid, Conversation(cid, "", "channel"))
            conv.name = str(data.get("name") or conv.name)
        self.renumber()

    def on_status(self, data: dict[str, Any]) -> None:
        """A ``/status`` result or ``status``/``ring`` event: merge what it says."""
        self.status.update(data)
        tor = data.get("tor")
        if isinstance(tor, dict):
            self.tor = dict(tor)

    def on_tor(self, data: dict[str, Any]) -> None:
        """A ``tor`` event: state and bootstrap progress."""
        self.tor = dict(data)

    def kind_of(self, cid: str | None) -> Kind | None:
        """Whether ``cid`` is a channel or a contact (None when unknown)."""
        conv = self.conversations.get(cid or "")
        return conv.kind if conv else None


def _float(value: Any) -> float:
    try:
        return float(value or 0.0)
    except (TypeError, ValueError):
        return 0.0


def _int(value: Any) -> int:
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return 0
