"""The real program in a real terminal: two ``ohtchat --attach`` clients in tmux, each on its
own ``ohtchat --serve`` node (tcp ring). A whisper typed in one appears on the other's screen.

Every read of a screen waits (bounded) for what it looks for: the clients and nodes are
separate processes, so nothing they draw is there at a known time.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.serve.test_ring_e2e import Node, _free_ports, _ready, cmd
from tests.waiting import eventually

pytestmark = pytest.mark.slow
SERVER = "ohtchat-e2e"
# Starting a node, and a whisper crossing the ring, get longer than the default deadline.
NETWORK_DEADLINE = 90.0


def tmux(*args: str) -> str:
    done = subprocess.run(
        ["tmux", "-L", SERVER, *args], capture_output=True, text=True, timeout=20, check=False
    )
    return done.stdout


def screen(session: str) -> str:
    return tmux("capture-pane", "-p", "-t", session)


async def wait_screen(session: str, text: str, timeout: float = 30.0) -> str:
    """What ``session`` shows, once it shows ``text``."""
    shown = ""

    def check() -> str:
        nonlocal shown
        shown = screen(session)
        return shown if text in shown else ""

    try:
        return await eventually(check, f"{text!r} on {session}", timeout, step=0.3)
    except AssertionError as err:
        raise AssertionError(f"{err}\n{shown}") from None


async def test_whisper_typed_in_one_terminal_shows_in_the_other(tmp_path: Path) -> None:
    ports = _free_ports(2)
    a = Node(tmp_path, 0, ports[0], None)
    nodes = [a]
    try:
        await eventually(lambda: _ready(a), "node a", NETWORK_DEADLINE, step=0.3)
        b = Node(tmp_path, 1, ports[1], a.addr)
        nodes.append(b)
        await eventually(lambda: _ready(b), "node b", NETWORK_DEADLINE, step=0.3)
        b_id = (await cmd(b, "/status"))["data"]["account_id"]
        for name, node in (("a", a), ("b", b)):
            argv = f"{sys.executable} -m ohtchat.cli --attach --data-dir {node.dir}"
            tmux("new-session", "-d", "-s", name, "-x", "120", "-y", "36", argv)
        await wait_screen("a", ".onion")  # the client drew its status bar
        await wait_screen("b", ".onion")
        tmux("send-keys", "-t", "a", f"/whisper {b_id} hello from a real terminal", "Enter")
        # B's client lists the new conversation; open it with Alt-1 and read the log.
        await wait_screen("b", "node0", NETWORK_DEADLINE)
        tmux("send-keys", "-t", "b", "M-1")
        shown = await wait_screen("b", "hello from a real terminal")
        assert "node0" in shown
        # The conversation is open (the text is in its log, not only in a notification).
        await eventually(
            lambda: "No conversation open" not in screen("b"),
            "the conversation open on b",
            step=0.3,
        )
        # A's client shows the delivery receipt.
        await wait_screen("a", "delivered", NETWORK_DEADLINE)
    finally:
        tmux("kill-server")
        for n in nodes:
            n.proc.terminate()
        for n in nodes:
            try:
                n.proc.wait(15)
            except subprocess.TimeoutExpired:
                n.proc.kill()
