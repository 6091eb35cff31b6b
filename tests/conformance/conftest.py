"""Fixtures: a real node under test (started with ohtchat) and our spec-only peer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ohtchat.app.node import ChatNode
from tests.chat.ringnodes import PASS, RING_DEADLINE, options
from tests.conformance.minipeer import MiniPeer


@pytest.fixture
async def peer() -> AsyncIterator[MiniPeer]:
    """Our peer, listening on 127.0.0.1 (closed after the node under test stops)."""
    p = MiniPeer()
    await p.listen()
    yield p
    await p.close()


@pytest.fixture
async def node(tmp_path: Path, peer: MiniPeer) -> AsyncIterator[ChatNode]:
    """A node that created its own ring of one, on loopback TCP."""
    n = await ChatNode.start(options(tmp_path / "node", "under-test", []), PASS)
    try:
        await n.ready(RING_DEADLINE)
        yield n
    finally:
        await n.stop()
