"""Client flows on the fake backend: ring membership notices and stale join errors, stable
Alt-n numbers, Esc after a search, Tab cycling, one's own contact request in the log."""

from __future__ import annotations

from textual.widgets import Input

from tests.events import publish

from .conftest import SIZE, make_app
from .fakes import FakeBackend
from .pilots import console_has, console_text, settle, shown_table, type_line, until

JOIN_ERROR = "joining the ring failed: connection refused"


async def test_joining_the_ring_is_announced_and_supersedes_join_errors(
    nodes: tuple[FakeBackend, FakeBackend],
) -> None:
    alice, _bob = nodes
    alice.member = False
    app = make_app(alice)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.main.model.status.get("member") is False, "the status")
        await until(pilot, lambda: alice.bus.subscribers == 1, "the client follows the events")
        publish(alice.bus, "log", level="warning", text=JOIN_ERROR, topic="join")
        await type_line(pilot, "/connect 127.0.0.1:9")  # the fake has no /connect: it fails
        await until(pilot, lambda: console_has(app, JOIN_ERROR, "/connect"), "the errors")
        publish(alice.bus, "log", level="warning", text="an unrelated warning")
        alice.member = True
        publish(alice.bus, "ring", member=True, successor=None, predecessor=None, peers=1)
        await until(pilot, lambda: console_has(app, "Joined the ring."), "the notice")
        assert not console_has(app, JOIN_ERROR)
        assert not console_has(app, "/connect")
        assert console_has(app, "an unrelated warning")
        # Later ring events of a member announce nothing new.
        publish(alice.bus, "ring", member=True, successor=None, predecessor=None, peers=2)
        await until(pilot, lambda: app.main.model.status.get("peers") == 2, "the next event")
        assert console_text(app).count("Joined the ring.") == 1


async def test_alt_numbers_stay_when_a_channel_is_added(
    nodes: tuple[FakeBackend, FakeBackend],
) -> None:
    alice, bob = nodes
    app = make_app(alice)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(app.main.model.conversations) == 2, "the lists")
        await settle(pilot)
        # A channel sorting before "book club" arrives.
        alice.add_channel("aa" * 32, "aardvarks", [alice.account_id])
        publish(alice.bus, "channel", channel_id="aa" * 32, name="aardvarks", members=[])
        await until(pilot, lambda: len(app.main.model.conversations) == 3, "the new channel")
        await pilot.press("alt+1")
        await until(pilot, lambda: app.main.model.current == "c3" * 32, "Alt-1: book club")
        await pilot.press("alt+2")
        await until(pilot, lambda: app.main.model.current == bob.account_id, "Alt-2: bob")
        await pilot.press("alt+3")
        await until(pilot, lambda: app.main.model.current == "aa" * 32, "Alt-3: aardvarks")
        sidebar_text = "\n".join(
            str(app.main.query_one("#sidebar").get_option_at_index(i).prompt)
            for i in range(app.main.query_one("#sidebar").option_count)
        )
        assert "3 # aardvarks" in sidebar_text and "1 # book club" in sidebar_text


async def test_one_esc_after_a_search_closes_the_search_box(
    nodes: tuple[FakeBackend, FakeBackend],
) -> None:
    alice, _bob = nodes
    app = make_app(alice)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+f")
        box = app.main.query_one("#search", Input)
        await until(pilot, lambda: box.has_focus, "the search box")
        await pilot.press(*"pizza", "enter")
        await until(pilot, lambda: shown_table(app) is not None, "the results")
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is app.main, "back on the main screen")
        await settle(pilot)
        assert not box.has_class("-open")
        assert app.main.query_one("#prompt").has_focus


async def test_tab_again_cycles_through_the_candidates(
    nodes: tuple[FakeBackend, FakeBackend],
) -> None:
    alice, _bob = nodes
    bobby = FakeBackend(alice.net, "b3" * 32, "bobby")
    alice.befriend(bobby)
    app = make_app(alice)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        prompt = app.main.query_one("#prompt", Input)
        prompt.focus()
        prompt.value = "/whisper b"
        prompt.cursor_position = len(prompt.value)
        await pilot.press("tab")
        await until(pilot, lambda: prompt.value == "/whisper bob", "the common prefix")
        await pilot.press("tab")
        await until(pilot, lambda: prompt.value == "/whisper bob ", "the first candidate")
        await pilot.press("tab")
        await until(pilot, lambda: prompt.value == "/whisper bobby ", "the second candidate")
        await pilot.press("tab")
        await until(pilot, lambda: prompt.value == "/whisper bob ", "round to the first")
        await pilot.press("shift+tab")
        await until(pilot, lambda: prompt.value == "/whisper bobby ", "Shift-Tab: back")
        assert prompt.has_focus
        await pilot.press(*"hi")  # typing ends the cycle: Tab completes afresh
        await pilot.press("tab")
        await settle(pilot)
        assert prompt.value == "/whisper bobby hi"


async def test_own_contact_request_text_shows_in_that_conversation(
    nodes: tuple[FakeBackend, FakeBackend],
) -> None:
    alice, _bob = nodes
    carol = FakeBackend(alice.net, "c4" * 32, "carol")
    app = make_app(alice)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await type_line(pilot, f"/request {carol.account_id} hi carol, it's alice")
        await until(pilot, lambda: carol.account_id in app.main.model.conversations, "carol")
        app.main.open(carol.account_id)
        log = app.main.log_view
        await until(
            pilot,
            lambda: any(e.text == "hi carol, it's alice" and e.outgoing for e in log.entries),
            "the request text in the conversation",
        )
        # Sent while the conversation is open: shown at once.
        await type_line(pilot, f"/request {carol.account_id} are you there?")
        await until(pilot, lambda: log.entries[-1].text == "are you there?", "the second request")
