"""``ohtchat cmd [--json] "/command args"``: one console command sent to a running node.

Prints the result's text (or, with ``--json``, one JSON object ``{"ok", "text", "data"}``)
and exits 0 on success, 1 when the command failed, 2 when no node could be reached.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import TextIO

from ohtchat.api.results import CommandResult
from ohtchat.i18n import _, format_decimal
from ohtchat.serve.client import NodeUnreachable, RemoteBackend

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_UNREACHABLE = 2


async def run_command(
    socket_path: Path, line: str, *, conversation: str | None = None, timeout: float = 300.0
) -> CommandResult:
    """Run ``line`` on the node at ``socket_path``; raises :class:`NodeUnreachable`."""
    async with RemoteBackend(socket_path) as backend:
        try:
            return await asyncio.wait_for(backend.execute(line, conversation), timeout)
        except TimeoutError:
            return CommandResult.failure(
                _("no answer within {seconds} s (the command may still be running)").format(
                    seconds=format_decimal(timeout)
                ),
                "timeout",
            )


def main_cmd(
    socket_path: Path,
    line: str,
    *,
    as_json: bool = False,
    conversation: str | None = None,
    timeout: float = 300.0,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """The ``ohtchat cmd`` sub-command; returns the exit status."""
    out, err = stdout or sys.stdout, stderr or sys.stderr
    try:
        result = asyncio.run(
            run_command(socket_path, line, conversation=conversation, timeout=timeout)
        )
    except NodeUnreachable as exc:
        if as_json:
            failure = CommandResult.failure(str(exc), "unreachable", socket=str(socket_path))
            print(json.dumps(failure.to_json(), ensure_ascii=False), file=out)
        else:
            print(f"ohtchat cmd: {exc}", file=err)
        return EXIT_UNREACHABLE
    if as_json:
        print(json.dumps(result.to_json(), ensure_ascii=False), file=out)
    elif result.text:
        print(result.text, file=out if result.ok else err)
    return EXIT_OK if result.ok else EXIT_FAILED
