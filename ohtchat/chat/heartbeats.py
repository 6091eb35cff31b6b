"""Heartbeats: a small direct item to every accepted contact each interval.

A contact's node answering shows the contact is there; the item carries our status
(``online`` or ``away``). Heartbeats never go to a mailbox: they only mean something now.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from ohtchat.chat.envelopes import ChatItem, new_msg_id
from ohtchat.chat.ports import Now, Pinger, Sleep
from ohtchat.store import ContactState, Store

#: How long one heartbeat waits for the contact's node, seconds.
HEARTBEAT_TIMEOUT = 10.0


class Heartbeats:
    """The heartbeats of one account."""

    def __init__(
        self,
        store: Store,
        pinger: Pinger,
        *,
        on_answer: Callable[[str], None],
        interval: float,
        now: Now,
        sleep: Sleep,
        timeout: float = HEARTBEAT_TIMEOUT,
    ) -> None:
        self.store = store
        self.pinger = pinger
        self.on_answer = on_answer
        self.interval = interval
        self.now = now
        self.sleep = sleep
        self.timeout = timeout
        #: What our heartbeats say we are: ``online`` or ``away``.
        self.status = "online"

    async def loop(self) -> None:
        """Send heartbeats every ``interval`` seconds."""
        while True:
            await self.send_all()
            await self.sleep(self.interval)

    async def send_all(self) -> None:
        """One heartbeat to each accepted contact that is reachable."""
        accepted = [c for c in self.store.contacts() if c.state == ContactState.ACCEPTED]
        await asyncio.gather(*(self._one(c.account_id) for c in accepted))

    async def _one(self, acct_id: str) -> None:
        """One heartbeat; the contact's node answering shows it is there."""
        item = ChatItem("heartbeat", new_msg_id(), acct_id, self.now(), "", {"status": self.status})
        with contextlib.suppress(Exception):
            await self.pinger.ping(acct_id, item, self.timeout)
            self.on_answer(acct_id)
