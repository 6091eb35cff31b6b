"""Fixtures of the client tests: English, UTC timestamps, a fixed-size terminal, real nodes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC

import pytest

from ohtchat.api.backend import Backend
from ohtchat.app.node import ChatNode
from ohtchat.i18n import using_language
from ohtchat.tui.app import OhtchatApp

from .nodes import befriend, memory_ring, shared_channel

SIZE = (100, 30)


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    with using_language("en"):
        yield


@dataclass
class Friends:
    """Alice and Bob: real nodes on one memory network, contacts of each other, both in the
    channel "book club"."""

    alice: ChatNode
    bob: ChatNode
    club: str  # the channel's id


@pytest.fixture
async def friends() -> AsyncIterator[Friends]:
    async with memory_ring("alice", "bob") as (alice, bob):
        await befriend(alice, bob)
        club = await shared_channel(alice, "book club", bob)
        yield Friends(alice, bob, club)


def make_app(backend: Backend, **kwargs: object) -> OhtchatApp:
    return OhtchatApp(backend, tz=UTC, **kwargs)  # type: ignore[arg-type]
