"""Where the store's bytes go: sealed files in a data dir, or TinyDB MemoryStorage.

The store keeps its whole state in memory and hands the backend two kinds of work:
``append`` (one journal record, durable on return) and ``commit`` (a compaction: the
changed segments, maybe the meta tables, and a fresh empty journal). A disk commit is
copy-on-write: new files under new names, fsync, then one atomic replace of the header
(the manifest names the live files), then the superseded files are deleted.
"""

from __future__ import annotations

import contextlib
import hmac
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from tinydb import TinyDB

from ohtchat.store.errors import StoreExists, StoreNotFound
from ohtchat.store.files import (
    LOCK_NAME,
    TMP_SUFFIX,
    DirLock,
    atomic_write,
    fsync_dir,
    fsync_file,
    write_new,
)
from ohtchat.store.header import (
    HEADER_NAME,
    HeaderInfo,
    Manifest,
    SegmentEntry,
    encode_header,
    open_header,
)
from ohtchat.store.journal import JournalWriter, read_journal
from ohtchat.store.records import Doc
from ohtchat.store.sealing import KdfParams, derive_key, new_salt
from ohtchat.store.segments import new_memory_segment, read_disk_segment, write_disk_segment

META_TABLES = ("accounts", "contacts", "channels", "replicas", "settings")
MESSAGE_TABLES = ("messages",)
_OUR_PREFIXES = ("journal-", "meta-", "seg-")


@dataclass
class Loaded:
    """Everything read at open: meta tables, message segments, journal payloads."""

    meta: dict[str, list[Doc]] = field(default_factory=dict)
    segments: dict[int, tuple[str, list[Doc]]] = field(default_factory=dict)
    journal: list[bytes] = field(default_factory=list)
    next_seg: int = 0
    files: dict[int, Path] = field(default_factory=dict)
    meta_file: Path | None = None
    journal_file: Path | None = None


@dataclass
class CommitPlan:
    """A compaction: full contents of the changed segments and (if changed) the meta tables."""

    segments: dict[int, tuple[str, list[Doc]]]
    dropped: set[int]
    meta: dict[str, list[Doc]] | None
    next_seg: int


class Backend(Protocol):
    """What the store needs from its storage."""

    journal_records: int

    def append(self, payload: bytes) -> None:
        """Store one journal record durably."""

    def commit(self, plan: CommitPlan) -> None:
        """Fold the journal into segments: write the plan and start an empty journal."""

    def close(self) -> None:
        """Release files and locks."""


class MemoryBackend:
    """``--memory``: segments are TinyDBs on MemoryStorage; nothing touches the disk."""

    def __init__(self) -> None:
        self.journal_records = 0
        self.segments: dict[int, TinyDB] = {}
        self.conversations: dict[int, str] = {}
        self.meta: TinyDB | None = None

    def append(self, payload: bytes) -> None:
        """Nothing to make durable: only count records so compaction runs as on disk."""
        self.journal_records += 1

    def commit(self, plan: CommitPlan) -> None:
        """Replace the changed segments' MemoryStorage TinyDBs."""
        for n, (conv, docs) in plan.segments.items():
            self.segments[n] = new_memory_segment({"messages": docs})
            self.conversations[n] = conv
        for n in plan.dropped:
            self.segments.pop(n, None)
            self.conversations.pop(n, None)
        if plan.meta is not None:
            self.meta = new_memory_segment(plan.meta)
        self.journal_records = 0

    def close(self) -> None:
        """Drop everything."""
        self.segments.clear()
        self.meta = None


