"""End to end: 8 real ``ohtchat --serve`` processes (tcp) form a ring, driven by ``ohtchat cmd``.

Every check goes through ``ohtchat cmd --json``.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from ohtchat.serve.control import socket_is_live
from tests.serve.served import FAST_CONFIG as FAST
from tests.serve.served import cmd_async, stop_all
from tests.waiting import eventually

N = 8
PASS = "e2e passphrase"
# Starting 8 interpreters and converging their ring on a loaded machine takes a while.
RING_DEADLINE = 120.0


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in socks]
    finally:
        for s in socks:
            s.close()


class Node:
    def __init__(self, root: Path, index: int, port: int, bootstrap: str | None) -> None:
        self.index = index
        self.dir = root / f"n{index}"
        self.dir.mkdir()
        (self.dir / "config.toml").write_text(FAST)
        self.addr = f"127.0.0.1:{port}"
        self.log = root / f"n{index}.log"
        argv = [sys.executable, "-m", "ohtchat.cli", "--serve", "--transport", "tcp"]
        argv += ["--listen", self.addr, "--data-dir", str(self.dir), "--name", f"node{index}"]
        argv += ["--bootstrap", bootstrap] if bootstrap else []
        self.argv = argv
        self.proc = self.spawn()
        self.info: dict[str, Any] = {}

    def spawn(self) -> subprocess.Popen[bytes]:
        with open(self.log, "ab") as err:
            return subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err,
                env={**os.environ, "OHTCHAT_PASSPHRASE": PASS},
            )

    @property
    def sock(self) -> Path:
        return self.dir / "control.sock"


async def cmd(node: Node, line: str) -> dict[str, Any]:
    """``ohtchat cmd --json --data-dir D LINE`` in a subprocess; its JSON object."""
    return await cmd_async(node.dir, line)


def expected_successors(nodes: list[Node]) -> dict[int, str]:
    """Node index → the node id that follows it on the ring (ids sorted, wrapping)."""
    ids = sorted(n.info["node_id"] for n in nodes)
    return {n.index: ids[(ids.index(n.info["node_id"]) + 1) % len(ids)] for n in nodes}


async def ring_matches(nodes: list[Node]) -> bool:
    want = expected_successors(nodes)
    replies = await asyncio.gather(*(cmd(n, "/successor") for n in nodes))
    got = {
        n.index: (r["data"]["successor"] or {}).get("id")
        for n, r in zip(nodes, replies, strict=False)
    }
    return got == want


@pytest.fixture
async def ring(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[list[Node]]:
    root = tmp_path_factory.mktemp("ring")
    ports = _free_ports(N)
    nodes = [Node(root, 0, ports[0], None)]
    try:
        await eventually(lambda: _ready(nodes[0]), "the first node", RING_DEADLINE, 0.3)
        nodes += [Node(root, i, ports[i], nodes[0].addr) for i in range(1, N)]
        for n in nodes:
            await eventually(lambda n=n: _ready(n), f"node {n.index}", RING_DEADLINE, 0.3)
        yield nodes
    finally:
        stop_all(n.proc for n in nodes)


async def _ready(node: Node) -> bool:
    if node.proc.poll() is not None:  # fail at once, not at the deadline
        raise RuntimeError(f"node {node.index} exited: {node.log.read_text()}")
    if not socket_is_live(node.sock):
        return False
    status = await cmd(node, "/status")
    if status["data"]["member"]:
        node.info = status["data"]
        return True
    return False


async def _history_has(node: Node, conversation: str, text: str) -> bool:
    reply = await cmd(node, f"/history {conversation}")
    return reply["ok"] and any(m["text"] == text for m in reply["data"]["messages"])


@pytest.mark.slow
async def test_eight_served_nodes_form_a_ring(ring: list[Node]) -> None:
    nodes = ring
    # /status gives each node's onion address and id, all distinct.
    for n in nodes:
        assert n.info["onion"].endswith(".onion") and len(n.info["node_id"]) == 64
        assert n.info["address"] == n.addr
    assert len({n.info["node_id"] for n in nodes}) == N

    # /successor of every node matches the ring order computed from the ids.
    await eventually(lambda: ring_matches(nodes), "the ring order", RING_DEADLINE, 0.3)

    # /ringcast from one reaches all the others, exactly once each (kept in /history ringcast).
    sent = await cmd(nodes[0], "/ringcast hello ring")
    assert sent["ok"]
    for n in nodes[1:]:
        await eventually(
            lambda n=n: _history_has(n, "ringcast", "hello ring"), f"the ringcast at {n.index}"
        )
        got = (await cmd(n, "/history ringcast"))["data"]["messages"]
        assert [(m["text"], m["sender"]) for m in got] == [
            ("hello ring", nodes[0].info["account_id"])
        ]

    # A /put on one node is a /get on another.
    assert (await cmd(nodes[1], "/put colour deep blue"))["ok"]
    got = await cmd(nodes[5], "/get colour")
    assert got["data"]["value"] == "deep blue"

    # /whisper arrives and shows in the recipient's /history.
    alice, bob = nodes[2], nodes[6]

    async def alice_finds_bob() -> bool:
        # bob published his presence while the ring converged: it may take maintenance
        # rounds to reach its true owners.
        found = await cmd(alice, f"/lookup {bob.info['account_id']}")
        return found["ok"] and found["data"].get("account", {}).get("onion") == bob.info["onion"]

    await eventually(alice_finds_bob, "bob's presence, seen from alice", RING_DEADLINE, 0.3)
    sent = await cmd(alice, f"/whisper {bob.info['account_id']} psst, node six")
    assert sent["ok"], sent
    await eventually(
        lambda: _history_has(bob, alice.info["account_id"], "psst, node six"), "the whisper"
    )

    # A second --serve on a running node's data dir is refused.
    dup = subprocess.run(
        nodes[4].argv,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "OHTCHAT_PASSPHRASE": PASS},
    )
    assert dup.returncode == 1 and "already serves" in dup.stderr
    alt = subprocess.run(
        [*nodes[4].argv, "--control-socket", str(nodes[4].dir.parent / "alt.sock")],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "OHTCHAT_PASSPHRASE": PASS},
    )
    assert alt.returncode == 1 and "in use by another ohtchat process" in alt.stderr
    assert (await cmd(nodes[4], "/status"))["ok"]

    # SIGTERM stops a node cleanly and the ring heals around it.
    gone = nodes[3]
    gone.proc.send_signal(signal.SIGTERM)
    assert await asyncio.to_thread(gone.proc.wait, 60) == 0
    assert "node stopped cleanly" in gone.log.read_text()
    assert not gone.sock.exists()
    rest = [n for n in nodes if n is not gone]
    await eventually(lambda: ring_matches(rest), "the healed ring", RING_DEADLINE, 0.3)
