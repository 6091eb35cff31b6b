"""TinyDB segments: a TinyDB ``Storage`` that seals the whole table dict into one file.

File layout: ``magic "OHTSEG1\\0" ‖ sealed(zlib(msgpack(tables)))``, sealed with the store
id and the file's own name as associated data (a segment renamed or copied from another
store does not open). Segment files are written once under a fresh name and never
changed afterwards (copy-on-write), so a crash during compaction cannot damage one.

In ``--memory`` mode the same segment code runs on TinyDB's ``MemoryStorage``.
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any

import msgpack
from tinydb import TinyDB
from tinydb.storages import MemoryStorage, Storage

from ohtchat.store.errors import CorruptedFile
from ohtchat.store.files import atomic_write, write_new
from ohtchat.store.records import Doc
from ohtchat.store.sealing import SealError, seal, unseal

SEG_MAGIC = b"OHTSEG1\x00"
Tables = dict[str, dict[str, Doc]]


def _ad(store_id: bytes, name: str) -> bytes:
    return b"ohtchat-segment\x00" + store_id + name.encode("utf-8")


class SealedStorage(Storage):  # type: ignore[misc]
    """A TinyDB storage whose file is encrypted and authenticated as a whole.

    ``read`` raises :class:`CorruptedFile` (naming the file) if it does not authenticate;
    ``write`` replaces the file atomically (the caller fsyncs the directory once). With
    ``fresh=True`` the file must not exist and is written without fsync: compaction
    writes all its new segments first and then fsyncs them together, which lets the
    filesystem commit them in one journal transaction instead of one per file.
    """

    def __init__(self, path: Path, key: bytes, store_id: bytes, fresh: bool = False) -> None:
        self.path = path
        self._key = key
        self._ad = _ad(store_id, path.name)
        self._fresh = fresh

    def read(self) -> Tables | None:
        """Decrypt the table dict, or None if the file does not exist yet."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise CorruptedFile(self.path, f"cannot read: {exc.strerror}") from exc
        if not data.startswith(SEG_MAGIC):
            raise CorruptedFile(self.path, "not an ohtchat segment (bad magic)")
        try:
            packed = zlib.decompress(unseal(self._key, data[len(SEG_MAGIC) :], self._ad))
            tables = msgpack.unpackb(packed, strict_map_key=False)
        except SealError:
            raise CorruptedFile(self.path, "segment does not authenticate") from None
        except (zlib.error, ValueError, msgpack.ExtraData) as exc:
            raise CorruptedFile(self.path, f"malformed segment: {exc}") from exc
        if not isinstance(tables, dict):
            raise CorruptedFile(self.path, "malformed segment: not a table dict")
        return tables

    def write(self, data: Tables) -> None:
        """Seal ``data`` and atomically replace the file."""
        blob = SEG_MAGIC + seal(self._key, zlib.compress(msgpack.packb(data), 1), self._ad)
        if self._fresh:
            write_new(self.path, blob, sync=False)
        else:
            atomic_write(self.path, blob, sync_dir=False)

    def close(self) -> None:
        """Nothing to release: each read and write opens the file anew."""


def read_tables(db: TinyDB, names: tuple[str, ...]) -> dict[str, list[Doc]]:
    """The named tables of a TinyDB as plain document lists (one storage read)."""
    # One storage read for all tables: SealedStorage decrypts the whole file on every
    # read, and TinyDB's Table API would read it once per table.
    raw = db.storage.read() or {}
    out: dict[str, list[Doc]] = {}
    for name in names:
        table = raw.get(name, {})
        if not isinstance(table, dict):
            raise ValueError(f"table {name!r} is not a dict")
        out[name] = list(table.values())
    return out


def write_disk_segment(
    path: Path, key: bytes, store_id: bytes, tables: dict[str, list[Doc]]
) -> None:
    """Write a new sealed segment file through TinyDB (not yet fsynced: see SealedStorage)."""
    db = TinyDB(path, key, store_id, fresh=True, storage=SealedStorage)
    try:
        # One storage write for the whole segment, instead of one per table.
        db.storage.write(_as_tinydb_tables(tables))
    finally:
        db.close()


def read_disk_segment(
    path: Path, key: bytes, store_id: bytes, names: tuple[str, ...]
) -> dict[str, list[Doc]]:
    """Read one sealed segment file through TinyDB; a missing file is corruption here."""
    if not path.exists():
        raise CorruptedFile(path, "segment file is missing")
    db = TinyDB(path, key, store_id, storage=SealedStorage)
    try:
        return read_tables(db, names)
    except ValueError as exc:
        raise CorruptedFile(path, f"malformed segment: {exc}") from exc
    finally:
        db.close()


def new_memory_segment(tables: dict[str, list[Doc]]) -> TinyDB:
    """A TinyDB on ``MemoryStorage`` holding ``tables`` (the ``--memory`` mode)."""
    db = TinyDB(storage=MemoryStorage)
    db.storage.write(_as_tinydb_tables(tables))
    return db


def _as_tinydb_tables(tables: dict[str, list[Doc]]) -> dict[str, dict[str, Any]]:
    # TinyDB's on-storage shape: {table: {doc_id (str): document}}.
    return {name: {str(i + 1): doc for i, doc in enumerate(docs)} for name, docs in tables.items()}
