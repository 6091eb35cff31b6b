"""Pilot tests of the client's main flows against real nodes.

Every app here drives a real :class:`~ohtchat.app.node.ChatNode` (loopback TCP, real sessions,
ring, DHT and chat) in the test's event loop; where a flow needs two people, there is one app
per node. Nothing is faked: a whisper typed in one app travels the network to the other node
and shows up in the other app through its event stream.
"""

from __future__ import annotations

import types
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC
from pathlib import Path

from textual.widgets import Input

from ohtchat.api.ops import ListContacts, Whisper
from ohtchat.api.views import ContactList
from ohtchat.app.node import ChatNode
from ohtchat.commands import COMMANDS
from ohtchat.tui.app import OhtchatApp, SetupApp
from ohtchat.tui.local import _unlock_check
from ohtchat.tui.screens.setup import FirstRunResult, UnlockResult
from tests.chat.ringnodes import options, start_ring
from tests.waiting import eventually

from .pilots import (
    clear_console,
    console_has,
    console_text,
    settle,
    shown_table,
    static_text,
    type_line,
    until,
)
from .pilots import loaded as loaded_with

SIZE = (120, 40)


@asynccontextmanager
async def ring(base: Path, names: list[str]) -> AsyncIterator[list[ChatNode]]:
    """Real nodes on loopback TCP, stopped however the test ends."""
    nodes = await start_ring(base, names)
    try:
        yield nodes
    finally:
        for node in nodes:
            await node.stop()


def client(node: ChatNode) -> OhtchatApp:
    """The full-screen client of ``node``, in UTC."""
    return OhtchatApp(node, tz=UTC)


async def loaded(pilot) -> None:  # type: ignore[no-untyped-def]
    """Wait until the client has its node's status and lists and follows its events (an
    event the node publishes before the client subscribed never reaches the client)."""
    await loaded_with(pilot, pilot.app.backend.bus)


def on_main(app: OhtchatApp) -> bool:
    """True when the main screen is on top again (a table screen was closed)."""
    return app.screen is app.main


def sidebar_text(app: OhtchatApp) -> str:
    """The sidebar's rows as plain text."""
    sidebar = app.main.query_one("#sidebar")
    return "\n".join(
        str(sidebar.get_option_at_index(i).prompt)  # type: ignore[attr-defined]
        for i in range(sidebar.option_count)  # type: ignore[attr-defined]
    )


def _dirs(data_dir: Path) -> types.SimpleNamespace:
    """The part of the node settings the unlock check reads."""
    return types.SimpleNamespace(data_dir=data_dir, memory=False)


def static_text_of(app, selector: str) -> str:  # type: ignore[no-untyped-def]
    """The text of a ``Static`` on the app's current screen."""
    return str(app.screen.query_one(selector).render())


async def test_first_run_then_unlock_with_a_real_store(tmp_path: Path) -> None:
    """First run creates the account a node then starts with; unlock checks the real store."""
    setup = SetupApp(first_run=True)
    async with setup.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = setup.screen
        screen.query_one("#setup-name", Input).value = "Alice"
        screen.query_one("#setup-pass", Input).value = "correct horse"
        screen.query_one("#setup-pass2", Input).value = "correct horse"
        screen.query_one("#setup-pass2", Input).focus()
        await pilot.press("enter")
        await until(pilot, lambda: setup.return_value is not None, "the first-run result")
    created = setup.return_value
    assert created == FirstRunResult("Alice", "correct horse")

    data_dir = tmp_path / "alice"
    node = await ChatNode.start(options(data_dir, created.name, []), created.passphrase)
    try:
        account = node.account.account_id
        await node.ready(30)
        app = OhtchatApp(node, tz=UTC, theme="light")
        async with app.run_test(size=SIZE) as pilot:
            await loaded(pilot)
            assert app.theme == "textual-light"
            await pilot.press("ctrl+t")
            await until(pilot, lambda: app.theme == "textual-dark", "the dark theme")
            status = app.main.model.status
            assert status is not None and status.name == "Alice"
            assert app.main.model.ring.member is True
            assert "not on a ring" not in static_text(app, "#status-ring")
            assert static_text(app, "#status-tor") == "no Tor"
            await type_line(pilot, "/quit")
            await until(pilot, lambda: app.return_code is not None, "the client quit")
        assert app.return_code == 0
    finally:
        await node.stop()

    unlock = SetupApp(first_run=False, account="Alice", check=_unlock_check(_dirs(data_dir)))
    async with unlock.run_test(size=SIZE) as pilot:
        await pilot.pause()
        unlock.screen.query_one("#unlock-pass", Input).focus()
        await pilot.press(*"correct horsE", "enter")
        await until(
            pilot,
            lambda: "1 failed attempt" in static_text_of(unlock, "#setup-error"),
            "the wrong passphrase refused",
        )
        await pilot.press(*"correct horse", "enter")
        await until(
            pilot,
            lambda: unlock.return_value is not None or not unlock.is_running,
            "the unlock result",
        )
    assert unlock.return_value == UnlockResult("correct horse")

    again = await ChatNode.start(options(data_dir, "", []), unlock.return_value.passphrase)
    try:
        assert again.account.account_id == account
        assert again.account.name == "Alice"
    finally:
        await again.stop()


