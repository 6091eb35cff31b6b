"""The client never makes command lines of its own: everything it does of its own accord is a
typed operation (``backend.call``); only the lines the user types with a leading ``/`` reach
``backend.execute``. Checked on a real node, behind a backend that records every call."""

from __future__ import annotations

from ohtchat.api.ops import (
    FingerTableOp,
    GetHistory,
    GetStatus,
    Help,
    ListChannels,
    ListContacts,
    RequestContact,
    Search,
    SendText,
    Whisper,
)

from .conftest import SIZE, Friends, make_app
from .nodes import Recorder, memory_ring, ok
from .pilots import loaded, settle, shown_table, type_line, until


async def test_the_client_calls_typed_operations_and_executes_only_typed_lines(
    friends: Friends,
) -> None:
    alice, bob = friends.alice, friends.bob
    b_id = bob.account.account_id
    backend = Recorder(alice)
    app = make_app(backend)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, alice.bus)
        model, log = app.main.model, app.main.log_view
        assert {type(op) for op in backend.called} == {GetStatus, ListChannels, ListContacts}

        # Opening a conversation loads its history; text typed there is sent to it.
        await pilot.press("alt+2")
        await until(pilot, lambda: model.current == b_id, "bob's conversation")
        await type_line(pilot, "see you at 8")
        await until(pilot, lambda: [e.text for e in log.entries] == ["see you at 8"], "sent")
        await until(pilot, lambda: log.entries[-1].state == "delivered", "delivered")
        # "//" sends a line starting with a slash.
        await type_line(pilot, "//shrug")
        await until(pilot, lambda: log.entries[-1].text == "/shrug", "the slash line")

        # A whisper arrives: shown from the event, nothing asked of the node.
        await settle(pilot)
        asked = len(backend.called)
        await ok(bob, Whisper(alice.account.account_id, "pizza?"))
        await until(pilot, lambda: log.entries[-1].text == "pizza?", "bob's answer")
        await settle(pilot)
        assert backend.called[asked:] == []

        # Search box, F1 (commands), Ctrl-R (fingers): each a table, each closed with Esc.
        await pilot.press("ctrl+f", *"pizza", "enter")
        found = await until(pilot, lambda: shown_table(app), "the search results")
        assert found.row_count == 1
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is app.main, "search closed")
        for key in ("f1", "ctrl+r"):
            await pilot.press(key)
            await until(pilot, lambda: shown_table(app), f"{key}'s table")
            await pilot.press("escape")
            await until(pilot, lambda: app.screen is app.main, f"{key}'s table closed")

        # A line the user typed is the only thing executed, with the open conversation.
        await type_line(pilot, "/history 1")
        await until(pilot, lambda: [e.text for e in log.entries] == ["pizza?"], "/history 1")
        await pilot.press("ctrl+q")
        await until(pilot, lambda: app.return_code is not None, "the client quit")
        await settle(pilot)

    assert backend.executed == [("/history 1", b_id)]
    sent = [op for op in backend.called if isinstance(op, SendText)]
    assert sent == [SendText(b_id, "see you at 8"), SendText(b_id, "/shrug")]
    kinds = {type(op) for op in backend.called}
    assert {GetHistory, Search, Help, FingerTableOp} <= kinds
    assert Search("pizza") in backend.called and Help() in backend.called


async def test_contact_changes_come_from_events_not_from_polling() -> None:
    """A contact request arrives as the node's event; the client then fetches the list (typed)
    for what the event does not carry (presence, unread count). Accepting it is an event too."""
    async with memory_ring("alice", "carol") as (alice, carol):
        a_id, c_id = alice.account.account_id, carol.account.account_id
        backend = Recorder(alice)
        app = make_app(backend)
        async with app.run_test(size=SIZE) as pilot:
            await loaded(pilot, alice.bus)
            model = app.main.model
            before = len(backend.called)
            await ok(carol, RequestContact(a_id, "hi, it's carol"))
            await until(pilot, lambda: c_id in model.conversations, "carol in the sidebar")
            await until(
                pilot,
                lambda: (
                    (model.conversations[c_id].state, model.conversations[c_id].unread)
                    == ("requested", 1)
                ),
                "the request with its message unread",
            )
            await type_line(pilot, f"/add {c_id}")
            await until(pilot, lambda: model.conversations[c_id].state == "accepted", "added")
            await until(pilot, lambda: model.conversations[c_id].presence == "online", "online")
            await settle(pilot)
            assert backend.executed == [(f"/add {c_id}", None)]
            assert backend.called[before:]  # the list, fetched after the events
            assert all(isinstance(op, ListContacts) for op in backend.called[before:])
