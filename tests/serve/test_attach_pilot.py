"""``--attach``: the Textual client on RemoteBackend shows a served node's conversations."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ohtchat.serve.client import RemoteBackend
from tests.serve.served import cmd_json, free_port, memory_node
from tests.waiting import eventually


@pytest.fixture
def served(short_tmp: Path) -> Iterator[Path]:
    with memory_node(short_tmp, "Server", "night owls") as data:
        yield data


async def test_attach_shows_the_served_nodes_conversations(served: Path) -> None:
    from ohtchat.tui.app import OhtchatApp
    from ohtchat.tui.sidebar import Sidebar

    backend = RemoteBackend(served / "control.sock")
    app = OhtchatApp(backend)
    async with app.run_test(size=(120, 30)) as pilot:
        sidebar = app.screen.query_one(Sidebar)

        def labels() -> list[str]:
            return [str(sidebar.get_option_at_index(i).prompt) for i in range(sidebar.option_count)]

        async def listed(name: str) -> list[str]:
            await pilot.pause()
            shown = labels()
            assert any(name in label for label in shown), shown
            return shown

        await eventually(lambda: listed("night owls"), "the served channel in the sidebar")
        # A command typed in the attached client runs on the served node.
        await pilot.press(*"/channel early birds", "enter")
        await eventually(lambda: listed("early birds"), "the new channel in the sidebar")
    await backend.close()
    channels = await asyncio.to_thread(cmd_json, served, "/channels")
    names = {c["name"] for c in channels["data"]["channels"]}  # type: ignore[index,union-attr]
    assert {"night owls", "early birds"} <= names


def test_console_attached_to_a_served_node(served: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "ohtchat.cli", "console", "--attach", "--data-dir", str(served)],
        input="/help\n/channels\n/quit\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("ohtchat> ")
    assert "/whisper ID MESSAGE" in proc.stdout and "night owls" in proc.stdout


def test_console_in_process(short_tmp: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "OHTCHAT_PASSPHRASE"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "ohtchat.cli",
            "console",
            "--memory",
            "--transport",
            "tcp",
            "--listen",
            f"127.0.0.1:{free_port()}",
            "--data-dir",
            str(short_tmp / "c"),
            "--name",
            "Solo",
        ],
        input="/status\n/whisper\n",
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Account: Solo" in proc.stdout
    assert "Missing ID.\nUsage: /whisper ID MESSAGE" in proc.stdout
