"""Pilot helpers shared by the client tests: type a line, wait for the backend, read the console."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from textual.pilot import Pilot
from textual.widgets import Input, RichLog, Static


def console_text(app) -> str:  # type: ignore[no-untyped-def]
    """Everything the console pane shows, one line per row."""
    log = app.main.query_one("#console", RichLog)
    return "\n".join(strip.text for strip in log.lines)


def flat(text: str) -> str:
    """``text`` without any whitespace: the console wraps long lines (ids) at its width."""
    return "".join(text.split())


def console_has(app, *wanted: str) -> bool:  # type: ignore[no-untyped-def]
    """True when the console shows every one of ``wanted`` (wrapping ignored)."""
    shown = flat(console_text(app))
    return all(flat(w) in shown for w in wanted)


def static_text(app, selector: str) -> str:  # type: ignore[no-untyped-def]
    """The plain text a ``Static`` of the main screen shows."""
    return str(app.main.query_one(selector, Static).render())


def busy(app) -> bool:  # type: ignore[no-untyped-def]
    """True while a backend call (command, history, completion) is still running."""
    return any(w.group != "events" and w.is_running for w in app.workers)


async def settle(pilot: Pilot, timeout: float = 20.0) -> None:
    """Let the app handle its messages and every backend worker finish (the event pump never
    does). Real nodes answer over the network, so this waits in small real-time steps."""
    await pilot.pause()
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while busy(pilot.app):
        if loop.time() > end:
            raise AssertionError("a backend call did not finish in time")
        await pilot.pause(0.02)
    await pilot.pause()
    await pilot.pause()


async def until(pilot: Pilot, predicate: Callable[[], object], timeout: float = 15.0) -> None:
    """Pump the app until ``predicate()`` is true (fails the test after ``timeout`` seconds)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not predicate():
        if loop.time() > end:
            raise AssertionError("condition not reached in time")
        await pilot.pause(0.05)


async def type_line(pilot: Pilot, text: str) -> None:
    """Type ``text`` into the input line, press Enter and wait for the result."""
    prompt = pilot.app.main.query_one("#prompt", Input)  # type: ignore[attr-defined]
    prompt.focus()
    prompt.value = text
    prompt.cursor_position = len(text)
    await pilot.press("enter")
    await settle(pilot)