async def test_contact_request_accept_then_whisper_between_two_clients(tmp_path: Path) -> None:
    """Request and accept through the UI, whisper from A's open conversation to B: B's sidebar
    counts it unread and announces it, B's log shows it when opened, A shows it delivered."""
    async with ring(tmp_path, ["alice", "bob"]) as (alice, bob):
        a_id, b_id = alice.account.account_id, bob.account.account_id
        app_a, app_b = client(alice), client(bob)
        async with app_a.run_test(size=SIZE) as pa, app_b.run_test(size=SIZE) as pb:
            await loaded(pa)
            await loaded(pb)
            assert "No conversations yet" in sidebar_text(app_b)

            await type_line(pa, f"/request {b_id} hi, it's alice")
            await until(
                pa, lambda: console_has(app_a, "Contact request to bob: delivered."), "request"
            )
            model_b = app_b.main.model
            await until(
                pb,
                lambda: (
                    (model_b.conversations[a_id].state, model_b.conversations[a_id].unread)
                    == ("requested", 1)
                ),
                "bob's client shows the request",
            )
            # A request, with its message unread.
            await until(pb, lambda: "alice ? (1)" in sidebar_text(app_b), "bob's sidebar")

            # Bob accepts.
            await type_line(pb, f"/add {a_id}")
            await until(pb, lambda: console_has(app_b, "Added alice (delivered)."), "/add")
            model_a = app_a.main.model
            await until(pa, lambda: b_id in model_a.conversations, "bob in alice's list")
            await until(pa, lambda: model_a.conversations[b_id].state == "accepted", "accepted")
            await until(pa, lambda: model_a.conversations[b_id].presence == "online", "online")
            await until(pa, lambda: "● bob" in sidebar_text(app_a), "alice's sidebar")

            # Alice opens bob (Alt-1) and types plain text: a whisper to the open conversation.
            await pa.press("alt+1")
            await until(pa, lambda: model_a.current == b_id, "bob's conversation open")
            await settle(pa)
            await type_line(pa, "see you at 8")
            log_a = app_a.main.log_view
            await until(
                pa,
                lambda: log_a.entries and log_a.entries[-1].state == "delivered",
                "the whisper delivered in alice's log",
            )
            await until(pa, lambda: console_has(app_a, "Message delivered."), "the result")
            # Her own request's text shows too, before the whisper (issue 18).
            assert [e.text for e in log_a.entries] == ["hi, it's alice", "see you at 8"]
            assert log_a.entries[0].outgoing
            assert log_a.entries[-1].outgoing
            assert model_a.last_sent is not None and model_a.last_sent[1] == "delivered"
            assert static_text(app_a, "#status-delivery") == "last message: delivered"

            # Bob looks at nothing: the whisper is counted, listed and announced.
            await until(pb, lambda: model_b.conversations[a_id].unread == 2, "bob's unread")
            await until(pb, lambda: "alice (2)" in sidebar_text(app_b), "bob's sidebar")
            await until(
                pb,
                lambda: any("see you at 8" in str(n.message) for n in app_b._notifications),
                "the whisper announced",
            )
            await pb.press("alt+1")
            await settle(pb)
            log_b = app_b.main.log_view
            await until(
                pb,
                lambda: [e.text for e in log_b.entries][-1:] == ["see you at 8"],
                "bob's log",
            )
            assert [e.text for e in log_b.entries] == ["hi, it's alice", "see you at 8"]
            assert [e.name for e in log_b.entries] == ["alice", "alice"]
            assert not log_b.entries[-1].outgoing
            assert model_b.conversations[a_id].unread == 0
            assert "(2)" not in sidebar_text(app_b)

            # Bob answers; Alice is looking at him, so it lands in her log, not as unread.
            await type_line(pb, "great, pizza?")
            await until(pa, lambda: log_a.entries[-1].text == "great, pizza?", "alice's log")
            assert model_a.conversations[b_id].unread == 0

            # Not focused: a bell (the default) rather than a toast.
            rings: list[int] = []
            app_b.bell = lambda: rings.append(1)  # type: ignore[method-assign]
            app_b.app_focus = False
            await type_line(pa, "ring ring")
            await until(pb, lambda: rings == [1], "the bell")
            app_b.main.notify_mode = "off"
            await type_line(pa, "silent")
            await until(pb, lambda: log_b.entries[-1].text == "silent", "bob's log")
            assert rings == [1]

            # Ctrl-F search on Bob's side finds Alice's message and opens its conversation.
            await pb.press("alt+1")
            await pb.press("ctrl+f")
            await pb.press(*"pizza", "enter")
            await settle(pb)
            found = await until(pb, lambda: shown_table(app_b), "the search results")
            assert found.row_count == 1
            await pb.press("enter")
            await until(pb, lambda: on_main(app_b), "the search results closed")
            await settle(pb)
            assert model_b.current == a_id
            assert log_b.highlight == "pizza"

            # Tab completes commands, and contact names from the real node's store.
            prompt = app_a.main.query_one("#prompt", Input)
            prompt.focus()
            await pa.press("slash", "w", "h", "tab")
            await until(pa, lambda: prompt.value == "/whisper ", "/wh completed")
            # "bo", not "b": contacts also complete by account id (hex), and bob's id starts
            # with "b" in one run of sixteen, which would make "b" ambiguous.
            await pa.press("b", "o", "tab")
            await until(pa, lambda: prompt.value == "/whisper bob ", "bo completed to bob")
            prompt.value, prompt.cursor_position = "/c", 2
            await pa.press("tab")
            await until(
                pa,
                lambda: "/channels" in prompt.candidates,  # type: ignore[attr-defined]
                "the candidates of /c",
            )

        # A client started later lists the contacts with their unread counts from the node.
        assert (await alice.call(Whisper(b_id, "while you were away"))).ok

        async def bob_has_it() -> bool:  # direct, or through the mailbox when that timed out
            contacts = (await bob.call(ListContacts())).view
            assert isinstance(contacts, ContactList)
            return any(c.account_id == a_id and c.unread == 1 for c in contacts.contacts)

        await eventually(bob_has_it, "the whisper stored on bob's node", timeout=60)
        later = client(bob)
        async with later.run_test(size=SIZE) as pilot:
            await loaded(pilot)
            await until(pilot, lambda: a_id in later.main.model.conversations, "the contacts")
            conv = later.main.model.conversations[a_id]
            assert (conv.label, conv.state, conv.unread) == ("alice", "accepted", 1)
            assert later.main.model.current is None
            status = later.main.model.status
            assert status is not None and status.account_id == b_id


