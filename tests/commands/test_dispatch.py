"""The dispatcher: handlers by name, every failure a result, nothing UI-specific."""

import json
import logging

import pytest

from ohtchat.api.results import CommandResult
from ohtchat.commands import (
    COMMANDS,
    Command,
    CommandFailed,
    Dispatcher,
    NotFound,
    PlainText,
)
from ohtchat.i18n import using_language


class LowerLayerError(Exception):
    """Stands for a typed error of a lower layer (transport, crypto, …)."""


async def test_registered_handler_receives_the_parsed_command() -> None:
    seen: list[Command] = []
    d = Dispatcher()

    @d.handles("whisper")
    async def whisper(cmd: Command) -> CommandResult:
        seen.append(cmd)
        return CommandResult.success("sent", message_id=7)

    result = await d.execute("/msg alice hi  there")
    assert result == CommandResult(True, "sent", {"message_id": 7})
    assert seen[0].args == {"id": "alice", "message": "hi  there"}
    assert json.loads(json.dumps(result.to_json())) == result.to_json()


async def test_registration_rules() -> None:
    d = Dispatcher()

    async def h(cmd: Command) -> CommandResult:
        return CommandResult.success()

    with pytest.raises(KeyError):
        d.register("nosuch", h)
    d.register("w", h)
    assert d.has_handler("whisper")
    with pytest.raises(ValueError, match="already"):
        d.register("whisper", h)
    d.register("whisper", h, replace=True)
    d.unregister("msg")
    assert not d.has_handler("whisper")
    assert set(d.missing_handlers()) == {s.name for s in COMMANDS} - {"help"}


async def test_usage_and_unknown_commands_become_results() -> None:
    d = Dispatcher()
    usage = await d.execute("/whisper alice")
    assert not usage.ok
    assert usage.data == {
        "error": "usage",
        "usage": "/whisper ID MESSAGE",
        "reason": "Missing MESSAGE.",
        "command": "whisper",
    }
    unknown = await d.execute("/whipser a b")
    assert unknown.data["error"] == "unknown_command"
    assert unknown.data["suggestions"] == ["whisper"]


async def test_missing_handler_and_plain_text() -> None:
    d = Dispatcher()
    none = await d.execute("/peers")
    assert (none.ok, none.data["error"]) == (False, "no_handler")
    assert "/peers" in none.text
    assert (await d.execute("   ")).ok
    no_conv = await d.execute("hello")
    assert no_conv.data["error"] == "no_conversation"

    sent: list[str] = []

    async def plain(p: PlainText) -> CommandResult:
        sent.append(p.text)
        return CommandResult.success()

    d.set_plain_text_handler(plain)
    assert (await d.execute("//not a command")).ok
    assert sent == ["/not a command"]


async def test_handler_errors_are_wrapped_by_kind(caplog: pytest.LogCaptureFixture) -> None:
    d = Dispatcher(known_errors=[LowerLayerError])

    async def failed(cmd: Command) -> CommandResult:
        raise NotFound("no contact alice", data={"id": "alice"})

    async def lower(cmd: Command) -> CommandResult:
        raise LowerLayerError("peer unreachable")

    async def bug(cmd: Command) -> CommandResult:
        raise ZeroDivisionError

    d.register("rm", failed)
    d.register("ping", lower)
    d.register("peers", bug)
    r = await d.execute("/rm alice")
    assert r == CommandResult(
        False, "no contact alice", {"error": "not_found", "command": "rm", "id": "alice"}
    )
    r = await d.execute("/ping host:1")
    assert (r.text, r.data["error"]) == ("peer unreachable", "failed")
    with caplog.at_level(logging.ERROR):
        r = await d.execute("/peers")
    assert r.data["error"] == "internal" and "ZeroDivisionError" in r.text
    assert "handler of /peers failed" in caplog.text
    d.add_known_error(ZeroDivisionError, "math")
    assert (await d.execute("/peers")).data["error"] == "math"

    strict = Dispatcher(reraise_unexpected=True)
    strict.register("peers", bug)
    with pytest.raises(ZeroDivisionError):
        await strict.execute("/peers")


async def test_custom_failure_code() -> None:
    d = Dispatcher()

    async def h(cmd: Command) -> CommandResult:
        raise CommandFailed("tor is not running", code="tor_down")

    d.register("newtor", h)
    assert (await d.execute("/newtor")).data == {"error": "tor_down", "command": "newtor"}


async def test_builtin_help_in_the_active_language() -> None:
    d = Dispatcher()
    all_help = await d.execute("/help")
    assert all_help.ok and len(all_help.data["commands"]) == len(COMMANDS)
    one = await d.execute("/? whisper")
    assert one.data["commands"][0]["usage"] == "/whisper ID MESSAGE"
    assert (await d.execute("/help nosuch")).data["error"] == "unknown_command"
    with using_language("de"):
        german = await d.execute("/help whisper")
    assert german.text.startswith("/whisper ID NACHRICHT")
    assert "Einem Kontakt eine private Nachricht senden" in german.text
