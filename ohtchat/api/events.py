"""What happens at a node, as typed events a UI subscribes to.

On the control socket each event is one JSON line ``{"event": kind, "at": …, "data": {…}}``
with ``data`` = the event's fields; :func:`event_from_json` reads it back, checking every field.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

from ohtchat.api.codec import from_data, to_data
from ohtchat.api.views import FileView, MessageView, PeerView, StatusView, TorView


@dataclass(frozen=True)
class NodeEvent:
    """Base of every event: ``kind`` names it on the wire; ``at`` is when it happened."""

    kind: ClassVar[str] = ""
    at: float = field(default_factory=time.time, kw_only=True, compare=False)

    @property
    def data(self) -> dict[str, Any]:
        """The event's fields (without ``at``) as JSON-able data."""
        return {f.name: to_data(getattr(self, f.name)) for f in fields(self) if f.name != "at"}

    def to_json(self) -> dict[str, Any]:
        """``{"event": kind, "at": …, "data": {…}}``: one JSON line on the control socket."""
        return {"event": self.kind, "at": self.at, "data": self.data}


@dataclass(frozen=True)
class MessageEvent(NodeEvent, MessageView):
    """A message was stored: received, or sent from this node (by any UI)."""

    kind: ClassVar[str] = "message"

    @classmethod
    def of(cls, message: MessageView) -> MessageEvent:
        """The event announcing ``message``."""
        return cls(**_fields_of(message))


@dataclass(frozen=True)
class MessageStateEvent(NodeEvent):
    """An outgoing message moved on: sending → delivered | queued | failed."""

    kind: ClassVar[str] = "message_state"
    msg_id: str
    conversation: str
    state: str


@dataclass(frozen=True)
class PresenceEvent(NodeEvent):
    """A contact's presence changed: online | away | offline."""

    kind: ClassVar[str] = "presence"
    account_id: str
    name: str
    presence: str


@dataclass(frozen=True)
class ContactEvent(NodeEvent):
    """A contact request arrived, a contact was added or removed (``state`` says which)."""

    kind: ClassVar[str] = "contact"
    account_id: str
    name: str
    state: str


@dataclass(frozen=True)
class ChannelEvent(NodeEvent):
    """A channel was created, joined, changed members, or left (``members`` empty)."""

    kind: ClassVar[str] = "channel"
    channel_id: str
    name: str
    members: tuple[str, ...]


@dataclass(frozen=True)
class RingEvent(NodeEvent):
    """The node's place on the ring changed."""

    kind: ClassVar[str] = "ring"
    member: bool
    successor: PeerView | None
    predecessor: PeerView | None
    peers: int


@dataclass(frozen=True)
class TorEvent(NodeEvent, TorView):
    """The node's tor changed state (``progress`` 0–100 while bootstrapping)."""

    kind: ClassVar[str] = "tor"


@dataclass(frozen=True)
class StatusEvent(NodeEvent, StatusView):
    """The whole status changed at once (a new onion address, another account)."""

    kind: ClassVar[str] = "status"

    @classmethod
    def of(cls, status: StatusView) -> StatusEvent:
        """The event announcing ``status``."""
        return cls(**_fields_of(status))


@dataclass(frozen=True)
class LogEvent(NodeEvent):
    """A notice for the user; ``topic`` groups notices a UI may later clear (see JOIN_TOPIC)."""

    kind: ClassVar[str] = "log"
    level: str
    text: str
    topic: str | None = None


@dataclass(frozen=True)
class FileEvent(NodeEvent, FileView):
    """A file transfer was offered, moved on (progress, at most a few per second) or ended."""

    kind: ClassVar[str] = "file"

    @classmethod
    def of(cls, view: FileView) -> FileEvent:
        """The event announcing ``view``."""
        return cls(**_fields_of(view))


def _fields_of(view: object) -> dict[str, Any]:
    """The fields of a dataclass instance, shallow (nested views stay views)."""
    return {f.name: getattr(view, f.name) for f in fields(view)}  # type: ignore[arg-type]


#: Every event type, by its ``kind``.
EVENTS: dict[str, type[NodeEvent]] = {
    cls.kind: cls
    for cls in (
        MessageEvent,
        MessageStateEvent,
        PresenceEvent,
        ContactEvent,
        ChannelEvent,
        RingEvent,
        TorEvent,
        StatusEvent,
        LogEvent,
        FileEvent,
    )
}


def event_from_json(obj: Any) -> NodeEvent | None:
    """An event read from its JSON form; None for a kind this version does not know (a newer
    node may send more). ``ValueError`` names what is malformed."""
    if not isinstance(obj, dict) or not isinstance(obj.get("event"), str):
        raise ValueError("event: not an event object")
    cls = EVENTS.get(obj["event"])
    if cls is None:
        return None
    data, at = obj.get("data", {}), obj.get("at", 0.0)
    if not isinstance(data, dict) or isinstance(at, bool) or not isinstance(at, int | float):
        raise ValueError("event: malformed data or time")
    return from_data(cls, {**data, "at": float(at)}, where=f"event.{cls.kind}")