async def test_ringcast_and_channel_between_two_clients(tmp_path: Path) -> None:
    """A ringcast typed in one client shows up in the other's ringcast conversation; a channel
    created in one client is joined from the other, and channel text reaches both."""
    async with ring(tmp_path, ["alice", "bob"]) as (alice, bob):
        app_a, app_b = client(alice), client(bob)
        async with app_a.run_test(size=SIZE) as pa, app_b.run_test(size=SIZE) as pb:
            await loaded(pa)
            await loaded(pb)
            model_a, model_b = app_a.main.model, app_b.main.model

            await type_line(pa, "/ringcast hello ring")
            await until(pa, lambda: console_has(app_a, "Ringcast sent to"), "the ringcast sent")
            await until(pb, lambda: "ringcast" in model_b.conversations, "the ringcast arrived")
            conv = model_b.conversations["ringcast"]
            assert (conv.kind, conv.label, conv.unread) == ("channel", "ringcast", 1)
            assert "# ringcast (1)" in sidebar_text(app_b)
            await pb.press("alt+1")
            await settle(pb)
            assert not list(app_b._notifications)  # a ringcast is not a whisper
            log_b = app_b.main.log_view
            await until(pb, lambda: [e.text for e in log_b.entries] == ["hello ring"], "bob's log")
            assert log_b.entries[0].name == "alice"

            # Text typed in the ringcast conversation is a ringcast.
            await type_line(pb, "hello from bob")
            await until(pa, lambda: "ringcast" in model_a.conversations, "bob's ringcast")
            await until(pb, lambda: log_b.entries[-1].text == "hello from bob", "bob's log")
            assert model_a.conversations["ringcast"].unread == 1

            # Alice creates a channel; Bob joins it by id; Alice's channel text reaches Bob.
            await type_line(pa, "/channel chess")
            await until(pa, lambda: console_has(app_a, "Created channel chess"), "/channel")
            await until(
                pa, lambda: "chess" in [c.label for c in model_a.ordered()], "alice's channel"
            )
            cid = next(c.id for c in model_a.ordered() if c.label == "chess")
            await type_line(pb, f"/join {cid}")
            await until(pb, lambda: console_has(app_b, "Joined chess (2 members)."), "/join")
            await until(pb, lambda: cid in model_b.conversations, "bob's channel")
            assert model_b.conversations[cid].kind == "channel"
            assert "# chess" in sidebar_text(app_b)
            assert "ringcast" in model_b.conversations  # kept when /channels reloads

            # Alice switches with the keyboard (channels sort by name: chess, ringcast; their
            # Alt numbers stay as given: ringcast came first, 1, and chess is 2).
            keys = ("ctrl+n", "ctrl+n", "ctrl+p", "alt+1", "alt+9", "ctrl+p")
            wanted = [cid, "ringcast", cid, "ringcast", "ringcast", cid]
            for key, want in zip(keys, wanted, strict=True):
                await pa.press(key)
                await until(pa, lambda want=want: model_a.current == want, f"{key} → {want}")
            await settle(pa)
            await type_line(pa, "meeting at 9")
            await until(pb, lambda: model_b.conversations[cid].unread == 1, "bob's unread")
            await type_line(pa, f"/channelcast {cid} bring boards")
            await until(pb, lambda: model_b.conversations[cid].unread == 2, "bob's unread")
            log_a = app_a.main.log_view
            await until(
                pa,
                lambda: [e.text for e in log_a.entries] == ["meeting at 9", "bring boards"],
                "alice's log",
            )
            await until(
                pa,
                lambda: model_a.last_sent is not None and model_a.last_sent[1] == "delivered",
                "the channel text delivered",
            )

            # Bob clicks the channel in the sidebar.
            sidebar = app_b.main.query_one("#sidebar")
            row = sidebar.get_option_index(cid)  # type: ignore[attr-defined]
            await pb.click("#sidebar", offset=(4, row))
            await until(pb, lambda: model_b.current == cid, "the clicked channel open")
            await settle(pb)
            await until(
                pb,
                lambda: [e.text for e in log_b.entries] == ["meeting at 9", "bring boards"],
                "the channel's history in bob's log",
            )

            # Leaving removes it from the sidebar.
            await type_line(pb, f"/leave {cid}")
            await until(pb, lambda: cid not in model_b.conversations, "the channel left")
            assert "# chess" not in sidebar_text(app_b)


