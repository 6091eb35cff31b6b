"""The file commands on real nodes over loopback TCP, through console lines (``execute``): a
file to a channel is one offer per member; ``/files`` data has the issue's fields; wrong
references and paths fail with clear codes."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pytest

from ohtchat.api.ops import CreateChannel, JoinChannel, ListChannels
from ohtchat.api.views import ChannelList
from ohtchat.app.node import ChatNode
from tests.chat.ringnodes import start_ring
from tests.waiting import eventually

pytestmark = pytest.mark.slow

FIELDS = {"id", "conversation", "name", "size", "sha256", "state", "path", "done"}


async def files(node: ChatNode) -> list[dict[str, Any]]:
    result = await node.execute("/files")
    assert result.ok, result.text
    listed: list[dict[str, Any]] = result.data["files"]
    return listed


async def test_a_file_to_a_channel_reaches_every_member(tmp_path: Path) -> None:
    nodes = await start_ring(tmp_path, ["alice", "bob", "carol"])
    alice, bob, carol = nodes
    try:
        created = await alice.call(CreateChannel("club"))
        club = str(created.data["channel_id"])
        for n in (bob, carol):
            assert (await n.call(JoinChannel(club))).ok

        async def everyone_in() -> bool:
            view = (await alice.call(ListChannels())).view
            assert isinstance(view, ChannelList)
            return any(len(c.members) == 3 for c in view.channels if c.channel_id == club)

        await eventually(everyone_in, "alice knows both members")
        for n in (bob, carol):
            n.config.set("files.dir", str(tmp_path / f"{n.account.name}-in"))
        src = tmp_path / "minutes.txt"
        src.write_bytes(os.urandom(150_000))
        sent = await alice.execute(f"/file club {src}")  # the alias
        assert sent.ok, sent.text
        out = sent.data["files"]
        assert sorted(f["peer"] for f in out) == sorted(n.account.account_id for n in (bob, carol))
        assert all(f["conversation"] == club and f["direction"] == "out" for f in out)
        for n in (bob, carol):
            [offer] = await eventually(lambda n=n: files(n), f"{n.account.name}'s offer")
            assert set(offer) >= FIELDS
            assert offer["sha256"] == hashlib.sha256(src.read_bytes()).hexdigest()
            assert (offer["state"], offer["path"], offer["done"]) == ("offered", "", 0)
            accepted = await n.execute(f"/accept {offer['id'][:6]}")
            assert accepted.ok, accepted.text

        async def all_done() -> bool:
            got = [(await files(n))[0] for n in (bob, carol)]
            return all(f["state"] == "done" and f["done"] == f["size"] for f in got)

        await eventually(all_done, "both members received the file")
        for n in (bob, carol):
            [f] = await files(n)
            assert Path(f["path"]).read_bytes() == src.read_bytes()
        await eventually(lambda: _all_state(alice, "done"), "alice hears both are done")
        # Clear failures.
        assert (await bob.execute(f"/send {bob.account.account_id} {src}")).code == "file"
        missing = await bob.execute(f"/send {alice.account.account_id} /no/such/file")
        assert missing.code == "not_found" and "/no/such/file" in missing.text
        assert (await bob.execute("/accept 0000")).code == "not_found"
        [f] = await files(bob)
        cancel = await bob.execute(f"/cancel {f['id']}")
        assert cancel.code == "file" and not cancel.ok  # it already ended
    finally:
        for n in nodes:
            await n.stop()


async def _all_state(node: ChatNode, state: str) -> bool:
    return all(f["state"] == state for f in await files(node))
