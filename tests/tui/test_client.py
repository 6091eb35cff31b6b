"""Pilot tests of the main flows against the fake backend."""

from __future__ import annotations

from textual.widgets import DataTable, Input, ProgressBar, RichLog

from ohtchat.commands import COMMANDS
from ohtchat.tui.screens.tables import TableScreen

from .conftest import SIZE, make_app
from .fakes import FakeBackend

BOB, CLUB = "b2" * 32, "c3" * 32


def console_text(app) -> str:
    log = app.main.query_one("#console", RichLog)
    return "\n".join(strip.text for strip in log.lines)


async def settle(pilot, n: int = 3) -> None:
    """Let messages and backend workers finish (the event pump never does)."""
    for _ in range(n):
        await pilot.pause()
    for _ in range(100):
        if not [w for w in pilot.app.workers if w.group != "events" and w.is_running]:
            break
        await pilot.pause()
    await pilot.pause()


async def type_line(pilot, text: str) -> None:
    prompt = pilot.app.main.query_one("#prompt", Input)
    prompt.value = text
    prompt.cursor_position = len(text)
    await pilot.press("enter")
    await settle(pilot)


async def test_lists_and_status_load_on_start(nodes: tuple[FakeBackend, FakeBackend]) -> None:
    alice, _bob = nodes
    app = make_app(alice)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        model = app.main.model
        assert [c.label for c in model.ordered()] == ["book club", "bob"]
        assert model.status["account_id"] == alice.account_id
        assert model.conversations[BOB].presence == "online"
        assert ("/status", None) in alice.executed


async def test_whisper_from_open_conversation_reaches_the_other_client(nodes) -> None:
    alice, bob = nodes
    app_a, app_b = make_app(alice), make_app(bob)
    async with app_a.run_test(size=SIZE) as pa, app_b.run_test(size=SIZE) as pb:
        await settle(pa)
        await settle(pb)
        await pa.press("alt+2")  # bob
        await settle(pa)
        log = app_a.main.log_view
        assert [e.text for e in log.entries] == ["hi alice", "hello bob, pizza tonight?", "sure"]
        await type_line(pa, "see you at 8")
        await settle(pb)
        assert log.entries[-1].text == "see you at 8"
        assert log.entries[-1].state == "delivered"
        assert app_a.main.model.last_sent is not None
        assert app_a.main.model.last_sent[1] == "delivered"
        assert ("see you at 8", BOB) in alice.executed
        # Bob has no conversation open: the whisper is counted unread and announced.
        conv = app_b.main.model.conversations[alice.account_id]
        assert conv.unread == 1
        assert any("see you at 8" in str(n.message) for n in app_b._notifications)
        await pb.press("alt+2")
        await settle(pb)
        assert app_b.main.log_view.entries[-1].text == "see you at 8"
        assert conv.unread == 0


async def test_bell_when_not_focused(nodes) -> None:
    alice, bob = nodes
    app = make_app(bob, notify="bell")
    rings: list[int] = []
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.bell = lambda: rings.append(1)  # type: ignore[method-assign]
        app.app_focus = False
        await alice.execute(f"/whisper {BOB} ping")
        await settle(pilot)
        assert rings == [1]
        app.main.notify_mode = "off"
        await alice.execute(f"/whisper {BOB} again")
        await settle(pilot)
        assert rings == [1]


async def test_wrong_arguments_show_the_usage_line(nodes) -> None:
    alice, _bob = nodes
    app = make_app(alice)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await type_line(pilot, "/whisper")
        await type_line(pilot, "/history bob lots")
        await type_line(pilot, "/whispr bob hi")
        text = console_text(app)
        assert "Usage: /whisper ID MESSAGE" in text
        assert "Usage: /history [CONVERSATION] [N]" in text
        assert "Did you mean /whisper" in text
        assert "Traceback" not in text
        await type_line(pilot, "hello?")  # plain text without an open conversation
        assert "No conversation is open" in console_text(app)


async def test_tab_completes_commands_and_contacts(nodes) -> None:
    alice, _bob = nodes
    app = make_app(alice)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        prompt = app.main.query_one("#prompt", Input)
        await pilot.press("slash", "w", "h", "tab")
        await settle(pilot)
        assert prompt.value == "/whisper "
        await pilot.press("b", "tab")
        await settle(pilot)
        assert prompt.value == "/whisper bob "
        prompt.value = "/c"
        prompt.cursor_position = 2
        await pilot.press("tab")
        await settle(pilot)
        assert "/channels" in app.main.query_one("#prompt").candidates