async def test_every_command_group_renders_on_a_real_node(tmp_path: Path) -> None:
    """One command of every group goes through a real node and is shown without an error
    that is not the command's own; ring views, help and search open as tables."""
    async with ring(tmp_path, ["alice", "bob"]) as (alice, bob):
        a_id, b_id = alice.account.account_id, bob.account.account_id
        app = client(alice)
        async with app.run_test(size=SIZE) as pilot:
            await loaded(pilot)

            async def shows(line: str, *expected: str) -> None:
                """The console shows ``expected`` as the output of ``line`` (cleared before,
                so nothing an earlier command printed counts)."""
                clear_console(app)
                await type_line(pilot, line)
                await until(pilot, lambda: console_has(app, *expected), f"{line} → {expected}")
                text = console_text(app)
                assert "Traceback" not in text
                assert "The command failed." not in text

            # CONFIG
            await shows("/set notify.mode both", "Set notify.mode.")
            assert app.main.notify_mode == "both"
            await shows("/config", "notify.mode = 'both'")
            await shows("/unset notify.mode", "Unset notify.mode.")
            # TOR: this node runs on TCP
            await shows("/tor", "This node does not use tor (transport tcp).")
            await shows("/newtor", "This node does not use tor")
            # NETWORK
            await shows("/successor", bob.identity.onion)
            await shows(f"/lookup {b_id}", "Owner of", "Account bob is at")
            await shows(f"/ping {bob.listener.address}", "answered in")
            await pilot.press("ctrl+r")  # /ftable
            await settle(pilot)
            fingers = await until(pilot, lambda: shown_table(app), "the finger table")
            assert fingers.row_count >= 1
            await pilot.press("escape")
            await until(pilot, lambda: on_main(app), "the finger table closed")
            await type_line(pilot, "/peers")
            peers = await until(pilot, lambda: shown_table(app), "the peers table")
            assert peers.row_count == 1
            await pilot.press("escape")
            await until(pilot, lambda: on_main(app), "the peers table closed")
            # DHT
            await shows("/put colour blue", "Stored on")
            await shows("/get colour", "blue")
            await shows("/delete colour", "Deleted on")
            await shows("/get colour", "No value under colour.")
            # ACCOUNT
            await shows("/accounts", f"* alice  {a_id}")
            signature = alice.accounts.sign("alice", "hello")  # ed25519 is deterministic
            await shows("/sign alice hello", signature)
            await shows(f"/verify alice hello {signature}", "Valid signature.")
            # CONTACTS and CHANNELS (none yet)
            await shows("/contacts", "No contacts yet")
            await shows("/channels", "No channels yet")
            # /status, /history, /search, /help
            await shows("/status", f"Account: alice ({a_id})", "Transport: tcp; tor: off")
            await shows("/history", "no conversations yet")
            await type_line(pilot, "/search nothing-like-this")
            found = await until(pilot, lambda: shown_table(app), "the search results")
            assert found.row_count == 0
            await pilot.press("escape")
            await until(pilot, lambda: on_main(app), "the search results closed")
            await pilot.press("f1")
            await settle(pilot)
            commands = await until(pilot, lambda: shown_table(app), "the help table")
            assert commands.row_count == len(COMMANDS)
            await pilot.press("down", "enter")  # the second command goes to the input line
            prompt = app.main.query_one("#prompt", Input)
            await until(pilot, lambda: on_main(app), "the help table closed")
            await until(pilot, lambda: prompt.value, "the chosen command in the input line")
            assert prompt.value == f"/{COMMANDS[1].name} "
            await shows("/help whisper", "Example: /whisper alice see you at 8")
            await type_line(pilot, "/quit")
            await until(pilot, lambda: app.return_code is not None, "the client quit")
        assert app.return_code == 0


