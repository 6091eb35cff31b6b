"""Snapshots of the main screens (fixed size, fixed data and clock, UTC, no cursor blink).

They use the fixed, typed stand-in of ``snapshot_backend.py`` on purpose: a real node has random
ids and keys and a real clock, so no two runs would draw the same screen. (Every other client
test drives real nodes.)

Update after an intended change with ``pytest tests/tui/test_snapshots.py --snapshot-update``
and look at the SVGs in ``__snapshots__``.
"""

from __future__ import annotations

from textual.widgets import Input

from ohtchat.api.views import TorView
from ohtchat.i18n import using_language
from ohtchat.tui.app import SetupApp

from . import snapshot_backend
from .conftest import make_app
from .pilots import busy, settle, shown_table, until

SIZE = (100, 28)


def lists_loaded(app) -> bool:  # type: ignore[no-untyped-def]
    """The main screen has the node's status, contacts and channels."""
    main, backend = app.main, app.main.backend
    wanted = len(backend.contacts) + len(backend.channels)
    return main.model.status is not None and len(main.model.conversations) == wanted


def conversation_open(app) -> bool:  # type: ignore[no-untyped-def]
    """A conversation is open and its log shows the node's history of it."""
    main = app.main
    cid = main.model.current
    history = [m for m in main.backend.messages if m.conversation == cid]
    return cid is not None and not busy(app) and len(main.log_view.entries) == len(history)


def table_shown(app) -> bool:  # type: ignore[no-untyped-def]
    return shown_table(app) is not None


def setup_shown(app) -> bool:  # type: ignore[no-untyped-def]
    return bool(app.screen.query("#setup-box"))


async def steady(pilot, *keys: str, ready=lists_loaded, shown=None) -> None:  # type: ignore[no-untyped-def]
    """Wait until the screen is ``ready``, press ``keys``, wait until what they open is
    ``shown`` and every backend call is done, stop cursors blinking."""
    app = pilot.app
    await until(pilot, lambda: ready(app), "the screen loaded")
    for key in keys:
        await pilot.press(key)
    if shown is not None:
        await until(pilot, lambda: shown(app), "what the keys open")
    await settle(pilot)
    for field in app.query(Input):
        field.cursor_blink = False
    await pilot.pause()


def main_app():
    return make_app(snapshot_backend.alice(TorView("bootstrapping", 45, "Loading descriptors")))


def test_main_screen(snap_compare) -> None:
    assert snap_compare(
        main_app(),
        terminal_size=SIZE,
        run_before=lambda p: steady(p, "alt+2", shown=conversation_open),
    )


def test_main_screen_light_theme(snap_compare) -> None:
    app = make_app(snapshot_backend.alice(), theme="light")
    assert snap_compare(
        app, terminal_size=SIZE, run_before=lambda p: steady(p, "alt+1", shown=conversation_open)
    )


def test_main_screen_german(snap_compare) -> None:
    with using_language("de"):
        assert snap_compare(
            main_app(),
            terminal_size=SIZE,
            run_before=lambda p: steady(p, "alt+2", shown=conversation_open),
        )


def test_help_screen(snap_compare) -> None:
    assert snap_compare(
        main_app(), terminal_size=SIZE, run_before=lambda p: steady(p, "f1", shown=table_shown)
    )


def test_ring_view(snap_compare) -> None:
    assert snap_compare(
        main_app(), terminal_size=SIZE, run_before=lambda p: steady(p, "ctrl+r", shown=table_shown)
    )


def test_first_run_screen(snap_compare) -> None:
    assert snap_compare(
        SetupApp(first_run=True),
        terminal_size=SIZE,
        run_before=lambda p: steady(p, ready=setup_shown),
    )


def test_unlock_screen_russian(snap_compare) -> None:
    with using_language("ru"):
        app = SetupApp(first_run=False, account="alice")
        assert snap_compare(
            app, terminal_size=SIZE, run_before=lambda p: steady(p, ready=setup_shown)
        )


def test_main_screen_80x24(snap_compare) -> None:
    """tmux's default size: narrow sidebar, small console, one-line input, nothing cut."""
    assert snap_compare(
        main_app(),
        terminal_size=(80, 24),
        run_before=lambda p: steady(p, "alt+2", shown=conversation_open),
    )
