"""Fixtures: the shared private Tor network (see tests/tor/conftest.py)."""

from __future__ import annotations

import pytest

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
