"""Shared fixtures: identities for tests."""

from __future__ import annotations

import time

import pytest

from ohtchat.crypto.keys import AccountKey
from ohtchat.session.identity import NodeIdentity


def make_identity() -> NodeIdentity:
    """A fresh account and node identity, certified now."""
    return NodeIdentity.create(AccountKey(), int(time.time()))


@pytest.fixture
def alice() -> NodeIdentity:
    return make_identity()


@pytest.fixture
def bob() -> NodeIdentity:
    return make_identity()
