"""The interface every user interface drives: run a console line, watch events.

The TUI, the line console, ``ohtchat cmd`` and the control socket all talk to a node through a
:class:`Backend`: ``execute("/whisper bob hi")`` returns a
:class:`~ohtchat.commands.dispatch.CommandResult` (localized text + JSON-able data), and
``events()`` streams what happens (messages arriving, delivery receipts, presence, ring and tor
changes). A backend is either in-process (the node itself) or remote (the control socket of an
``ohtchat --serve`` node), so a UI cannot tell the difference.

Event kinds and their ``data`` (all JSON-able):

=================  ===============================================================================
``message``        ``{msg_id, conversation, sender, sender_name, text, timestamp, state, outgoing}``
``message_state``  ``{msg_id, conversation, state}`` (sending → delivered | queued | failed)
``presence``       ``{account_id, name, presence}`` (online | away | offline)
``contact``        ``{account_id, name, state}`` (request received, added, removed)
``channel``        ``{channel_id, name, members}``
``ring``           ``{member, successor, predecessor, peers}``
``tor``            ``{state, progress, summary}`` (progress 0–100 while bootstrapping)
``status``         the same data as ``/status``
``log``            ``{level, text, topic?}``: a notice for the user; ``topic`` ``join`` marks a
                   failure to join the ring, which a UI clears once the node is a member
=================  ===============================================================================
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from ohtchat.api.results import CommandResult


@dataclass(frozen=True)
class Event:
    """Something that happened at the node, for UIs and bots."""

    kind: str
    data: dict[str, Any] = field(default_factory=dict)
    at: float = field(default_factory=time.time)

    def to_json(self) -> dict[str, Any]:
        """``{"event": kind, "at": …, "data": {…}}``: one JSON line on the control socket."""
        return {"event": self.kind, "at": self.at, "data": dict(self.data)}

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Event:
        """Inverse of :meth:`to_json` (``ValueError`` on a malformed object)."""
        if not isinstance(obj, dict) or not isinstance(obj.get("event"), str):
            raise ValueError("not an event object")
        data = obj.get("data", {})
        at = obj.get("at", 0.0)
        if not isinstance(data, dict) or not isinstance(at, int | float):
            raise ValueError("malformed event object")
        return cls(obj["event"], data, float(at))


class EventBus:
    """Fan-out of events to any number of subscribers, each with a bounded queue.

    A subscriber that falls more than ``maxsize`` events behind loses the oldest ones (and
    gets a ``log`` event saying so) rather than making the node buffer without limit.
    """

    def __init__(self, maxsize: int = 1000) -> None:
        self.maxsize = maxsize
        self._queues: set[asyncio.Queue[Event]] = set()

    def publish(self, kind: str, **data: Any) -> Event:
        """Send an event to every subscriber; returns it."""
        event = Event(kind, data)
        for q in list(self._queues):
            if q.full():
                q.get_nowait()
                dropped = Event("log", {"level": "warning", "text": "events dropped (slow reader)"})
                if not q.full():
                    q.put_nowait(dropped)
                else:
                    q.get_nowait()
                    q.put_nowait(dropped)
            q.put_nowait(event)
        return event

    async def subscribe(self) -> AsyncIterator[Event]:
        """Yield events from now on until the consumer stops iterating."""
        q: asyncio.Queue[Event] = asyncio.Queue(self.maxsize)
        self._queues.add(q)
        try:
            while True:
                yield await q.get()
        finally:
            self._queues.discard(q)

    @property
    def subscribers(self) -> int:
        """How many subscribers are attached."""
        return len(self._queues)


class Backend(Protocol):
    """What a user interface needs of a node."""

    async def execute(self, line: str, conversation: str | None = None) -> CommandResult:
        """Run one console line. Plain text (no leading ``/``) is sent to ``conversation``
        (a contact's account id or a channel id: the one the UI has open)."""
        ...

    def events(self) -> AsyncIterator[Event]:
        """The node's events from now on."""
        ...

    async def complete(self, line: str, cursor: int) -> list[str]:
        """Tab-completion candidates for the word at ``cursor``."""
        ...
