"""Shared fixtures: identities for tests."""

from __future__ import annotations

import os
import time

import pytest

from ohtchat.crypto.keys import AccountKey
from ohtchat.session.identity import NodeIdentity
from ohtchat.tor.testing import shared_testnet
from ohtchat.tor.testnet import Testnet

# Tests (and the subprocesses they start) run in English whatever the developer's locale;
# tests of other languages set their own variables (LANG, LANGUAGE) or pass --lang.
for _var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
    os.environ.pop(_var, None)
os.environ["LANG"] = "C.UTF-8"


def make_identity() -> NodeIdentity:
    """A fresh account and node identity, certified now."""
    return NodeIdentity.create(AccountKey(), int(time.time()))


@pytest.fixture
def alice() -> NodeIdentity:
    return make_identity()


@pytest.fixture
def bob() -> NodeIdentity:
    return make_identity()


@pytest.fixture(scope="session")
def testnet() -> Testnet:
    """The shared private Tor network (1 authority + 4 relays), started on first use.

    Debian's tor is part of the test set-up (``python3 -m ohtchat.bootstrap test`` installs it),
    so tests that need it run everywhere, CI included.
    """
    return shared_testnet()
