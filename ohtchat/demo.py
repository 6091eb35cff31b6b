"""``ohtchat demo``: a private Tor network on 127.0.0.1, a few bot nodes forming a ring, and the
full-screen client as a new user who joins them. Quitting stops everything it started.

Bots are ordinary nodes (each with its own tor and onion service) with a small behaviour: they
accept contact requests, answer whispers, greet whoever ringcasts, and reply in channels.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ohtchat.api.events import LogEvent, NodeEvent
from ohtchat.app.node import ChatNode, NodeOptions
from ohtchat.chord.config import ChordConfig
from ohtchat.i18n import _

BOT_NAMES = ("echo-bot", "greeter-bot", "oracle-bot")
DEMO_CHORD = ChordConfig(
    stabilize_interval=3.0, fix_fingers_interval=2.0, check_predecessor_interval=5.0
)


def _say(text: str) -> None:
    print(f"[demo] {text}", file=sys.stderr, flush=True)


class Bot:
    """A node that answers: the demo's other users."""

    def __init__(self, node: ChatNode) -> None:
        self.node = node
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start reacting to events."""
        self.task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        async for ev in self.node.events():
            with contextlib.suppress(Exception):
                await self.react(ev)

    async def react(self, ev: NodeEvent) -> None:
        """One reaction to one event."""
        me = self.node.account.account_id
        d = ev.data
        if ev.kind == "contact" and d.get("state") == "requested":
            await self.node.execute(f"/add {d['account_id']}")
        if ev.kind != "message" or d.get("outgoing") or d.get("sender") == me:
            return
        sender, text, conv = d["sender"], str(d["text"]), d["conversation"]
        name = self.node.account.name
        if conv == "ringcast":
            await self.node.execute(
                f"/whisper {sender} Hello {d['sender_name']}, {name} heard your ringcast: {text!r}"
            )
        elif conv == sender:
            await self.node.execute(f"/whisper {sender} {name} got your message: {text!r}")
        else:
            await self.node.execute(f"/channelcast {conv} {name} read: {text!r}")

    async def stop(self) -> None:
        """Stop reacting."""
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task


def _options(net_dir: Path, name: str, bootstrap: list[str]) -> NodeOptions:
    return NodeOptions(
        memory=True,
        transport="onion",
        tor_testnet=net_dir,
        bootstrap=bootstrap,
        name=name,
        chord=DEMO_CHORD,
        heartbeat_interval=15.0,
        mailbox_interval=20.0,
        join_retry=2.0,
    )


async def start_demo(net_dir: Path, user_name: str) -> tuple[ChatNode, list[Bot]]:
    """Start the bots and the user's node on the network recorded in ``net_dir``."""
    t = time.monotonic()
    first = await ChatNode.start(_options(net_dir, BOT_NAMES[0], []), "")
    await first.ready(180)
    others = await asyncio.gather(
        *(ChatNode.start(_options(net_dir, n, [first.identity.onion]), "") for n in BOT_NAMES[1:])
    )
    user = await ChatNode.start(_options(net_dir, user_name, [first.identity.onion]), "")
    bots = [Bot(n) for n in (first, *others)]
    for b in bots:
        b.start()
    await asyncio.gather(*(n.ready(180) for n in (*others, user)))
    _say(_("the bots and you are on the ring ({s} s)").format(s=round(time.monotonic() - t)))
    # Let the user find the bots by name in the sidebar (the DHT needs a moment to settle).
    pending = [b.node.account.account_id for b in bots]
    deadline = time.monotonic() + 60
    while pending and time.monotonic() < deadline:
        for acct in list(pending):
            r = await user.execute(f"/request {acct} hi from {user_name}")
            if r.ok and r.data.get("state") == "delivered":
                pending.remove(acct)
        if pending:
            await asyncio.sleep(2)
    return user, bots


async def _welcome(user: ChatNode) -> None:
    """Explain the first screen once the client is listening for events."""
    await asyncio.sleep(1.5)
    for line in (
        _("Welcome to the ohtchat demo: you and three bots are on a private Tor network."),
        _("Pick a bot on the left (Alt-1…3) and type a message; it answers."),
        _("Or try /ringcast hello everyone, /channel NAME, /status, /ftable, /help."),
    ):
        user.bus.publish(LogEvent("info", line))


async def run_demo(
    net_dir: Path | None = None, lang: str | None = None, user_name: str | None = None
) -> int:
    """Start everything, run the TUI, stop everything."""
    from ohtchat.tor.testnet import Testnet
    from ohtchat.tui.app import OhtchatApp

    base = Path(tempfile.mkdtemp(prefix="oht-demo-"))
    name = user_name or os.environ.get("USER") or "you"
    nodes: list[ChatNode] = []
    bots: list[Bot] = []
    try:
        _say(_("starting a private Tor network on 127.0.0.1 (about 20–40 s)…"))
        async with Testnet.up(net_dir or base / "net") as net:
            _say(_("network up; starting the bots and your node…"))
            user, bots = await start_demo(net.dir, name)
            nodes = [user, *(b.node for b in bots)]
            from ohtchat.i18n import set_language

            set_language(lang)
            await user.execute("/status")
            app = OhtchatApp(user)
            welcome = asyncio.get_running_loop().create_task(_welcome(user))
            await app.run_async()
            welcome.cancel()
    finally:
        for b in bots:
            await b.stop()
        await asyncio.gather(*(n.stop() for n in nodes), return_exceptions=True)
        shutil.rmtree(base, ignore_errors=True)
    return 0


def main(args: Any = None) -> int:
    """Entry point of ``ohtchat demo``."""
    lang = getattr(args, "lang", None)
    return asyncio.run(run_demo(lang=lang))
