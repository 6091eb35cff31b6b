"""Served ``ohtchat --serve`` nodes for the file-transfer tests, driven by ``ohtchat cmd
--json``: on loopback TCP or, with a private Tor network, each with its own tor and onion
service; and the scenario both run: a file that survives killing either side mid-transfer."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from ohtchat.serve.control import socket_is_live
from tests.serve.served import FAST_CONFIG, cmd_async, free_port, stop_all
from tests.waiting import eventually

PASS = "files e2e passphrase"
DEADLINE = 120.0
#: The sender's upload limit (``files.rate``), so a kill lands mid-transfer.
RATE = 1024 * 1024
FAST = (
    FAST_CONFIG
    + """
[files]
dir = "{folder}"
rate = {rate}
"""
)


class Node:
    """One served node with a persistent store (so it can be killed and started again)."""

    def __init__(
        self,
        root: Path,
        name: str,
        bootstrap: str | None,
        *,
        testnet: Path | None = None,
        rate: int = RATE,
        config: str = FAST,
    ) -> None:
        self.name = name
        self.dir = root / name
        self.dir.mkdir()
        self.inbox = root / f"{name}-received"
        (self.dir / "config.toml").write_text(config.format(folder=self.inbox, rate=rate))
        self.log = root / f"{name}.log"
        self.argv = [sys.executable, "-m", "ohtchat.cli", "--serve"]
        if testnet is None:  # loopback TCP
            self.addr = f"127.0.0.1:{free_port()}"
            self.argv += ["--transport", "tcp", "--listen", self.addr]
        else:  # its own tor and onion service on the private network
            self.addr = ""  # the onion address, known once it runs (see ready)
            self.argv += ["--transport", "onion", "--tor-testnet", str(testnet)]
        self.argv += ["--data-dir", str(self.dir), "--name", name]
        self.argv += ["--bootstrap", bootstrap] if bootstrap else []
        self.proc = self.spawn()
        self.account = ""

    def spawn(self) -> subprocess.Popen[bytes]:
        with open(self.log, "ab") as err:
            return subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err,
                env={**os.environ, "OHTCHAT_PASSPHRASE": PASS},
            )

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)

    async def ready(self) -> bool:
        if self.proc.poll() is not None:  # fail at once, not at the deadline
            raise RuntimeError(f"{self.name} exited: {self.log.read_text()}")
        if not socket_is_live(self.dir / "control.sock"):
            return False
        status = await cmd(self, "/status")
        self.account = status["data"]["account_id"]
        if not self.addr:  # an onion node is bootstrapped through by its onion address
            self.addr = status["data"]["onion"]
        return bool(status["data"]["member"])


async def cmd(node: Node, line: str) -> dict[str, Any]:
    """``ohtchat cmd --json --data-dir D LINE`` in a subprocess; its JSON object."""
    return await cmd_async(node.dir, line)


async def transfer(node: Node, name: str) -> dict[str, Any] | None:
    """The first incoming transfer of ``name`` that ``node``'s ``/files`` lists."""
    reply = await cmd(node, "/files")
    assert reply["ok"], reply
    hits = [f for f in reply["data"]["files"] if f["name"] == name and f["direction"] == "in"]
    return hits[0] if hits else None


async def offer(alice: Node, bob: Node, path: Path, deadline: float = DEADLINE) -> dict[str, Any]:
    """Alice offers ``path`` to bob (once bob's presence is found); bob's transfer."""

    async def sent() -> bool:
        reply = await cmd(alice, f"/send {bob.account} {path}")
        return bool(reply["ok"]) and reply["data"]["files"][0]["state"] != "failed"

    await eventually(sent, "alice offers the file", deadline, 0.5)
    found = await eventually(lambda: transfer(bob, path.name), "bob has the offer", deadline, 0.3)
    assert found is not None
    offered: dict[str, Any] = found
    return offered


async def survives_kills(
    alice: Node, bob: Node, tmp_path: Path, size: int, deadline: float = DEADLINE
) -> None:
    """Alice offers a file of ``size`` bytes to bob, bob accepts; alice is killed (SIGKILL) a
    quarter in and started again, then bob half-way; the file arrives byte-identical."""
    src = tmp_path / "holiday.bin"
    src.write_bytes(os.urandom(size))
    t = await offer(alice, bob, src, deadline)
    assert (t["state"], t["size"], t["path"]) == ("offered", size, "")
    assert t["sha256"] == hashlib.sha256(src.read_bytes()).hexdigest()
    accepted = await cmd(bob, f"/accept {t['id'][:8]}")
    assert accepted["ok"], accepted

    async def done_at_least(n: int) -> bool:
        now = await transfer(bob, src.name)
        assert now is not None and now["state"] == "receiving", now
        return bool(now["done"] >= n)

    # Kill the sender mid-transfer; the receiver waits, then resumes when it is back.
    await eventually(lambda: done_at_least(size // 4), "a quarter arrived", deadline, 0.2)
    alice.kill()
    before = await transfer(bob, src.name)
    assert before is not None and before["state"] == "receiving" and before["path"] == ""
    alice.proc = alice.spawn()
    await eventually(alice.ready, "alice back", deadline, 0.3)

    # Kill the receiver mid-transfer; it resumes from its verified length after a restart.
    await eventually(lambda: done_at_least(size // 2), "half arrived", deadline, 0.2)
    bob.kill()
    bob.proc = bob.spawn()
    await eventually(bob.ready, "bob back", deadline, 0.3)
    resumed = await transfer(bob, src.name)
    assert resumed is not None and resumed["state"] == "receiving"
    assert resumed["done"] >= size // 2 - 1024 * 1024  # the last checkpoint, not zero

    async def finished() -> dict[str, Any] | None:
        now = await transfer(bob, src.name)
        return now if now and now["state"] in ("done", "failed") else None

    final = await eventually(finished, "bob received the file", deadline, 0.3)
    assert final["state"] == "done", final
    received = Path(final["path"])
    assert received.parent == bob.inbox and received.name == src.name
    assert received.read_bytes() == src.read_bytes()
    assert sorted(p.name for p in bob.inbox.iterdir()) == [src.name]  # no .part left


@asynccontextmanager
async def hub_pair(
    root: Path,
    *,
    testnet: Path | None = None,
    rate: int = RATE,
    config: str = FAST,
    deadline: float = DEADLINE,
) -> AsyncIterator[tuple[Node, Node]]:
    """Alice and bob, joined through a third node that stays up: the ring (and the DHT with
    the presences) outlives either of them being killed, and a restarted node rejoins
    through it. Every node is stopped at the end."""
    hub = Node(root, "hub", None, testnet=testnet, rate=rate, config=config)
    nodes = [hub]
    try:
        await eventually(hub.ready, "hub serving", deadline, 0.3)
        kw: dict[str, Any] = {"testnet": testnet, "rate": rate, "config": config}
        alice = Node(root, "alice", hub.addr, **kw)
        bob = Node(root, "bob", hub.addr, **kw)
        nodes += [alice, bob]
        await eventually(alice.ready, "alice serving", deadline, 0.3)
        await eventually(bob.ready, "bob serving", deadline, 0.3)
        yield alice, bob
    finally:
        stop_all(n.proc for n in nodes)
