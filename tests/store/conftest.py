"""Fixtures for store tests: fast KDF parameters and sample records."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest

from ohtchat.store import (
    Channel,
    Contact,
    KdfParams,
    Message,
    MessageState,
    Store,
    StoredAccount,
)

PASS = "correct horse battery staple"
FAST = KdfParams.minimum()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def new_store(data_dir: Path) -> Callable[..., Store]:
    def make(**kw: object) -> Store:
        return Store.create(data_dir, PASS, kdf=FAST, **kw)  # type: ignore[arg-type]

    return make


class Samples:
    """Sample records and helpers, handed to tests by the ``samples`` fixture."""

    passphrase = PASS
    kdf = FAST

    @staticmethod
    def msg(i: int, conv: str = "conv-a", state: MessageState = MessageState.RECEIVED) -> Message:
        return Message(
            f"id-{i:06d}", conv, f"sender-{i % 3}", f"text number {i}", 1000.0 + i, state
        )

    @staticmethod
    def account() -> StoredAccount:
        return StoredAccount(
            "main", b"\x11" * 32, b"\x22" * 32, bytes(range(256)) * 9, 123.5, b"\x33" * 1184
        )

    @staticmethod
    def contact() -> Contact:
        return Contact(
            "a" * 64,
            "Zebulon Quixote",
            "accepted",
            "fp-1234",
            77.0,
            b"\x44" * 32,
            ("x.onion",),
            "n",
        )

    @staticmethod
    def channel() -> Channel:
        return Channel(
            "chan-1", "Secret Garden Club", ("a" * 64, "b" * 64), 88.0, "a" * 64, b"\x55" * 32
        )

    @staticmethod
    def snapshot(directory: Path) -> dict[str, str]:
        """Name → SHA-256 of every file in a directory (to prove nothing changed)."""
        return {
            p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(directory.iterdir())
            if p.is_file()
        }


@pytest.fixture
def samples() -> type[Samples]:
    return Samples
