"""Client flows on real nodes (in-process, memory network): joining the ring supersedes stale
join errors, stable Alt-n numbers, Esc after a search, Tab cycling, one's own contact request in
the log, history paging, text typed into the ringcast conversation."""

from __future__ import annotations

import pytest
from textual.widgets import Input

from ohtchat.api.constants import RINGCAST_CONVERSATION
from ohtchat.api.ops import CreateChannel, GetHistory, RingCast, Whisper
from ohtchat.api.views import MessageList
from ohtchat.transport.memory import MemoryNetwork
from ohtchat.tui.screens import main as main_screen
from tests.waiting import eventually

from .conftest import SIZE, Friends, make_app
from .nodes import befriend, memory_ring, ok, start_node
from .pilots import (
    console_has,
    console_text,
    loaded,
    settle,
    shown_table,
    type_line,
    until,
)

JOIN_ERROR = "joining the ring failed"


async def test_joining_the_ring_is_announced_and_supersedes_join_errors() -> None:
    """Bob's seed is not there yet: the node's join failures and his own failed /connect show
    until the seed comes up and Bob joins; an unrelated failure stays."""
    net = MemoryNetwork()
    bob = await start_node(net, "bob", ["mem-alice"])
    nodes = [bob]
    try:
        app = make_app(bob)
        async with app.run_test(size=SIZE) as pilot:
            await loaded(pilot, bob.bus)
            model = app.main.model
            assert model.ring.member is False
            await until(pilot, lambda: console_has(app, JOIN_ERROR), "the node's join failures")
            await type_line(pilot, "/connect mem-nowhere")
            await until(pilot, lambda: console_has(app, "no route to mem-nowhere"), "/connect")
            await type_line(pilot, "/get colour")  # the DHT's failure is not a join failure
            await until(pilot, lambda: console_has(app, "not in a ring"), "/get")

            nodes.append(await start_node(net, "alice", listen="mem-alice"))
            await until(pilot, lambda: console_has(app, "Joined the ring."), "the notice")
            assert model.ring.member is True
            assert not console_has(app, JOIN_ERROR)
            assert not console_has(app, "no route to mem-nowhere")
            assert console_has(app, "not in a ring")

            # Later ring events of a member announce nothing new.
            nodes.append(await start_node(net, "carol", ["mem-alice"]))
            await until(pilot, lambda: model.ring.peers == 2, "carol in bob's ring event")
            assert console_text(app).count("Joined the ring.") == 1
    finally:
        for node in nodes:
            await node.stop()


async def test_alt_numbers_stay_when_a_channel_is_added(friends: Friends) -> None:
    alice, bob = friends.alice, friends.bob
    app = make_app(alice)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, alice.bus)
        model = app.main.model
        await until(pilot, lambda: len(model.conversations) == 2, "the lists")
        # A channel sorting before "book club" is created (by another UI of the node).
        created = await ok(alice, CreateChannel("aardvarks"))
        aardvarks = str(created.data["channel_id"])
        await until(pilot, lambda: len(model.conversations) == 3, "the new channel")
        await pilot.press("alt+1")
        await until(pilot, lambda: model.current == friends.club, "Alt-1: book club")
        await pilot.press("alt+2")
        await until(pilot, lambda: model.current == bob.account.account_id, "Alt-2: bob")
        await pilot.press("alt+3")
        await until(pilot, lambda: model.current == aardvarks, "Alt-3: aardvarks")
        sidebar = app.main.query_one("#sidebar")
        sidebar_text = "\n".join(
            str(sidebar.get_option_at_index(i).prompt)  # type: ignore[attr-defined]
            for i in range(sidebar.option_count)  # type: ignore[attr-defined]
        )
        assert "3 # aardvarks" in sidebar_text and "1 # book club" in sidebar_text


async def test_one_esc_after_a_search_closes_the_search_box(friends: Friends) -> None:
    alice, bob = friends.alice, friends.bob
    await ok(bob, Whisper(alice.account.account_id, "hello alice, pizza tonight?"))
    app = make_app(alice)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, alice.bus)
        await pilot.press("ctrl+f")
        box = app.main.query_one("#search", Input)
        await until(pilot, lambda: box.has_focus, "the search box")
        await pilot.press(*"pizza", "enter")
        table = await until(pilot, lambda: shown_table(app), "the results")
        assert table.row_count == 1
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is app.main, "back on the main screen")
        await settle(pilot)
        assert not box.has_class("-open")
        assert app.main.query_one("#prompt").has_focus
        assert app.main.log_view.highlight == "pizza"


