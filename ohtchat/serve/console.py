"""``ohtchat console``: the seed's line console (``ohtchat> /help``) over any Backend.

Lines are read from standard input and run through the backend (an in-process node or,
with ``--attach``, a served one); results and the node's events are printed as they come.
Plain text goes to the open conversation: the last one a command named (``/whisper bob
hi`` opens ``bob``). ``/quit`` (or end of input) leaves the console.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
from typing import TextIO

from ohtchat.api.backend import Backend
from ohtchat.api.events import NodeEvent
from ohtchat.api.results import CommandResult
from ohtchat.commands.errors import UsageError
from ohtchat.commands.parser import Command, parse
from ohtchat.i18n import _

PROMPT = "ohtchat> "


def format_event(event: NodeEvent) -> str | None:
    """One line for an event, or None for events the console does not show."""
    d = event.data
    if event.kind == "message" and not d.get("outgoing"):
        who = d.get("sender_name") or str(d.get("sender", ""))[:12]
        return f"[{d.get('conversation', '')}] {who}: {d.get('text', '')}"
    if event.kind == "message_state":
        return None
    if event.kind == "log":
        return f"* {d.get('text', '')}"
    if event.kind == "presence":
        return f"* {d.get('name') or d.get('account_id')}: {d.get('presence')}"
    if event.kind == "contact":
        return f"* {_('contact')} {d.get('name') or d.get('account_id')}: {d.get('state')}"
    if event.kind == "tor" and d.get("summary"):
        return f"* tor: {d.get('summary')}"
    return None


def format_result(result: CommandResult) -> str:
    """The text of a result (failed ones are the error with its usage line)."""
    return result.text


class LineReader:
    """Lines of a text stream delivered to the event loop by a daemon thread.

    A thread (not the loop) blocks in ``readline``, so the loop can exit while a terminal
    still waits for input; the thread then dies with the process.
    """

    def __init__(self, stream: TextIO) -> None:
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._loop = asyncio.get_running_loop()
        self._stream = stream
        threading.Thread(target=self._run, name="console-stdin", daemon=True).start()

    def _run(self) -> None:
        try:
            for line in iter(self._stream.readline, ""):
                self._loop.call_soon_threadsafe(self._queue.put_nowait, line)
        except (OSError, ValueError, RuntimeError):
            pass  # closed stream or loop gone
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._queue.put_nowait, None)

    async def readline(self) -> str | None:
        """The next line without its newline, or None at end of input."""
        line = await self._queue.get()
        return None if line is None else line.rstrip("\r\n")


async def run_console(
    backend: Backend,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    *,
    prompt: str = PROMPT,
    banner: str | None = None,
) -> int:
    """Run the console until ``/quit`` or end of input; returns 0."""
    out = stdout or sys.stdout
    reader = LineReader(stdin or sys.stdin)
    watcher = asyncio.create_task(_print_events(backend, out, prompt))
    conversation: str | None = None
    try:
        if banner:
            _write(out, banner + "\n")
        while True:
            _write(out, prompt)
            line = await reader.readline()
            if line is None:
                _write(out, "\n")
                return 0
            if not line.strip():
                continue
            if _is_quit(line):
                return 0
            result = await backend.execute(line, conversation)
            conversation = _conversation_after(line, result, conversation)
            if result.text:
                _write(out, result.text.rstrip("\n") + "\n")
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher


def _is_quit(line: str) -> bool:
    with contextlib.suppress(UsageError):
        item = parse(line)
        return isinstance(item, Command) and item.name == "quit"
    return False


def _conversation_after(line: str, result: CommandResult, current: str | None) -> str | None:
    """The conversation plain text goes to after running ``line``."""
    if not result.ok:
        return current
    conv = result.data.get("conversation")
    if isinstance(conv, str) and conv:
        return conv
    with contextlib.suppress(UsageError):
        item = parse(line)
        if isinstance(item, Command) and item.name in ("whisper", "channelcast", "history"):
            target = item.args.get("id") or item.args.get("conversation")
            if isinstance(target, str) and target:
                return target
    return current


async def _print_events(backend: Backend, out: TextIO, prompt: str) -> None:
    async for event in backend.events():
        text = format_event(event)
        if text is not None:
            _write(out, f"\r{text}\n{prompt}")


def _write(out: TextIO, text: str) -> None:
    try:
        out.write(text)
        out.flush()
    except (OSError, ValueError):
        pass  # a closed pipe must not kill the node
