"""The main screen on a small terminal (80×24, tmux's default): the chat gets the lines, the
sidebar narrows or hides (F2 toggles it), nothing is cut off at the right edge."""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import Static

from ohtchat.api.events import LogEvent, TorEvent
from ohtchat.api.ops import Whisper
from ohtchat.tui.layout import COLLAPSE_BELOW, NARROW_SIDEBAR, key_hints, sidebar_width
from ohtchat.tui.log import MessageLog
from ohtchat.tui.sidebar import Sidebar
from ohtchat.tui.statusbar import StatusBar

from .conftest import Friends, make_app
from .nodes import ok
from .pilots import console_has, console_text, loaded, settle, until

SMALL = (80, 24)
LONG = (
    "joining the ring failed: connection refused by every bootstrap peer in the list, "
    "retrying in thirty seconds"
)


def test_sidebar_width_follows_the_terminal_and_the_toggle() -> None:
    assert sidebar_width(120, None) == 28
    assert sidebar_width(80, None) == NARROW_SIDEBAR
    assert sidebar_width(COLLAPSE_BELOW - 1, None) == 0
    assert sidebar_width(COLLAPSE_BELOW - 1, True) == NARROW_SIDEBAR
    assert sidebar_width(120, False) == 0


def test_key_hints_keep_whole_hints_and_say_when_some_are_left_out() -> None:
    for width in (40, 60, 80, 100):
        text = key_hints(width).plain
        assert cell_len(text) <= width - 2, width
        assert text.endswith(" …"), width
        assert "Ctrl-Q quit" in text
    assert not key_hints(200).plain.endswith("…")


async def test_80x24_gives_the_chat_the_lines(friends: Friends) -> None:
    alice = friends.alice
    app = make_app(alice)
    async with app.run_test(size=SMALL) as pilot:
        await loaded(pilot, alice.bus)
        await until(pilot, lambda: len(app.main.model.conversations) == 2, "the lists")
        await pilot.press("alt+2")
        await settle(pilot)
        sidebar = app.main.query_one(Sidebar)
        assert sidebar.display and sidebar.region.width <= NARROW_SIDEBAR
        assert app.main.query_one(MessageLog).region.height >= 14  # was 11 (9 with candidates)
        assert app.main.query_one("#keys", Static).region.right <= SMALL[0]


async def test_console_wraps_long_lines_at_its_width(friends: Friends) -> None:
    alice = friends.alice
    app = make_app(alice)
    async with app.run_test(size=SMALL) as pilot:
        await loaded(pilot, alice.bus)
        alice.bus.publish(LogEvent("warning", LONG))  # a notice, as the node (or demo) posts
        await until(pilot, lambda: console_has(app, LONG), "the long line")
        console = app.main.console
        width = console.scrollable_content_region.width
        assert all(strip.cell_length <= width for strip in console.lines)
        # Every word whole on one row: wrapped at spaces, not cut.
        rows = console_text(app).splitlines()
        assert all(any(word in row for row in rows) for word in LONG.split())
        await pilot.press("f2")  # the console widens: re-wrapped, still whole
        await until(pilot, lambda: console.scrollable_content_region.width > width, "wider")
        await until(pilot, lambda: console_has(app, LONG), "the long line re-wrapped")


async def test_status_bar_fits_and_shortens_deliberately(friends: Friends) -> None:
    """The status bar at its fullest: tor bootstrapping (its progress bar shown), the onion,
    the ring with both neighbours, the last delivery state."""
    alice = friends.alice
    app = make_app(alice)
    async with app.run_test(size=SMALL) as pilot:
        await loaded(pilot, alice.bus)
        # This node runs on the memory transport: tor's progress is what a node on onions
        # reports while its tor bootstraps (see test_client.py).
        alice.bus.publish(TorEvent("bootstrapping", 45, "Loading"))
        bar_shown = app.main.query_one("#status-progress")
        await until(pilot, lambda: bar_shown.display, "the progress bar")
        await until(pilot, lambda: app.main.model.ring.peers == 1, "the ring")
        await settle(pilot)
        bar = app.main.query_one(StatusBar)
        shown = [w for w in bar.children if w.display]
        assert all(w.region.right <= SMALL[0] for w in shown), [w.region for w in shown]
        assert ".onion" in str(app.main.query_one("#status-onion", Static).render())
        # A full line: the ring part gives way, shortened with "…", never cut silently.
        await ok(alice, Whisper(friends.bob.account.account_id, "hi"))
        delivery = app.main.query_one("#status-delivery", Static)
        await until(
            pilot, lambda: str(delivery.render()) == "last message: delivered", "the delivery"
        )
        ring = app.main.query_one("#status-ring", Static)
        await until(pilot, lambda: ring.render_line(0).text.strip().endswith("…"), "ellipsis")
        assert all(w.region.right <= SMALL[0] for w in shown), [w.region for w in shown]


async def test_f2_toggles_the_sidebar_and_small_terminals_hide_it(friends: Friends) -> None:
    alice = friends.alice
    app = make_app(alice)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        sidebar = app.main.query_one(Sidebar)
        log = app.main.query_one(MessageLog)
        assert sidebar.display
        await pilot.press("f2")
        await until(pilot, lambda: not sidebar.display and log.region.width == 80, "hidden")
        await pilot.press("f2")
        await until(pilot, lambda: sidebar.display and log.region.width < 80, "shown again")
        await pilot.resize_terminal(COLLAPSE_BELOW - 10, 20)
        await until(pilot, lambda: sidebar.display, "the user's choice wins over the width")
    app = make_app(alice)
    async with app.run_test(size=(COLLAPSE_BELOW - 10, 20)) as pilot:
        await settle(pilot)
        assert not app.main.query_one(Sidebar).display
        await pilot.press("f2")
        await until(pilot, lambda: app.main.query_one(Sidebar).display, "opened by F2")


def test_sidebar_entries_shorten_the_name_not_the_unread_count() -> None:
    from ohtchat.tui.model import Conversation

    conv = Conversation("ab" * 32, "a very long contact name indeed", "contact", unread=12)
    text: Text = Sidebar._prompt(conv, 3, NARROW_SIDEBAR - 2)
    assert text.cell_len <= NARROW_SIDEBAR - 2
    assert text.plain.startswith("3 ") and text.plain.endswith(" (12)") and "…" in text.plain
