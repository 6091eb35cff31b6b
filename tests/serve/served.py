"""A real ``ohtchat --serve`` process for tests that attach to it (console, TUI, web UI)."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ohtchat.serve.control import socket_is_live
from tests.waiting import eventually_sync

#: config.toml of served test nodes: ring, DHT and node timers fast enough for a test.
FAST_CONFIG = """\
[chord]
stabilize_interval = 0.4
fix_fingers_interval = 0.4
check_predecessor_interval = 0.8
rpc_timeout = 3.0
suspect_for = 3.0

[dht]
maintain_interval = 2.0
handoff_poll = 0.5

[node]
heartbeat_interval = 2.0
mailbox_interval = 2.0
join_retry = 0.5
deliver_timeout = 5.0
"""


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def cmd_async(data_dir: Path, line: str) -> dict[str, Any]:
    """``ohtchat cmd --json --data-dir DATA LINE`` in a subprocess, without blocking the loop:
    its JSON object (the exit status agrees with ``ok``)."""
    proc = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "ohtchat.cli", "cmd", "--json", "--timeout", "60"),
        *("--data-dir", str(data_dir), line),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 90)
    assert out, f"no output from cmd {line!r}: {err.decode()}"
    reply: dict[str, Any] = json.loads(out)
    assert (proc.returncode == 0) == reply["ok"], reply
    return reply


def stop_all(procs: Iterable[subprocess.Popen[bytes]]) -> None:
    """SIGTERM every process still running, wait up to 30 s each, then SIGKILL the rest."""
    live = list(procs)
    for proc in live:
        if proc.poll() is None:
            proc.terminate()
    for proc in live:
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


def cmd_json(data_dir: Path, line: str) -> dict[str, Any]:
    """``ohtchat cmd --json --data-dir DATA LINE``: the node's JSON answer."""
    proc = subprocess.run(
        [sys.executable, "-m", "ohtchat.cli", "cmd", "--json", "--data-dir", str(data_dir), line],
        capture_output=True,
        text=True,
        timeout=60,
    )
    out: dict[str, Any] = json.loads(proc.stdout)
    return out


@contextmanager
def memory_node(base: Path, name: str, channel: str) -> Iterator[Path]:
    """A served node (memory store, tcp) that has a channel ``channel``; yields its data dir.
    On exit it gets SIGTERM and must stop cleanly (status 0), clients attached or not."""
    data = base / name
    log_path = base / f"{name}.log"
    argv = [sys.executable, "-m", "ohtchat.cli", "--serve", "--memory", "--transport", "tcp"]
    argv += ["--listen", f"127.0.0.1:{free_port()}", "--data-dir", str(data), "--name", name]
    env = {k: v for k, v in os.environ.items() if k != "OHTCHAT_PASSPHRASE"}
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log, env=env
        )
    try:

        def member() -> bool:
            if proc.poll() is not None:  # fail at once, not at the deadline
                raise RuntimeError(f"{name} exited: {log_path.read_text()}")
            if not socket_is_live(data / "control.sock"):
                return False
            status = cmd_json(data, "/status")
            return bool(status["ok"] and status["data"]["member"])

        # The control socket opens before the join: a channel is published once it is a member.
        eventually_sync(member, f"{name} serving and a ring member", timeout=60)
        created = cmd_json(data, f"/channel {channel}")
        assert created["ok"], created
        yield data
    finally:
        proc.terminate()
        assert proc.wait(60) == 0, log_path.read_text()
