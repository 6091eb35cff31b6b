"""End to end over TCP: two real ``ohtchat --serve`` nodes, checked through ``ohtchat cmd
--json``. A file arrives byte-identical although the sender and then the receiver are killed
(SIGKILL) mid-transfer; a file changed after its offer ends ``failed`` with nothing shown."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.files.served_files import (
    DEADLINE,
    Node,
    cmd,
    hub_pair,
    offer,
    survives_kills,
    transfer,
)
from tests.waiting import eventually

SIZE = 6 * 1024 * 1024 + 123


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[tuple[Node, Node]]:
    async with hub_pair(tmp_path) as nodes:
        yield nodes


@pytest.mark.slow
async def test_a_file_survives_killing_either_side(pair: tuple[Node, Node], tmp_path: Path) -> None:
    alice, bob = pair
    await survives_kills(alice, bob, tmp_path, SIZE)


@pytest.mark.slow
async def test_a_file_changed_after_the_offer_fails(
    pair: tuple[Node, Node], tmp_path: Path
) -> None:
    alice, bob = pair
    src = tmp_path / "draft.txt"
    src.write_bytes(os.urandom(300_000))
    t = await offer(alice, bob, src)
    src.write_bytes(os.urandom(300_001))  # edited after the offer
    assert (await cmd(bob, f"/accept {t['id']}"))["ok"]

    async def ended() -> dict[str, Any] | None:
        now = await transfer(bob, src.name)
        return now if now and now["state"] not in ("offered", "receiving") else None

    final = await eventually(ended, "the transfer ends", DEADLINE, 0.3)
    assert (final["state"], final["error"], final["path"]) == ("failed", "changed", "")
    assert not bob.inbox.exists() or list(bob.inbox.iterdir()) == []
