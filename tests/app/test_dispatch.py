"""The typed dispatcher: handlers by operation type, lines parsed at the edge, every failure a
result (usage, handler failures, the lower layers' typed errors, bugs)."""

from __future__ import annotations

import json
import logging

import pytest

from ohtchat.api import ops
from ohtchat.api.results import CommandResult
from ohtchat.app.dispatch import ERROR_CODES, Dispatcher, HandlerTable, line_operation
from ohtchat.app.handlers import TABLES
from ohtchat.chat.accounts import AccountError
from ohtchat.chat.channels import ChannelError
from ohtchat.chat.presence import PresenceError
from ohtchat.chat.service import ChatError
from ohtchat.chord.errors import NotInRing
from ohtchat.commands import COMMANDS, CommandFailed, NotFound, UsageError
from ohtchat.config import ConfigError
from ohtchat.dht.errors import DhtUnavailable
from ohtchat.i18n import using_language
from ohtchat.store import StoreError


class LowerLayerError(Exception):
    """Stands for a typed error of a lower layer the dispatcher does not know."""


async def ok(ctx: object, args: ops.Operation) -> CommandResult:
    return CommandResult.success()


async def test_a_line_becomes_its_operation_and_reaches_its_handler() -> None:
    seen: list[tuple[str, ops.Whisper]] = []
    d: Dispatcher[str] = Dispatcher()

    async def whisper(ctx: str, args: ops.Whisper) -> CommandResult:
        seen.append((ctx, args))
        return CommandResult.success("sent", message_id=7)

    d.register(ops.Whisper, whisper)
    result = await d.execute("the context", "/msg alice hi  there")  # an alias
    assert result == CommandResult(True, "sent", {"message_id": 7})
    assert seen == [("the context", ops.Whisper("alice", "hi  there"))]
    assert json.loads(json.dumps(result.to_json())) == result.to_json()
    assert await d.call("typed", ops.Whisper("bob", "hi")) == result  # the same path
    assert seen[-1] == ("typed", ops.Whisper("bob", "hi"))


def test_plain_text_is_sent_to_the_open_conversation() -> None:
    assert line_operation("hello", "bob") == ops.SendText("bob", "hello")
    assert line_operation("//not a command", "bob") == ops.SendText("bob", "/not a command")
    assert line_operation("   ", None) is None
    with pytest.raises(CommandFailed) as caught:
        line_operation("hello", None)
    assert caught.value.code == "no_conversation"
    with pytest.raises(UsageError):
        line_operation("/whisper", "bob")
    assert line_operation("/history", "bob") == ops.GetHistory(None, None)


async def test_registration_rules() -> None:
    d: Dispatcher[None] = Dispatcher()
    d.register(ops.Whisper, ok)
    assert d.has_handler(ops.Whisper)
    with pytest.raises(ValueError, match="already"):
        d.register(ops.Whisper, ok)
    d.register(ops.Whisper, ok, replace=True)
    d.unregister(ops.Whisper)
    assert not d.has_handler(ops.Whisper)
    assert set(d.missing_handlers()) == {s.name for s in COMMANDS} - {"help"}
    d.register(ops.Help, ok)  # the built-in /help may be replaced
    table: HandlerTable[None] = HandlerTable()
    table.add(ops.Put, ok)
    with pytest.raises(ValueError, match="Put already has a handler"):
        Dispatcher(table, table)


def test_the_node_handles_every_command_but_webui() -> None:
    """/webui is installed by the layer that serves it (ohtchat.serve.webui)."""
    assert Dispatcher(*TABLES).missing_handlers() == ["webui"]


async def test_usage_and_unknown_commands_become_results() -> None:
    d: Dispatcher[None] = Dispatcher()
    usage = await d.execute(None, "/whisper alice")
    assert not usage.ok
    assert usage.data == {
        "error": "usage",
        "usage": "/whisper ID MESSAGE",
        "reason": "Missing MESSAGE.",
        "command": "whisper",
    }
    unknown = await d.execute(None, "/whipser a b")
    assert unknown.data["error"] == "unknown_command"
    assert unknown.data["suggestions"] == ["whisper"]


