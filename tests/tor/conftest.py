"""Fixtures for tests that run real tor (the shared private network, ``testnet``, is a
session fixture in tests/conftest.py)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from ohtchat.tor.process import TorProcess
from ohtchat.tor.testnet import Testnet


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    """A short temporary directory (unix socket paths are limited to 107 bytes)."""
    path = Path(tempfile.mkdtemp(prefix="oht-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
async def client_tor(
    testnet: Testnet, short_tmp: Path
) -> AsyncIterator[Callable[[str], Awaitable[TorProcess]]]:
    """``await client_tor("a")``: a bootstrapped client tor on the shared network."""
    started: list[TorProcess] = []

    async def make(name: str) -> TorProcess:
        tor = TorProcess.launch(testnet.client_config(short_tmp / name))
        started.append(tor)
        await tor.start()
        await tor.wait_ready(90)
        return tor

    yield make
    for tor in started:
        await tor.stop()
