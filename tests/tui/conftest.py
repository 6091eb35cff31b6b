"""Fixtures of the client tests: English, UTC timestamps, a fixed-size terminal."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC

import pytest

from ohtchat.i18n import using_language
from ohtchat.tui.app import OhtchatApp

from .fakes import FakeBackend, pair

SIZE = (100, 30)


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    with using_language("en"):
        yield


@pytest.fixture
def nodes() -> tuple[FakeBackend, FakeBackend]:
    _net, alice, bob = pair()
    return alice, bob


def make_app(backend: FakeBackend, **kwargs: object) -> OhtchatApp:
    return OhtchatApp(backend, tz=UTC, **kwargs)  # type: ignore[arg-type]
