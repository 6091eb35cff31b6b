"""Shared fixtures: identities for tests."""

from __future__ import annotations

import os
import time

import pytest

from ohtchat.crypto.keys import AccountKey
from ohtchat.session.identity import NodeIdentity

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
