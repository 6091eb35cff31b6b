"""A file between two nodes that each run their own tor and onion service on the private
network: offered in the ratchet, pulled over the onion session, verified, byte-identical; the
sender's node is stopped mid-transfer and started again (same account, same store) and the
receiver resumes and completes."""

from __future__ import annotations

import asyncio
import hashlib
import os
from pathlib import Path

import pytest

from ohtchat.api.ops import AcceptFile, ListFiles, SendFile
from ohtchat.api.views import FileList, FileView
from ohtchat.app.node import ChatNode
from ohtchat.store import Store
from ohtchat.tor.testnet import Testnet
from tests.onionring import onion_options
from tests.waiting import eventually

pytestmark = [pytest.mark.tor, pytest.mark.slow]

SIZE = 5 * 1024 * 1024 + 77
DEADLINE = 240.0


opts = onion_options


async def incoming(node: ChatNode) -> FileView | None:
    view = (await node.call(ListFiles())).view
    assert isinstance(view, FileList)
    return next((f for f in view.files if f.direction == "in"), None)


async def test_a_file_over_onion_services_survives_a_sender_restart(
    testnet: Testnet, tmp_path: Path
) -> None:
    hub = await ChatNode.start(opts(testnet, "hub", []), "")
    nodes = [hub]
    try:
        await hub.ready(120)
        alice, bob = await asyncio.gather(
            ChatNode.start(opts(testnet, "alice", [hub.identity.onion], tmp_path / "a"), "pw"),
            ChatNode.start(opts(testnet, "bob", [hub.identity.onion]), ""),
        )
        nodes += [alice, bob]
        await asyncio.gather(alice.ready(180), bob.ready(180))
        bob.config.set("files.dir", str(tmp_path / "bob-in"))
        alice.config.set("files.rate", 512 * 1024)  # so the restart lands mid-transfer
        src = tmp_path / "report.pdf"
        src.write_bytes(os.urandom(SIZE))

        async def offered() -> bool:
            return (await alice.call(SendFile(bob.account.account_id, str(src)))).ok

        await eventually(offered, "alice finds bob and offers", DEADLINE, 1.0)
        offer = await eventually(lambda: incoming(bob), "bob has the offer", DEADLINE, 0.5)
        assert offer is not None
        assert (offer.state, offer.size) == ("offered", SIZE)
        assert (await bob.call(AcceptFile(offer.id))).ok

        async def at_least(n: int) -> bool:
            now = await incoming(bob)
            return now is not None and now.done >= n

        await eventually(lambda: at_least(SIZE // 4), "a quarter over Tor", DEADLINE, 0.5)
        nodes.remove(alice)
        await alice.stop()
        assert Store.exists(tmp_path / "a")
        alice = await ChatNode.start(
            opts(testnet, "alice", [hub.identity.onion], tmp_path / "a"), "pw"
        )
        nodes.append(alice)
        await alice.ready(180)

        async def finished() -> FileView | None:
            now = await incoming(bob)
            return now if now is not None and now.state in ("done", "failed") else None

        final = await eventually(finished, "bob received the file", DEADLINE, 0.5)
        assert final is not None
        assert final.state == "done", final
        got = Path(final.path).read_bytes()
        assert hashlib.sha256(got).digest() == hashlib.sha256(src.read_bytes()).digest()
    finally:
        await asyncio.gather(*(n.stop() for n in nodes), return_exceptions=True)
