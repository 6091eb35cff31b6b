"""8 real ``ohtchat --serve`` processes (tcp), started together with the default settings, form
an exact ring within 30 s of all of them being members (issue 14).

Only ``ohtchat cmd --json`` is used to look at the nodes. No ``config.toml``: the default
Chord timers (adaptive stabilize, docs/chord.md) must make the ring converge.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from ohtchat.serve.control import socket_is_live
from tests.serve.served import cmd_async, stop_all
from tests.serve.test_ring_e2e import _free_ports
from tests.waiting import eventually

N = 8
PASS = "converge passphrase"
#: Starting 8 interpreters (key generation, the store's key derivation) on a loaded 2-core
#: machine; the ring deadline below starts only once every node is a member.
STARTUP_DEADLINE = 180.0
#: The issue's requirement: every successor right within 30 s.
RING_DEADLINE = 30.0


class Served:
    """One ``ohtchat --serve`` process with a fresh data dir and no config file."""

    def __init__(self, root: Path, index: int, port: int, bootstrap: str | None) -> None:
        self.index = index
        self.dir = root / f"n{index}"
        self.dir.mkdir()
        self.addr = f"127.0.0.1:{port}"
        self.log = root / f"n{index}.log"
        argv = [sys.executable, "-m", "ohtchat.cli", "--serve", "--transport", "tcp"]
        argv += ["--listen", self.addr, "--data-dir", str(self.dir), "--name", f"node{index}"]
        argv += ["--bootstrap", bootstrap] if bootstrap else []
        with open(self.log, "ab") as err:
            self.proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err,
                env={**os.environ, "OHTCHAT_PASSPHRASE": PASS},
            )
        self.node_id = ""


async def cmd(node: Served, line: str) -> dict[str, Any]:
    """``ohtchat cmd --json --data-dir D LINE`` in a subprocess; its JSON object."""
    return await cmd_async(node.dir, line)


async def _member(node: Served) -> bool:
    if node.proc.poll() is not None:  # fail at once, not at the deadline
        raise RuntimeError(f"node {node.index} exited: {node.log.read_text()}")
    if not socket_is_live(node.dir / "control.sock"):
        return False
    status = await cmd(node, "/status")
    if status["ok"] and status["data"]["member"]:
        node.node_id = status["data"]["node_id"]
        return True
    return False


async def _ring_exact(nodes: list[Served]) -> bool:
    ids = sorted(n.node_id for n in nodes)
    want = {n.index: ids[(ids.index(n.node_id) + 1) % len(ids)] for n in nodes}
    replies = await asyncio.gather(*(cmd(n, "/successor") for n in nodes))
    got = {
        n.index: ((r.get("data") or {}).get("successor") or {}).get("id")
        for n, r in zip(nodes, replies, strict=True)
    }
    return got == want


@pytest.fixture
async def started(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[list[Served]]:
    root = tmp_path_factory.mktemp("conv")
    ports = _free_ports(N)
    first = f"127.0.0.1:{ports[0]}"
    # All at once: the others bootstrap through node 0 while it is still starting.
    nodes = [Served(root, i, ports[i], None if i == 0 else first) for i in range(N)]
    try:
        yield nodes
    finally:
        stop_all(n.proc for n in nodes)


@pytest.mark.slow
async def test_eight_nodes_started_together_converge_within_30_s(started: list[Served]) -> None:
    nodes = started
    await eventually(lambda: _all_members(nodes), "every node a ring member", STARTUP_DEADLINE, 0.5)
    assert len({n.node_id for n in nodes}) == N
    await eventually(lambda: _ring_exact(nodes), "every successor right", RING_DEADLINE, 0.5)


async def _all_members(nodes: list[Served]) -> bool:
    done = await asyncio.gather(*(_member(n) for n in nodes if not n.node_id))
    return all(done) and all(n.node_id for n in nodes)
