"""Snapshots of the main screens (fixed size, fixed data and clock, UTC, no cursor blink).

They use the fake backend (``fakes.py``) on purpose: a real node has random ids and keys and a
real clock, so no two runs would draw the same screen.

Update after an intended change with ``pytest tests/tui/test_snapshots.py --snapshot-update``
and look at the SVGs in ``__snapshots__``.
"""

from __future__ import annotations

from textual.widgets import Input

from ohtchat.i18n import using_language
from ohtchat.tui.app import SetupApp

from .conftest import make_app
from .fakes import pair

SIZE = (100, 28)


async def steady(pilot, *keys: str) -> None:
    """Load everything, press ``keys``, stop cursors blinking."""
    for _ in range(3):
        await pilot.pause()
    for key in keys:
        await pilot.press(key)
        for _ in range(3):
            await pilot.pause()
    for _ in range(50):
        if not [w for w in pilot.app.workers if w.group != "events" and w.is_running]:
            break
        await pilot.pause()
    for field in pilot.app.query(Input):
        field.cursor_blink = False
    await pilot.pause()


def main_app():
    _net, alice, _bob = pair()
    alice.tor = {"state": "bootstrapping", "progress": 45, "summary": "Loading descriptors"}
    return make_app(alice)


def test_main_screen(snap_compare) -> None:
    assert snap_compare(main_app(), terminal_size=SIZE, run_before=lambda p: steady(p, "alt+2"))


def test_main_screen_light_theme(snap_compare) -> None:
    app = make_app(pair()[1], theme="light")
    assert snap_compare(app, terminal_size=SIZE, run_before=lambda p: steady(p, "alt+1"))


def test_main_screen_german(snap_compare) -> None:
    with using_language("de"):
        assert snap_compare(main_app(), terminal_size=SIZE, run_before=lambda p: steady(p, "alt+2"))


def test_help_screen(snap_compare) -> None:
    assert snap_compare(main_app(), terminal_size=SIZE, run_before=lambda p: steady(p, "f1"))


def test_ring_view(snap_compare) -> None:
    assert snap_compare(main_app(), terminal_size=SIZE, run_before=lambda p: steady(p, "ctrl+r"))


def test_first_run_screen(snap_compare) -> None:
    assert snap_compare(SetupApp(first_run=True), terminal_size=SIZE, run_before=steady)


def test_unlock_screen_russian(snap_compare) -> None:
    with using_language("ru"):
        app = SetupApp(first_run=False, account="alice")
        assert snap_compare(app, terminal_size=SIZE, run_before=steady)