async def test_tab_again_cycles_through_the_candidates() -> None:
    async with memory_ring("alice", "bob", "bobby") as (alice, bob, bobby):
        await befriend(alice, bob)
        await befriend(alice, bobby)
        app = make_app(alice)
        async with app.run_test(size=SIZE) as pilot:
            await loaded(pilot, alice.bus)
            prompt = app.main.query_one("#prompt", Input)
            prompt.focus()
            # "bo", not "b": contacts also complete by account id (hex digits, never an "o").
            prompt.value = "/whisper bo"
            prompt.cursor_position = len(prompt.value)
            await pilot.press("tab")
            await until(pilot, lambda: prompt.value == "/whisper bob", "the common prefix")
            # In the node's order, as the candidates line shows them.
            first, second = prompt.candidates  # type: ignore[attr-defined]
            assert {first, second} == {"bob", "bobby"}
            await pilot.press("tab")
            await until(pilot, lambda: prompt.value == f"/whisper {first} ", "the first candidate")
            await pilot.press("tab")
            await until(pilot, lambda: prompt.value == f"/whisper {second} ", "the second one")
            await pilot.press("tab")
            await until(pilot, lambda: prompt.value == f"/whisper {first} ", "round to the first")
            await pilot.press("shift+tab")
            await until(pilot, lambda: prompt.value == f"/whisper {second} ", "Shift-Tab: back")
            assert prompt.has_focus
            await pilot.press(*"hi")  # typing ends the cycle: Tab completes afresh
            await pilot.press("tab")
            await settle(pilot)
            assert prompt.value == f"/whisper {second} hi"


async def test_own_contact_request_text_shows_in_that_conversation() -> None:
    async with memory_ring("alice", "carol") as (alice, carol):
        carol_id = carol.account.account_id
        app = make_app(alice)
        async with app.run_test(size=SIZE) as pilot:
            await loaded(pilot, alice.bus)
            model = app.main.model
            await type_line(pilot, f"/request {carol_id} hi carol, it's alice")
            await until(pilot, lambda: carol_id in model.conversations, "carol in the sidebar")
            await until(pilot, lambda: model.conversations[carol_id].state == "pending", "pending")
            app.main.open(carol_id)
            log = app.main.log_view
            await until(
                pilot,
                lambda: any(e.text == "hi carol, it's alice" and e.outgoing for e in log.entries),
                "the request text in the conversation",
            )
            # Sent while the conversation is open: shown at once.
            await type_line(pilot, f"/request {carol_id} are you there?")
            await until(pilot, lambda: log.entries[-1].text == "are you there?", "the second")


async def test_scrolling_to_the_top_pages_in_older_messages(
    friends: Friends, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A conversation opens with its latest page; at the top the client fetches twice as
    much, keeping the message that was at the top in view, until it has everything."""
    monkeypatch.setattr(main_screen, "HISTORY_PAGE", 20)
    alice, bob = friends.alice, friends.bob
    b_id = bob.account.account_id
    for i in range(50):
        await ok(bob, Whisper(alice.account.account_id, f"message {i:02d}"))

    async def all_arrived() -> bool:  # directly, or from the mailbox when a receipt was late
        view = (await ok(alice, GetHistory(b_id, 100))).view
        assert isinstance(view, MessageList)
        return len(view.messages) == 50

    await eventually(all_arrived, "bob's 50 whispers stored on alice's node")
    app = make_app(alice)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, alice.bus)
        log = app.main.log_view

        def texts() -> list[str]:
            return [e.text for e in log.entries]

        await pilot.press("alt+2")
        await until(pilot, lambda: len(log.entries) == 20, "the latest page")
        assert texts() == [f"message {i:02d}" for i in range(30, 50)]
        await until(pilot, lambda: log.scroll_y == log.max_scroll_y > 0, "at the end")

        log.scroll_home(animate=False, immediate=True)
        await until(pilot, lambda: len(log.entries) == 40, "twice as much")
        assert texts()[0] == "message 10"
        await until(pilot, lambda: log.scroll_y > 0, "the former top message in view")
        log.scroll_home(animate=False, immediate=True)
        await until(pilot, lambda: len(log.entries) == 50, "everything")
        assert texts() == [f"message {i:02d}" for i in range(50)]
        log.scroll_to(y=1, animate=False, immediate=True)
        log.scroll_home(animate=False, immediate=True)
        await settle(pilot)
        assert app.main.requested[b_id] == 80  # asked once more, got 50
        assert len(log.entries) == 50


async def test_text_typed_in_the_ringcast_conversation_is_a_ringcast(friends: Friends) -> None:
    alice, bob = friends.alice, friends.bob
    app_a, app_b = make_app(alice), make_app(bob)
    async with app_a.run_test(size=SIZE) as pa, app_b.run_test(size=SIZE) as pb:
        await loaded(pa, alice.bus)
        await loaded(pb, bob.bus)
        model_a, model_b = app_a.main.model, app_b.main.model
        await ok(alice, RingCast("hello ring"))
        await until(pb, lambda: RINGCAST_CONVERSATION in model_b.conversations, "the ringcast")
        app_b.main.open(RINGCAST_CONVERSATION)
        log_b = app_b.main.log_view
        await until(pb, lambda: [e.text for e in log_b.entries] == ["hello ring"], "bob's log")
        await type_line(pb, "hello from bob")
        await until(pb, lambda: log_b.entries[-1].text == "hello from bob", "bob's own ringcast")
        await until(pa, lambda: RINGCAST_CONVERSATION in model_a.conversations, "bob's ringcast")
        assert model_a.conversations[RINGCAST_CONVERSATION].unread == 1
        assert "Traceback" not in console_text(app_b)
