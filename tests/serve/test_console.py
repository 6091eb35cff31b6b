"""The line console over a Backend: in-process (harness) and attached over the control socket."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import Any

from ohtchat.serve.client import RemoteBackend
from ohtchat.serve.console import PROMPT, format_event, run_console
from ohtchat.serve.control import ControlServer
from tests.events import event, message_data, publish
from tests.waiting import DEADLINE, eventually


class _SlowInput(io.StringIO):
    """Lines handed out one by one, each after the test allows it (like a person typing)."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__()
        self.lines = list(lines)
        self.gates = [__import__("threading").Event() for _ in lines]

    def readline(self, size: int | None = -1) -> str:
        if not self.lines:
            return ""
        gate = self.gates[len(self.gates) - len(self.lines)]
        gate.wait(DEADLINE)
        return self.lines.pop(0)


async def test_help_and_commands(backend: Any) -> None:
    stdin = io.StringIO("/help\n/status\n/whipser bob hi\n/whisper bob hi\nhow are you?\n")
    out = io.StringIO()
    assert await run_console(backend, stdin, out) == 0
    text = out.getvalue()
    assert text.startswith(PROMPT)
    assert "/whisper ID MESSAGE" in text and "/ringcast MESSAGE" in text  # /help lists all
    assert "harness is up" in text
    assert "Unknown command /whipser. Did you mean /whisper?" in text
    # /whisper opened the conversation: the plain line went to bob
    assert backend.history == [
        {"conversation": "bob", "text": "hi", "outgoing": True},
        {"conversation": "bob", "text": "how are you?", "outgoing": True},
    ]


async def test_usage_line_not_traceback(backend: Any) -> None:
    out = io.StringIO()
    await run_console(backend, io.StringIO("/whisper\nhello\n"), out)
    text = out.getvalue()
    assert "Missing ID.\nUsage: /whisper ID MESSAGE" in text
    assert "No conversation is open" in text
    assert "Traceback" not in text


async def test_quit_stops_reading(backend: Any) -> None:
    out = io.StringIO()
    assert await run_console(backend, io.StringIO("/quit\n/put never run\n"), out) == 0
    assert backend.kv == {}


async def test_events_are_printed(backend: Any) -> None:
    stdin = _SlowInput(["/status\n"])
    out = io.StringIO()
    task = asyncio.create_task(run_console(backend, stdin, out))
    await eventually(lambda: backend.bus.subscribers >= 1, "the console subscribed")
    publish(
        backend.bus,
        "message",
        **message_data(conversation="alice", sender_name="Alice", text="psst"),
    )
    await eventually(lambda: "psst" in out.getvalue(), "the event printed")
    stdin.gates[0].set()
    assert await asyncio.wait_for(task, DEADLINE) == 0
    assert "[alice] Alice: psst" in out.getvalue()


async def test_console_attached_over_the_socket(backend: Any, short_tmp: Path) -> None:
    sock = short_tmp / "c.sock"
    async with ControlServer(backend, sock), RemoteBackend(sock) as remote:
        out = io.StringIO()
        stdin = io.StringIO("/help whisper\n/put colour blue\n/get colour\n")
        assert await run_console(remote, stdin, out) == 0
    text = out.getvalue()
    assert "/whisper ID MESSAGE\n  Send a private message" in text and "blue" in text
    assert backend.kv == {"colour": "blue"}


def test_format_event() -> None:
    assert format_event(event("message", **message_data(outgoing=True, text="x"))) is None
    assert format_event(event("log", level="info", text="hello")) == "* hello"
    bo = {"account_id": "aa", "name": "bo"}
    assert format_event(event("presence", **bo, presence="away")) == "* bo: away"
    ring = {"member": True, "successor": None, "predecessor": None, "peers": 1}
    assert format_event(event("ring", **ring)) is None
