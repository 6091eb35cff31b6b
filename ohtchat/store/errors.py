"""Typed errors raised by the store: every bad input ends in one of these."""

from __future__ import annotations

from pathlib import Path


class StoreError(Exception):
    """Base class of every error the store raises on bad input or bad files."""


class WrongPassphrase(StoreError):
    """The passphrase does not open this store (the header is intact; nothing was changed)."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"wrong passphrase for the store at {path}")
        self.path = path


class CorruptedFile(StoreError):
    """A store file failed its integrity check; nothing was overwritten.

    ``path`` names the file and ``detail`` says what is wrong with it (and, for the
    journal, at which byte offset).
    """

    def __init__(self, path: Path, detail: str) -> None:
        super().__init__(f"store file {path} is corrupted: {detail}")
        self.path = path
        self.detail = detail


class StoreLocked(StoreError):
    """Another process holds the data directory's lock."""

    def __init__(self, data_dir: Path, holder: str) -> None:
        who = f" (pid {holder})" if holder else ""
        super().__init__(
            f"the data directory {data_dir} is in use by another ohtchat process{who}; "
            "close it first or pass a different --data-dir"
        )
        self.data_dir = data_dir
        self.holder = holder


class StoreNotFound(StoreError):
    """There is no store in the data directory (use ``Store.create``)."""

    def __init__(self, data_dir: Path) -> None:
        super().__init__(f"no store in {data_dir}; create one first")
        self.data_dir = data_dir


class StoreExists(StoreError):
    """``Store.create`` found a store already in the data directory."""

    def __init__(self, data_dir: Path) -> None:
        super().__init__(f"a store already exists in {data_dir}")
        self.data_dir = data_dir


class StoreClosed(StoreError):
    """The store was used after ``close()``."""


class RecordNotFound(StoreError, KeyError):
    """A record looked up by key does not exist."""

    def __init__(self, kind: str, key: object) -> None:
        super().__init__(f"no {kind} {key!r}")
        self.kind = kind
        self.key = key

    def __str__(self) -> str:
        return str(self.args[0])


class InvalidRecord(StoreError, ValueError):
    """A record passed to the store has a wrong type or value."""