class DiskBackend:
    """A data directory: ``store.hdr``, ``store.lock``, a journal and TinyDB segments."""

    def __init__(
        self, data_dir: Path, lock: DirLock, info: HeaderInfo, key: bytes, manifest: Manifest
    ) -> None:
        self.data_dir = data_dir
        self._lock = lock
        self._info = info
        self._key = key
        self.manifest = manifest
        path = data_dir / manifest.journal
        self._journal = JournalWriter(path, key, info.store_id, manifest.gen, 0, 0)
        self.journal_records = 0

    @property
    def kdf(self) -> KdfParams:
        """The Argon2id parameters of the current header."""
        return self._info.kdf

    @classmethod
    def create(cls, data_dir: Path, passphrase: str, kdf: KdfParams) -> DiskBackend:
        """Make a new empty store in ``data_dir`` (created with mode 0700 if missing)."""
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        lock = DirLock(data_dir)
        lock.acquire()
        try:
            if (data_dir / HEADER_NAME).exists():
                raise StoreExists(data_dir)
            # Files of an earlier create that crashed before its header was written.
            _remove_strays(data_dir, Manifest(0, "", "", 0))
            info = HeaderInfo(kdf, new_salt(), os.urandom(16))
            key = derive_key(passphrase, info.salt, kdf)
            manifest = Manifest(0, "", "", 0)
            manifest = _write_generation(data_dir, info, key, manifest, _empty_plan())
            lock.record_owner()
            return cls(data_dir, lock, info, key, manifest)
        except BaseException:
            lock.release()
            raise

    @classmethod
    def open(cls, data_dir: Path, passphrase: str) -> tuple[DiskBackend, Loaded]:
        """Open, authenticate and read an existing store; nothing is written on failure."""
        if not (data_dir / HEADER_NAME).is_file():
            raise StoreNotFound(data_dir)
        lock = DirLock(data_dir)
        lock.acquire()
        try:
            info, key, manifest = open_header(data_dir / HEADER_NAME, passphrase)
            loaded = _read_generation(data_dir, info, key, manifest)
            journal = read_journal(data_dir / manifest.journal, key, info.store_id, manifest.gen)
            loaded.journal = journal.payloads
            loaded.journal_file = data_dir / manifest.journal
            # Everything authenticated: now (and only now) repair and tidy up.
            if journal.torn:
                _truncate(data_dir / manifest.journal, journal.good_end)
            _remove_strays(data_dir, manifest)
            lock.record_owner()
            backend = cls(data_dir, lock, info, key, manifest)
            backend._journal.records = backend.journal_records = len(journal.payloads)
            backend._journal.size = journal.good_end
            return backend, loaded
        except BaseException:
            lock.release()
            raise

    def append(self, payload: bytes) -> None:
        """Seal, write and fdatasync one journal record."""
        self._journal.append(payload)
        self.journal_records = self._journal.records

    def commit(self, plan: CommitPlan) -> None:
        """Write the next generation and switch to it (see the module docstring)."""
        self._switch(self._info, self._key, plan)

    def rekey(self, passphrase: str, kdf: KdfParams, plan: CommitPlan) -> None:
        """Re-encrypt everything under a key from ``passphrase`` (``plan`` holds all data)."""
        info = HeaderInfo(kdf, new_salt(), self._info.store_id)
        self._switch(info, derive_key(passphrase, info.salt, kdf), plan, full=True)

    def verify_passphrase(self, passphrase: str) -> bool:
        """Whether ``passphrase`` derives the current key."""
        return hmac.compare_digest(
            derive_key(passphrase, self._info.salt, self._info.kdf), self._key
        )

    def _switch(self, info: HeaderInfo, key: bytes, plan: CommitPlan, full: bool = False) -> None:
        old = self.manifest
        base = Manifest(old.gen, old.journal, old.meta, old.next_seg, dict(old.segments))
        if full:
            base.segments = {}
        new = _write_generation(self.data_dir, info, key, base, plan)
        self._journal.close()
        self._info, self._key, self.manifest = info, key, new
        self._journal = JournalWriter(
            self.data_dir / new.journal, key, info.store_id, new.gen, 0, 0
        )
        self.journal_records = 0
        for name in old.files() - new.files():
            with contextlib.suppress(OSError):
                (self.data_dir / name).unlink()

    def close(self) -> None:
        """Close the journal and release the lock."""
        self._journal.close()
        self._lock.release()


def _empty_plan() -> CommitPlan:
    return CommitPlan({}, set(), {t: [] for t in META_TABLES}, 0)


def _write_generation(
    data_dir: Path, info: HeaderInfo, key: bytes, base: Manifest, plan: CommitPlan
) -> Manifest:
    """Write new files for ``plan`` on top of ``base``, then commit the header."""
    gen = base.gen + 1
    new = Manifest(gen, f"journal-{gen:08d}.log", base.meta, plan.next_seg, dict(base.segments))
    created: list[Path] = []
    try:
        for n, (conv, docs) in plan.segments.items():
            name = f"seg-{n:08d}-{gen:08d}.tdb"
            created.append(data_dir / name)
            write_disk_segment(data_dir / name, key, info.store_id, {"messages": docs})
            new.segments[n] = SegmentEntry(name, conv)
        for n in plan.dropped:
            new.segments.pop(n, None)
        if plan.meta is not None:
            new.meta = f"meta-{gen:08d}.tdb"
            created.append(data_dir / new.meta)
            write_disk_segment(data_dir / new.meta, key, info.store_id, plan.meta)
        created.append(data_dir / new.journal)
        write_new(data_dir / new.journal, b"", sync=False)
        for path in created:
            fsync_file(path)
        fsync_dir(data_dir)
    except BaseException:
        for path in created:
            with contextlib.suppress(OSError):
                path.unlink()
        raise
    # The commit point: once the new header is renamed into place, the new generation is it.
    atomic_write(data_dir / HEADER_NAME, encode_header(info, key, new))
    return new


def _read_generation(data_dir: Path, info: HeaderInfo, key: bytes, manifest: Manifest) -> Loaded:
    loaded = Loaded(next_seg=manifest.next_seg, meta_file=data_dir / manifest.meta)
    loaded.meta = read_disk_segment(data_dir / manifest.meta, key, info.store_id, META_TABLES)
    for n, entry in manifest.segments.items():
        tables = read_disk_segment(data_dir / entry.file, key, info.store_id, MESSAGE_TABLES)
        loaded.segments[n] = (entry.conversation, tables["messages"])
        loaded.files[n] = data_dir / entry.file
    return loaded


def _truncate(path: Path, size: int) -> None:
    """Cut a torn journal tail (never acknowledged) so appends continue after good data."""
    fd = os.open(path, os.O_WRONLY)
    try:
        os.ftruncate(fd, size)
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_strays(data_dir: Path, manifest: Manifest) -> None:
    """Delete our files that no manifest refers to (left by a crash during a commit)."""
    live = manifest.files() | {HEADER_NAME, LOCK_NAME}
    for entry in os.scandir(data_dir):
        name = entry.name
        ours = name.startswith(_OUR_PREFIXES) or (
            name.endswith(TMP_SUFFIX) and name.removesuffix(TMP_SUFFIX) == HEADER_NAME
        )
        if ours and name not in live and entry.is_file(follow_symlinks=False):
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
