"""Pilot tests of the client's main flows against real nodes.

Every app here drives a real :class:`~ohtchat.chat.node.ChatNode` (loopback TCP, real sessions,
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

from textual.widgets import DataTable, Input

from ohtchat.chat.node import ChatNode
from ohtchat.commands import COMMANDS
from ohtchat.tui.app import OhtchatApp, SetupApp
from ohtchat.tui.local import _unlock_check
from ohtchat.tui.screens.setup import FirstRunResult, UnlockResult
from ohtchat.tui.screens.tables import TableScreen
from tests.chat.ringnodes import options, start_ring

from .pilots import console_has, console_text, settle, static_text, type_line, until

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
    """Wait until the client has its node's status and lists."""
    await settle(pilot)
    await until(pilot, lambda: "account_id" in pilot.app.main.model.status)


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
        await pilot.pause()
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
            assert app.theme == "textual-dark"
            assert app.main.model.status["name"] == "Alice"
            assert app.main.model.status["member"] is True
            assert "not on a ring" not in static_text(app, "#status-ring")
            assert static_text(app, "#status-tor") == "no Tor"
            await type_line(pilot, "/quit")
        assert app.return_code == 0
    finally:
        await node.stop()

    unlock = SetupApp(first_run=False, account="Alice", check=_unlock_check(_dirs(data_dir)))
    async with unlock.run_test(size=SIZE) as pilot:
        await pilot.pause()
        unlock.screen.query_one("#unlock-pass", Input).focus()
        await pilot.press(*"correct horsE", "enter")
        await until(pilot, lambda: "1 failed attempt" in static_text_of(unlock, "#setup-error"))
        await pilot.press(*"correct horse", "enter")
        await until(pilot, lambda: unlock.return_value is not None or not unlock.is_running)
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
            assert "Contact request to bob: delivered." in console_text(app_a)
            model_b = app_b.main.model
            await until(pb, lambda: a_id in model_b.conversations)
            await until(pb, lambda: model_b.conversations[a_id].unread == 1)
            assert model_b.conversations[a_id].state == "requested"
            assert "alice ? (1)" in sidebar_text(app_b)  # a request, with its message unread

            # Bob accepts.
            await type_line(pb, f"/add {a_id}")
            assert "Added alice (delivered)." in console_text(app_b)
            model_a = app_a.main.model
            await until(pa, lambda: b_id in model_a.conversations)
            await until(pa, lambda: model_a.conversations[b_id].state == "accepted")
            await until(pa, lambda: model_a.conversations[b_id].presence == "online")
            assert "● bob" in sidebar_text(app_a)

            # Alice opens bob (Alt-1) and types plain text: a whisper to the open conversation.
            await pa.press("alt+1")
            await settle(pa)
            assert model_a.current == b_id
            await type_line(pa, "see you at 8")
            log_a = app_a.main.log_view
            await until(pa, lambda: log_a.entries and log_a.entries[-1].state == "delivered")
            assert [e.text for e in log_a.entries] == ["see you at 8"]
            assert log_a.entries[-1].outgoing
            assert model_a.last_sent is not None and model_a.last_sent[1] == "delivered"
            assert static_text(app_a, "#status-delivery") == "last message: delivered"
            assert "Message delivered." in console_text(app_a)

            # Bob looks at nothing: the whisper is counted, listed and announced.
            await until(pb, lambda: model_b.conversations[a_id].unread == 2)
            assert "alice (2)" in sidebar_text(app_b)
            assert any("see you at 8" in str(n.message) for n in app_b._notifications)
            await pb.press("alt+1")
            await settle(pb)
            log_b = app_b.main.log_view
            await until(pb, lambda: [e.text for e in log_b.entries][-1:] == ["see you at 8"])
            assert [e.text for e in log_b.entries] == ["hi, it's alice", "see you at 8"]
            assert [e.name for e in log_b.entries] == ["alice", "alice"]
            assert not log_b.entries[-1].outgoing
            assert model_b.conversations[a_id].unread == 0
            assert "(2)" not in sidebar_text(app_b)

            # Bob answers; Alice is looking at him, so it lands in her log, not as unread.
            await type_line(pb, "great, pizza?")
            await until(pa, lambda: log_a.entries[-1].text == "great, pizza?")
            assert model_a.conversations[b_id].unread == 0

            # Not focused: a bell (the default) rather than a toast.
            rings: list[int] = []
            app_b.bell = lambda: rings.append(1)  # type: ignore[method-assign]
            app_b.app_focus = False
            await type_line(pa, "ring ring")
            await until(pb, lambda: rings == [1])
            app_b.main.notify_mode = "off"
            await type_line(pa, "silent")
            await until(pb, lambda: log_b.entries[-1].text == "silent")
            assert rings == [1]

            # Ctrl-F search on Bob's side finds Alice's message and opens its conversation.
            await pb.press("alt+1")
            await pb.press("ctrl+f")
            await pb.press(*"pizza", "enter")
            await settle(pb)
            assert isinstance(app_b.screen, TableScreen)
            assert app_b.screen.query_one(DataTable).row_count == 1
            await pb.press("enter")
            await settle(pb)
            assert model_b.current == a_id
            assert log_b.highlight == "pizza"

            # Tab completes commands, and contact names from the real node's store.
            prompt = app_a.main.query_one("#prompt", Input)
            prompt.focus()
            await pa.press("slash", "w", "h", "tab")
            await settle(pa)
            assert prompt.value == "/whisper "
            await pa.press("b", "tab")
            await settle(pa)
            assert prompt.value == "/whisper bob "
            prompt.value, prompt.cursor_position = "/c", 2
            await pa.press("tab")
            await settle(pa)
            assert "/channels" in app_a.main.query_one("#prompt").candidates  # type: ignore[attr-defined]

        # A client started later lists the contacts with their unread counts from the node.
        await alice.execute("/whisper bob while you were away")
        later = client(bob)
        async with later.run_test(size=SIZE) as pilot:
            await loaded(pilot)
            await until(pilot, lambda: a_id in later.main.model.conversations)
            conv = later.main.model.conversations[a_id]
            assert (conv.label, conv.state, conv.unread) == ("alice", "accepted", 1)
            assert later.main.model.current is None
            assert later.main.model.status["account_id"] == b_id


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
            assert "Ringcast sent to" in console_text(app_a)
            await until(pb, lambda: "ringcast" in model_b.conversations)
            conv = model_b.conversations["ringcast"]
            assert (conv.kind, conv.label, conv.unread) == ("channel", "ringcast", 1)
            assert "# ringcast (1)" in sidebar_text(app_b)
            assert not list(app_b._notifications)  # a ringcast is not a whisper
            await pb.press("alt+1")
            await settle(pb)
            log_b = app_b.main.log_view
            await until(pb, lambda: [e.text for e in log_b.entries] == ["hello ring"])
            assert log_b.entries[0].name == "alice"

            # Text typed in the ringcast conversation is a ringcast.
            await type_line(pb, "hello from bob")
            await until(pa, lambda: "ringcast" in model_a.conversations)
            await until(pb, lambda: log_b.entries[-1].text == "hello from bob")
            assert model_a.conversations["ringcast"].unread == 1

            # Alice creates a channel; Bob joins it by id; Alice's channel text reaches Bob.
            await type_line(pa, "/channel chess")
            assert "Created channel chess" in console_text(app_a)
            await until(pa, lambda: "chess" in [c.label for c in model_a.ordered()])
            cid = next(c.id for c in model_a.ordered() if c.label == "chess")
            await type_line(pb, f"/join {cid}")
            assert "Joined chess (2 members)." in console_text(app_b)
            await until(pb, lambda: cid in model_b.conversations)
            assert model_b.conversations[cid].kind == "channel"
            assert "# chess" in sidebar_text(app_b)
            assert "ringcast" in model_b.conversations  # kept when /channels reloads

            # Alice switches with the keyboard (channels sort by name: chess, ringcast).
            seen = []
            for key in ("ctrl+n", "ctrl+n", "ctrl+p", "alt+2", "alt+9", "ctrl+p"):
                await pa.press(key)
                seen.append(model_a.current)
            assert seen == [cid, "ringcast", cid, "ringcast", "ringcast", cid]
            await settle(pa)
            await type_line(pa, "meeting at 9")
            await until(pb, lambda: model_b.conversations[cid].unread == 1)
            await type_line(pa, f"/channelcast {cid} bring boards")
            await until(pb, lambda: model_b.conversations[cid].unread == 2)
            log_a = app_a.main.log_view
            assert [e.text for e in log_a.entries] == ["meeting at 9", "bring boards"]
            assert model_a.last_sent is not None and model_a.last_sent[1] == "delivered"

            # Bob clicks the channel in the sidebar.
            sidebar = app_b.main.query_one("#sidebar")
            row = sidebar.get_option_index(cid)  # type: ignore[attr-defined]
            await pb.click("#sidebar", offset=(4, row))
            await settle(pb)
            assert model_b.current == cid
            assert [e.text for e in log_b.entries] == ["meeting at 9", "bring boards"]

            # Leaving removes it from the sidebar.
            await type_line(pb, f"/leave {cid}")
            await until(pb, lambda: cid not in model_b.conversations)
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
                await type_line(pilot, line)
                text = console_text(app)
                assert console_has(app, *expected), (line, expected, text[-400:])
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
            assert isinstance(app.screen, TableScreen)
            assert app.screen.query_one(DataTable).row_count >= 1
            await pilot.press("escape")
            await type_line(pilot, "/peers")
            assert isinstance(app.screen, TableScreen)
            assert app.screen.query_one(DataTable).row_count == 1
            await pilot.press("escape")
            await pilot.pause()
            assert app.screen is app.main
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
            assert isinstance(app.screen, TableScreen)
            assert app.screen.query_one(DataTable).row_count == 0
            await pilot.press("escape")
            await pilot.press("f1")
            await settle(pilot)
            assert isinstance(app.screen, TableScreen)
            assert app.screen.query_one(DataTable).row_count == len(COMMANDS)
            await pilot.press("down", "enter")  # the second command goes to the input line
            await settle(pilot)
            assert app.main.query_one("#prompt", Input).value == f"/{COMMANDS[1].name} "
            await shows("/help whisper", "Example: /whisper alice see you at 8")
            await type_line(pilot, "/quit")
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
            text = console_text(app)
            assert console_has(app, "no single contact matches 'nobody'")
            assert "Usage: /whisper ID MESSAGE" in text
            assert "Usage: /history [CONVERSATION] [N]" in text
            assert "Did you mean /whisper" in text
            assert "Usage: /put KEY VALUE" in text
            assert "Invalid signature." in text
            assert "Traceback" not in text
            await type_line(pilot, "hello?")  # plain text without an open conversation
            assert "No conversation is open" in console_text(app)
            await type_line(pilot, "/status")
            assert console_has(app, f"Account: alice ({alice.account.account_id})")
