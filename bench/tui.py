"""TUI benchmark: time to first frame and frame times while scrolling 100 000 messages.

Run: ``.venv/bin/python bench/tui.py`` (headless, 120×40). Goals: first frame ≤ 1 s, no
frame over 50 ms. The baseline is the same client with a 100-message conversation, measured
in the same run, so the ratios show how little the history's size matters.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from collections.abc import AsyncIterator
from datetime import UTC

from textual.geometry import Region

from ohtchat.api.bus import EventBus
from ohtchat.api.events import NodeEvent
from ohtchat.api.ops import GetHistory, ListChannels, ListContacts, Operation
from ohtchat.api.results import CommandResult
from ohtchat.api.views import ChannelList, ContactList, ContactView, MessageList, MessageView
from ohtchat.i18n import set_language
from ohtchat.tui.app import OhtchatApp

SIZE = (120, 40)
CONV = "b2" * 32


class BenchBackend:
    """A backend whose one conversation holds ``n`` messages (no network): it answers the
    typed operations the client makes (its contacts, the history) and nothing else."""

    def __init__(self, n: int) -> None:
        self.bus = EventBus()
        self.msgs = tuple(
            MessageView(
                msg_id=f"m{i}",
                conversation=CONV,
                sender="b",
                sender_name="bob",
                text=f"message {i}: " + "lorem ipsum dolor sit amet " * (1 + i % 4),
                timestamp=1_700_000_000 + 7 * i,
                state="delivered",
                outgoing=i % 3 == 0,
            )
            for i in range(n)
        )

    async def call(self, op: Operation) -> CommandResult:
        if isinstance(op, ListContacts):
            bob = ContactView(CONV, "bob", "accepted", "online", 0, "")
            return CommandResult.success("", ContactList((bob,)))
        if isinstance(op, GetHistory):
            count = op.count or 50
            # The view alone: CommandResult.success would also encode it as JSON-able data,
            # a cost of the node (and its control socket), not of the client measured here.
            return CommandResult(True, "", {}, MessageList(CONV, self.msgs[-count:]))
        if isinstance(op, ListChannels):
            return CommandResult.success("", ChannelList(()))
        return CommandResult.failure("not in this benchmark", "unavailable")

    async def execute(self, line: str, conversation: str | None = None) -> CommandResult:
        return CommandResult.failure("not in this benchmark", "unavailable")

    def events(self) -> AsyncIterator[NodeEvent]:
        return self.bus.subscribe()

    async def complete(self, line: str, cursor: int) -> list[str]:
        return []


async def run(n: int, steps: int = 300) -> dict[str, float]:
    """Open the conversation, load all ``n`` messages, then scroll through them."""
    app = OhtchatApp(BenchBackend(n), tz=UTC)
    t0 = time.perf_counter()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        first_frame = time.perf_counter() - t0
        main = app.main
        while main.model.conversations.get(CONV) is None:
            await pilot.pause()
        t1 = time.perf_counter()
        main.model.select(CONV)
        main.load_history(CONV, min(n, 100_000))
        log = main.log_view
        while len(log.entries) < n:
            await pilot.pause()
        await pilot.pause()
        load = time.perf_counter() - t1
        frames: list[float] = []  # rendering the log's visible lines (the widget's frame)
        trips: list[float] = []  # scroll + the whole screen's update through the event loop
        region = log.scrollable_content_region
        page = max(1, log.scrollable_content_region.height - 1)
        # Page up from the end, then jump to random far places: both cost one frame each.
        targets = [max(0, log.max_scroll_y - k * page) for k in range(steps // 2)]
        targets += [(k * 7919 * page) % max(1, int(log.max_scroll_y)) for k in range(steps // 2)]
        for y in targets:
            t = time.perf_counter()
            log.scroll_to(y=y, animate=False, immediate=True)
            t_render = time.perf_counter()
            log.render_lines(Region(0, 0, region.width, region.height))
            frames.append(time.perf_counter() - t_render)
            await pilot.pause()
            trips.append(time.perf_counter() - t)
    return {
        "first_frame": first_frame,
        "load": load,
        "median": statistics.median(frames),
        "p99": sorted(frames)[int(len(frames) * 0.99) - 1],
        "max": max(frames),
        "trip_median": statistics.median(trips),
        "trip_max": max(trips),
    }


async def main() -> int:
    set_language("en")
    base = await run(100)
    big = await run(100_000)
    ms = 1000
    print(f"{'':24}{'100 msgs':>12}{'100 000 msgs':>14}{'ratio':>8}")
    for key, label in (
        ("first_frame", "first frame (ms)"),
        ("load", "load history (ms)"),
        ("median", "frame median (ms)"),
        ("p99", "frame p99 (ms)"),
        ("max", "frame max (ms)"),
        ("trip_median", "scroll+update med (ms)"),
        ("trip_max", "scroll+update max (ms)"),
    ):
        print(f"{label:24}{base[key] * ms:12.1f}{big[key] * ms:14.1f}{big[key] / base[key]:8.2f}")
    ok = big["first_frame"] <= 1.0 and big["max"] <= 0.050
    print("goals (first frame ≤ 1 s, no frame > 50 ms):", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
