"""Fan-out of a node's events to any number of subscribers, each with a bounded queue."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from ohtchat.api.events import LogEvent, NodeEvent


class EventBus:
    """Delivers every published event to every subscriber.

    A subscriber that falls more than ``maxsize`` events behind loses the oldest ones (and
    gets a ``log`` event saying so) rather than making the node buffer without limit.
    """

    def __init__(self, maxsize: int = 1000) -> None:
        self.maxsize = maxsize
        self._queues: set[asyncio.Queue[NodeEvent]] = set()

    def publish(self, event: NodeEvent) -> NodeEvent:
        """Send ``event`` to every subscriber; returns it."""
        for q in list(self._queues):
            if q.full():
                # Room for the notice and the event: the oldest events go.
                while q.qsize() > max(self.maxsize - 2, 0):
                    q.get_nowait()
                if self.maxsize >= 2:
                    q.put_nowait(LogEvent("warning", "events dropped (slow reader)"))
            q.put_nowait(event)
        return event

    async def subscribe(self) -> AsyncIterator[NodeEvent]:
        """Yield events from now on until the consumer stops iterating."""
        q: asyncio.Queue[NodeEvent] = asyncio.Queue(self.maxsize)
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
