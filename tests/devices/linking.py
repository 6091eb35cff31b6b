"""Linking a fresh node to an account in tests, the way a user does: ``/link`` on the primary,
the new device joins with the code and shows digits, the user types them on the primary."""

from __future__ import annotations

import asyncio
import re

from ohtchat.api.constants import LINK_TOPIC
from ohtchat.api.device_ops import JoinLink
from ohtchat.api.events import LogEvent
from ohtchat.app.node import ChatNode
from tests.waiting import eventually

#: Bound on each step of a link (a ring lookup, a session, the bundle).
LINK_DEADLINE = 120.0


async def link_device(primary: ChatNode, fresh: ChatNode, name: str) -> None:
    """Link ``fresh`` (a node with a throwaway account) to ``primary``'s account as ``name``;
    returns once ``fresh`` runs as the account and is back on the ring."""
    shown: list[str] = []

    async def watch() -> None:
        async for event in fresh.events():
            if isinstance(event, LogEvent) and event.topic == LINK_TOPIC:
                shown.append(event.text)

    watcher = asyncio.create_task(watch())
    try:
        started = await primary.execute("/link")
        assert started.ok, started.text
        joining = asyncio.create_task(fresh.call(JoinLink(started.data["code"], name)))
        found = await eventually(
            lambda: next((m for t in shown if (m := re.search(r"\d{3} \d{3}", t))), None),
            "the digits shown on the new device",
            LINK_DEADLINE,
        )
        confirmed = await primary.execute(f"/link confirm {found.group(0).replace(' ', '')}")
        assert confirmed.ok, confirmed.text
        done = await asyncio.wait_for(joining, LINK_DEADLINE)
        assert done.ok, done.text
    finally:
        watcher.cancel()
    await fresh.ready(LINK_DEADLINE)