async def test_ring_views_are_tables(nodes) -> None:
    alice, _bob = nodes
    app = make_app(alice)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert isinstance(app.screen, TableScreen)
        assert app.screen.query_one(DataTable).row_count == 2
        await pilot.press("escape")
        await type_line(pilot, "/peers")
        assert app.screen.query_one(DataTable).row_count == 1
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.main


async def test_help_lists_every_command_and_fills_the_input(nodes) -> None:
    alice, _bob = nodes
    app = make_app(alice)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f1")
        await settle(pilot)
        table = app.screen.query_one(DataTable)
        assert table.row_count == len(COMMANDS)
        await pilot.press("down", "enter")  # the second command: /set
        await settle(pilot)
        assert app.main.query_one("#prompt", Input).value == f"/{COMMANDS[1].name} "
        await type_line(pilot, "/help whisper")
        assert "Example: /whisper alice see you at 8" in console_text(app)


async def test_search_box_finds_and_opens_the_conversation(nodes) -> None:
    alice, _bob = nodes
    app = make_app(alice)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+f")
        await pilot.press(*"pizza", "enter")
        await settle(pilot)
        assert isinstance(app.screen, TableScreen)
        assert app.screen.query_one(DataTable).row_count == 1
        await pilot.press("enter")
        await settle(pilot)
        assert app.main.model.current == BOB
        assert app.main.log_view.highlight == "pizza"
        await pilot.press("escape")
        assert app.main.log_view.highlight == ""


async def test_keyboard_switching(nodes) -> None:
    alice, _bob = nodes
    app = make_app(alice)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        seen = []
        for key in ("ctrl+n", "ctrl+n", "ctrl+n", "ctrl+p", "alt+1", "alt+9"):
            await pilot.press(key)
            seen.append(app.main.model.current)
        assert seen == [CLUB, BOB, CLUB, BOB, CLUB, CLUB]
        await settle(pilot)
        assert app.main.log_view.entries[0].text == "welcome to the book club"


async def test_sidebar_click_opens_conversation(nodes) -> None:
    alice, _bob = nodes
    app = make_app(alice)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.click("#sidebar", offset=(4, 4))  # the row of "bob"
        await settle(pilot)
        assert app.main.model.current == BOB


async def test_tor_bootstrap_progress_bar(nodes) -> None:
    alice, _bob = nodes
    app = make_app(alice)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        bar = app.main.query_one(ProgressBar)
        assert not bar.display
        alice.bus.publish("tor", state="bootstrapping", progress=40, summary="Loading")
        await settle(pilot)
        assert bar.display and bar.progress == 40
        alice.bus.publish("tor", state="running", progress=100, summary="Done")
        await settle(pilot)
        assert not bar.display


async def test_channel_ringcast_and_quit(nodes) -> None:
    alice, bob = nodes
    app = make_app(alice)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await type_line(pilot, "/channel chess")
        await settle(pilot)
        assert "chess" in [c.label for c in app.main.model.ordered()]
        await type_line(pilot, f"/channelcast {CLUB} meeting at 9")
        assert bob.messages[-1]["text"] == "meeting at 9"
        await bob.execute("/ringcast hello ring")
        await settle(pilot)
        assert "ringcast from bob: hello ring" in console_text(app)
        await type_line(pilot, "/quit")
    assert app.return_code == 0


async def test_every_command_group_goes_through_the_backend(nodes) -> None:
    alice, _bob = nodes
    app = make_app(alice)
    lines = [
        "/config",
        "/tor status",
        "/successor",
        "/get greeting",
        "/webui",
        "/accounts",
        "/contacts",
        "/channels",
        "/status",
    ]
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for line in lines:
            await type_line(pilot, line)
        executed = [line for line, _conv in alice.executed]
        assert all(line in executed for line in lines)
        text = console_text(app)
        assert "/config is not available here yet." in text  # a failure is shown, not raised
        assert "alice a1a1a1a1" in text


async def test_theme_toggle(nodes) -> None:
    alice, _bob = nodes
    app = make_app(alice, theme="light")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.theme == "textual-light"
        await pilot.press("ctrl+t")
        assert app.theme == "textual-dark"
