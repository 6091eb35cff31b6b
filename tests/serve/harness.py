"""TEST HARNESS, not the product: a Backend made of the node's real Dispatcher and EventBus.

A few commands have toy handlers so the serve layer (control socket, RemoteBackend, cmd,
console, daemon) can be tested before and independently of the real chat node:
``/status`` reports a fixed identity, ``/whisper ID MESSAGE`` publishes a ``message``
event and keeps it for ``/history``, ``/put`` and ``/get`` use a dict, ``/ping`` fails on
purpose with a ``CommandFailed``. Run as a script, it serves the harness through the real
daemon: ``python harness.py --data-dir D [--store]`` (``--store`` opens a real encrypted
store in D, so its lock is the real one).
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from ohtchat.api import ops
from ohtchat.api.bus import EventBus
from ohtchat.api.events import LogEvent, MessageEvent, NodeEvent
from ohtchat.api.results import CommandResult
from ohtchat.app.dispatch import Dispatcher
from ohtchat.commands import CommandFailed
from ohtchat.commands.complete import StaticCompletions, complete
from ohtchat.commands.spec import Completion


class HarnessBackend:
    """Dispatcher + EventBus with toy handlers (see the module docstring)."""

    def __init__(self, name: str = "harness") -> None:
        self.name = name
        self.bus = EventBus()
        self.dispatcher: Dispatcher[None] = Dispatcher()
        self.kv: dict[str, str] = {}
        self.history: list[dict[str, Any]] = []
        self.stopped = False
        self.reloads = 0
        self.completions = StaticCompletions({Completion.CONTACT: ["alice", "albert", "bob"]})
        d = self.dispatcher
        d.register(ops.GetStatus, self._status)
        d.register(ops.Whisper, self._whisper)
        d.register(ops.GetHistory, self._history)
        d.register(ops.Put, self._put)
        d.register(ops.Get, self._get)
        d.register(ops.Ping, self._ping)
        d.register(ops.SendText, self._plain)

    async def execute(self, line: str, conversation: str | None = None) -> CommandResult:
        return await self.dispatcher.execute(None, line, conversation)

    async def call(self, op: ops.Operation) -> CommandResult:
        return await self.dispatcher.call(None, op)

    def events(self) -> AsyncIterator[NodeEvent]:
        return self.bus.subscribe()

    async def complete(self, line: str, cursor: int) -> list[str]:
        return complete(line, cursor, self.completions)

    async def stop(self) -> None:
        self.stopped = True

    def reload_config(self) -> None:
        self.reloads += 1
        self.bus.publish(LogEvent("info", f"reloaded {self.reloads}"))

    async def _status(self, ctx: None, op: ops.GetStatus) -> CommandResult:
        return CommandResult.success(f"{self.name} is up", name=self.name, node_id="ab" * 32)

    async def _whisper(self, ctx: None, op: ops.Whisper) -> CommandResult:
        msg = {"conversation": op.id, "text": op.message, "outgoing": True}
        self.history.append(msg)
        self.bus.publish(
            MessageEvent(
                msg_id=f"m{len(self.history)}",
                conversation=op.id,
                sender="ab" * 32,
                sender_name=self.name,
                text=op.message,
                timestamp=0.0,
                state="sending",
                outgoing=True,
            )
        )
        return CommandResult.success("sent", msg_id=len(self.history))

    async def _plain(self, ctx: None, op: ops.SendText) -> CommandResult:
        return await self._whisper(ctx, ops.Whisper(op.conversation, op.text))

    async def _history(self, ctx: None, op: ops.GetHistory) -> CommandResult:
        msgs = [m for m in self.history if op.conversation in (None, m["conversation"])]
        return CommandResult.success("\n".join(m["text"] for m in msgs), messages=msgs)

    async def _put(self, ctx: None, op: ops.Put) -> CommandResult:
        self.kv[op.key] = op.value
        return CommandResult.success("stored")

    async def _get(self, ctx: None, op: ops.Get) -> CommandResult:
        if op.key not in self.kv:
            raise CommandFailed(f"no value for {op.key}", code="not_found")
        return CommandResult.success(self.kv[op.key], value=self.kv[op.key])

    async def _ping(self, ctx: None, op: ops.Ping) -> CommandResult:
        raise CommandFailed("unreachable", code="unavailable")


class StoreHarness(HarnessBackend):
    """The harness holding a real store open (so the data-dir lock is the real one)."""

    def __init__(self, data_dir: Path, passphrase: str) -> None:
        super().__init__()
        from ohtchat.store import KdfParams, Store

        if Store.exists(data_dir):
            self.store = Store.open(data_dir, passphrase)
        else:
            self.store = Store.create(data_dir, passphrase, kdf=KdfParams.minimum())

    async def stop(self) -> None:
        self.store.close()
        print("HARNESS STOPPED CLEANLY", file=sys.stderr, flush=True)


def main(argv: list[str]) -> int:
    """Run the real daemon with a harness node (``--store`` for a real store and lock)."""
    from ohtchat.cli import build_parser
    from ohtchat.serve.daemon import run_serve

    use_store = "--store" in argv
    args = build_parser().parse_args(["--serve", *(a for a in argv if a != "--store")])

    async def factory(settings: Any, passphrase: str) -> HarnessBackend:
        node = StoreHarness(settings.data_dir, passphrase) if use_store else HarnessBackend()
        print(f"HARNESS PASSPHRASE {passphrase!r}", file=sys.stderr, flush=True)
        return node

    return run_serve(args, factory)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
