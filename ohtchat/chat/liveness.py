"""Presence of contacts from what we hear: online, away or offline (no stale "online").

A contact is online (or away, as its heartbeats say) while its node talks to us or answers
us; one not heard from for ``OFFLINE_AFTER`` heartbeat intervals is offline. Changes are
announced as :class:`~ohtchat.api.events.PresenceEvent`.
"""

from __future__ import annotations

from ohtchat.api.bus import EventBus
from ohtchat.api.events import PresenceEvent
from ohtchat.chat.ports import Now, Sleep
from ohtchat.store import Store

#: A contact not heard from for this many heartbeat intervals is offline.
OFFLINE_AFTER = 3


class Liveness:
    """When each account was last heard from, and the presence announced for each contact."""

    def __init__(self, store: Store, bus: EventBus, *, interval: float, now: Now, sleep: Sleep):
        self.store = store
        self.bus = bus
        #: The heartbeat interval, seconds (presence ages in multiples of it).
        self.interval = interval
        self.now = now
        self.sleep = sleep
        #: Account id → (when last heard, ``online`` | ``away``).
        self.last_seen: dict[str, tuple[float, str]] = {}
        self._shown: dict[str, str] = {}

    def presence(self, acct_id: str) -> str:
        """``online``, ``away`` or ``offline`` from the last time we heard from the account."""
        seen = self.last_seen.get(acct_id)
        if seen is None:
            return "offline"
        at, status = seen
        if self.now() - at > OFFLINE_AFTER * self.interval:
            return "offline"
        return "away" if status == "away" else "online"

    def heard(self, acct_id: str, status: object) -> None:
        """``acct_id`` talked to us directly now, saying it is ``status`` (``away`` or else
        online)."""
        self.last_seen[acct_id] = (self.now(), "away" if status == "away" else "online")

    def answered(self, acct_id: str) -> None:
        """``acct_id``'s node answered us: it is there (status unchanged); announced."""
        _, status = self.last_seen.get(acct_id, (0.0, "online"))
        self.last_seen[acct_id] = (self.now(), status)
        self.refresh()

    def refresh(self) -> None:
        """Publish ``presence`` events for contacts whose presence changed."""
        for c in self.store.contacts():
            now = self.presence(c.account_id)
            if self._shown.get(c.account_id) != now:
                self._shown[c.account_id] = now
                self.bus.publish(PresenceEvent(c.account_id, c.name, now))

    async def watch(self) -> None:
        """Age silent contacts out to offline: a contact last heard at ``t`` is shown offline
        by ``t + (OFFLINE_AFTER + 0.5) × interval``, however slow heartbeats are."""
        while True:
            self.refresh()
            await self.sleep(self.interval / 2)
