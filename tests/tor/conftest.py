"""Fixtures for tests that run real tor: one shared private network per test session.

Other test directories reuse the same network by defining the same thin fixture::

    from ohtchat.tor.testing import shared_testnet

    @pytest.fixture(scope="session")
    def testnet():
        return shared_testnet()
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from ohtchat.tor.process import TorProcess
from ohtchat.tor.testing import shared_testnet, tor_available
from ohtchat.tor.testnet import Testnet


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Skip ``tor`` tests where tor is not installed (CI installs it, so they run there)."""
    if tor_available():
        return
    skip = pytest.mark.skip(reason="tor / tor-gencert not installed")
    for item in items:
        if "tor" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def testnet() -> Testnet:
    """The shared private Tor network (1 authority + 4 relays)."""
    return shared_testnet()


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