async def test_operations_without_a_handler_and_plain_text_without_a_conversation() -> None:
    d: Dispatcher[None] = Dispatcher()
    none = await d.execute(None, "/peers")
    assert (none.ok, none.data) == (False, {"error": "no_handler", "command": "peers"})
    assert "/peers" in none.text
    assert (await d.call(None, ops.ListPeers())).data["error"] == "no_handler"
    assert (await d.execute(None, "   ")).ok
    no_conv = await d.execute(None, "hello")
    assert no_conv.data["error"] == "no_conversation"
    assert "No conversation is open" in no_conv.text
    assert (await d.call(None, ops.SendText("bob", "hi"))).data["error"] == "no_conversation"


async def test_handler_errors_are_wrapped_by_kind(caplog: pytest.LogCaptureFixture) -> None:
    d: Dispatcher[None] = Dispatcher()

    async def failed(ctx: None, args: ops.RemoveContact) -> CommandResult:
        raise NotFound("no contact alice", data={"id": "alice"})

    async def lower(ctx: None, args: ops.Ping) -> CommandResult:
        raise LowerLayerError("peer unreachable")

    async def custom(ctx: None, args: ops.NewTor) -> CommandResult:
        raise CommandFailed("tor is not running", code="tor_down")

    async def usage(ctx: None, args: ops.Put) -> CommandResult:
        raise UsageError("put", "/put KEY VALUE", "Bad key.")

    d.register(ops.RemoveContact, failed)
    d.register(ops.Ping, lower)
    d.register(ops.NewTor, custom)
    d.register(ops.Put, usage)
    r = await d.execute(None, "/rm alice")
    assert r == CommandResult(
        False, "no contact alice", {"error": "not_found", "command": "rm", "id": "alice"}
    )
    assert (await d.execute(None, "/newtor")).data == {"error": "tor_down", "command": "newtor"}
    assert (await d.execute(None, "/put k v")).data["reason"] == "Bad key."
    with caplog.at_level(logging.ERROR):
        r = await d.execute(None, "/ping host:1")
    assert r.data == {"error": "internal", "command": "ping"}
    assert "LowerLayerError" in r.text and "handler of /ping failed" in caplog.text
    d.add_known_error(LowerLayerError, "lower")
    r = await d.execute(None, "/ping host:1")
    assert (r.text, r.data["error"]) == ("peer unreachable", "lower")

    strict: Dispatcher[None] = Dispatcher(reraise_unexpected=True)
    strict.register(ops.Ping, lower)
    with pytest.raises(LowerLayerError):
        await strict.execute(None, "/ping host:1")


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (NotInRing("not in a ring"), "ring"),
        (DhtUnavailable("no replica answered"), "dht"),
        (ChatError("no presence"), "chat"),
        (ChannelError("no channel"), "channel"),
        (AccountError("no account"), "account"),
        (PresenceError("stale"), "presence"),
        (ConfigError("bad key"), "config"),
        (StoreError("locked"), "store"),
        (TimeoutError(), "timeout"),
    ],
)
async def test_the_lower_layers_errors_keep_their_codes(error: Exception, code: str) -> None:
    d: Dispatcher[None] = Dispatcher()

    async def fails(ctx: None, args: ops.GetStatus) -> CommandResult:
        raise error

    d.register(ops.GetStatus, fails)
    r = await d.call(None, ops.GetStatus())
    assert r.data == {"error": code, "command": "status"}
    assert r.text == (str(error) or type(error).__name__)
    assert isinstance(error, tuple(ERROR_CODES))


async def test_builtin_help_in_the_active_language() -> None:
    d: Dispatcher[None] = Dispatcher()
    all_help = await d.execute(None, "/help")
    assert all_help.ok and len(all_help.data["commands"]) == len(COMMANDS)
    one = await d.call(None, ops.Help("whisper"))
    assert one.data["commands"][0]["usage"] == "/whisper ID MESSAGE"
    assert (await d.execute(None, "/? whisper")).data == one.data
    assert (await d.execute(None, "/help nosuch")).data["error"] == "unknown_command"
    with using_language("de"):
        german = await d.execute(None, "/help whisper")
    assert german.text.startswith("/whisper ID NACHRICHT")
    assert "Einem Kontakt eine private Nachricht senden" in german.text
