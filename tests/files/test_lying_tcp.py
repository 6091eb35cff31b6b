"""A lying sender over real sessions on loopback TCP (real nodes, the typed operations): a
wrong hash, an extra chunk past the offered size, a chunk out of order — each ends ``failed``
with its reason and nothing saved or presented as done."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from ohtchat.api.ops import AcceptFile, ListFiles, SendFile
from ohtchat.api.views import FileList, FileView
from ohtchat.app.node import ChatNode
from ohtchat.files.protocol import FILE_GET
from ohtchat.session.identity import PeerIdentity
from ohtchat.session.router import Router
from ohtchat.wire.envelope import Fields
from tests.chat.ringnodes import start_ring
from tests.waiting import eventually

pytestmark = pytest.mark.slow


def lie(node: ChatNode, mode: str) -> None:
    """Make ``node`` answer ``file_get`` dishonestly (``mode``: hash, extra, order)."""
    router = node.stack.pool.handler
    assert isinstance(router, Router)
    honest = router._routes[FILE_GET]

    async def lying(peer: PeerIdentity, method: str, params: Fields) -> dict[str, Any] | None:
        reply = await honest(peer, method, params)
        assert reply is not None
        offset, data = reply["offset"], reply["data"]
        if mode == "hash" and offset == 0:
            data = bytes([data[0] ^ 1]) + data[1:]
        elif mode == "extra" and len(data) < 64 * 1024:
            data += b"and some more"
        elif mode == "order" and offset > 0:
            offset -= 64 * 1024
        return {"offset": offset, "data": data}

    router._routes[FILE_GET] = lying


async def incoming(node: ChatNode, name: str) -> FileView | None:
    view = (await node.call(ListFiles())).view
    assert isinstance(view, FileList)
    return next((f for f in view.files if f.name == name and f.direction == "in"), None)


@pytest.mark.parametrize(
    ("mode", "reason"),
    [("hash", "hash_mismatch"), ("extra", "past_end"), ("order", "out_of_order")],
)
async def test_a_lying_sender_ends_failed_with_nothing_saved(
    tmp_path: Path, mode: str, reason: str
) -> None:
    nodes = await start_ring(tmp_path, ["alice", "bob"])
    alice, bob = nodes
    try:
        inbox = tmp_path / "bob-in"
        bob.config.set("files.dir", str(inbox))
        lie(alice, mode)
        src = tmp_path / "lie.bin"
        src.write_bytes(os.urandom(200_000))
        assert (await alice.call(SendFile(bob.account.account_id, str(src)))).ok
        offer = await eventually(lambda: incoming(bob, "lie.bin"), "bob has the offer")
        assert offer is not None
        assert (await bob.call(AcceptFile(offer.id))).ok

        async def ended() -> FileView | None:
            now = await incoming(bob, "lie.bin")
            return now if now and now.state not in ("offered", "receiving") else None

        final = await eventually(ended, "the transfer ends")
        assert final is not None
        assert (final.state, final.error, final.path) == ("failed", reason, "")
        assert not inbox.exists() or list(inbox.iterdir()) == []
    finally:
        for n in nodes:
            await n.stop()
