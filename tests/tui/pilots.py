"""Pilot helpers shared by the client tests: type a line, wait for the backend, read the console.

Whatever the app reaches asynchronously (a command's output, an event from the node, a Tab
completion, a pushed screen) is read with :func:`until`, which keeps pumping the app with
``pilot.pause`` until the condition holds or its (generous) deadline passes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from textual.app import ScreenError
from textual.css.query import QueryError
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, RichLog, Static

from ohtchat.api.bus import EventBus
from ohtchat.tui.screens.tables import TableScreen
from tests.waiting import DEADLINE

T = TypeVar("T")

# What a check may raise while the app is still getting there (as in tests/waiting.py, plus
# Textual's "no such widget (yet)" and "no such screen (any more)").
_NOT_YET = (AssertionError, LookupError, ValueError, OSError, QueryError, ScreenError)


def console_text(app) -> str:  # type: ignore[no-untyped-def]
    """Everything the console pane shows, one line per row."""
    log = app.main.query_one("#console", RichLog)
    return "\n".join(strip.text for strip in log.lines)


def clear_console(app) -> None:  # type: ignore[no-untyped-def]
    """Empty the console pane, so what a wait finds there is the output of what came next."""
    app.main.query_one("#console", RichLog).clear()


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


def shown_table(app) -> DataTable | None:  # type: ignore[no-untyped-def,type-arg]
    """The table of the :class:`TableScreen` on top, once it is filled; None before."""
    screen = app.screen
    if not isinstance(screen, TableScreen) or not screen.is_mounted:
        return None
    table = screen.query_one(DataTable)
    filled = len(table.columns) == len(screen.columns) and table.row_count == len(screen.rows)
    return table if filled else None


def busy(app) -> bool:  # type: ignore[no-untyped-def]
    """True while a backend call (command, history, completion) is pending or running.

    A worker that has been created but not started yet counts too: a call made by the key
    just pressed is not "done" because its task has not had its first turn.
    """
    return any(w.group != "events" and not w.is_finished for w in app.workers)


async def settle(pilot: Pilot, timeout: float = DEADLINE) -> None:
    """Let the app handle its messages and every backend worker finish (the event pump never
    does). Real nodes answer over the network, so this waits in small real-time steps.

    Only a best effort at ordering steps: a result the test then reads is still waited for
    with :func:`until`, since a message can take more hops than a pause covers."""
    await pilot.pause()
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while busy(pilot.app):
        if loop.time() > end:
            raise AssertionError(f"a backend call did not finish in {timeout:g} s")
        await pilot.pause(0.02)
    await pilot.pause()
    await pilot.pause()


async def until(
    pilot: Pilot,
    predicate: Callable[[], T],
    what: str = "condition",
    timeout: float = DEADLINE,
    step: float = 0.05,
) -> T:
    """Pump the app until ``predicate()`` returns something truthy, and return that.

    Fails the test with ``what`` and the last value seen after ``timeout`` seconds; an
    exception the app raises while not there yet (a missing widget, a missing key) counts as
    "not yet" until the deadline, then is re-raised.
    """
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    last: object = None
    while True:
        try:
            value = predicate()
            if value:
                return value
            last = value
        except _NOT_YET as err:
            if loop.time() > end:
                raise
            last = err
        if loop.time() > end:
            raise AssertionError(f"{what}: not reached in {timeout:g} s (last seen: {last!r})")
        await pilot.pause(step)


async def loaded(pilot: Pilot, bus: EventBus) -> None:
    """Wait until the client has its node's status and lists and follows the node's events
    on ``bus`` (an event published before the client subscribed never reaches it)."""
    await settle(pilot)
    main = pilot.app.main  # type: ignore[attr-defined]
    await until(pilot, lambda: main.model.status is not None, "the node's status")
    await until(pilot, lambda: main.model.loaded == {"contact", "channel"}, "the lists")
    await until(pilot, lambda: bus.subscribers >= 1, "the client follows the events")


async def type_line(pilot: Pilot, text: str) -> None:
    """Type ``text`` into the input line, press Enter and wait until it was taken and the
    backend calls it started have finished (their results are read with :func:`until`)."""
    prompt = pilot.app.main.query_one("#prompt", Input)  # type: ignore[attr-defined]
    prompt.focus()
    prompt.value = text
    prompt.cursor_position = len(text)
    await pilot.press("enter")
    await until(pilot, lambda: prompt.value == "", f"the input line took {text!r}")
    await settle(pilot)