async def test_wrong_arguments_show_the_usage_line(tmp_path: Path) -> None:
    """Bad input typed at a real node's client: the usage line or a clear error, never a
    traceback, and the client keeps running."""
    async with ring(tmp_path, ["alice"]) as (alice,):
        app = client(alice)
        async with app.run_test(size=SIZE) as pilot:
            await loaded(pilot)
            for line in (
                "/whisper",
                "/history bob lots",
                "/whispr bob hi",
                "/put onlykey",
                "/whisper nobody hi",
                "/join 12",
                "/verify alice hello not-a-signature",
            ):
                await type_line(pilot, line)
            await until(
                pilot,
                lambda: console_has(
                    app,
                    "no single contact matches 'nobody'",
                    "Usage: /whisper ID MESSAGE",
                    "Usage: /history [CONVERSATION] [N]",
                    "Did you mean /whisper",
                    "Usage: /put KEY VALUE",
                    "Invalid signature.",
                ),
                "the errors of the wrong lines",
            )
            await settle(pilot)  # /join 12 has no fixed text: let it finish too
            text = console_text(app)
            assert "Usage: /whisper ID MESSAGE" in text
            assert "Usage: /history [CONVERSATION] [N]" in text
            assert "Did you mean /whisper" in text
            assert "Usage: /put KEY VALUE" in text
            assert "Invalid signature." in text
            assert "Traceback" not in text
            await type_line(pilot, "hello?")  # plain text without an open conversation
            await until(pilot, lambda: console_has(app, "No conversation is open"), "refused")
            await type_line(pilot, "/status")
            await until(
                pilot,
                lambda: console_has(app, f"Account: alice ({alice.account.account_id})"),
                "/status",
            )
