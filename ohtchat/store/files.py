"""Durable file primitives: atomic replace, directory fsync, and the data-dir lock."""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from ohtchat.store.errors import StoreLocked

LOCK_NAME = "store.lock"
TMP_SUFFIX = ".tmp"


def fsync_dir(directory: Path) -> None:
    """fsync a directory so that creations, renames and deletions in it are durable."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_new(path: Path, data: bytes, *, sync: bool = True) -> None:
    """Write a file that must not exist yet and fsync it (the caller fsyncs the directory).

    With ``sync=False`` the caller must :func:`fsync_file` it before relying on it.
    """
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        _write_all(fd, data)
        if sync:
            os.fsync(fd)
    finally:
        os.close(fd)


def fsync_file(path: Path) -> None:
    """fsync a file written earlier without syncing."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes, *, sync_dir: bool = True) -> None:
    """Replace ``path`` with ``data`` so that a crash leaves either the old or the new file.

    Write a temporary file beside it, fsync it, rename it over ``path`` (atomic on POSIX)
    and fsync the directory so the rename itself survives power loss.
    """
    tmp = path.with_name(path.name + TMP_SUFFIX)
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    write_new(tmp, data)
    os.replace(tmp, path)
    if sync_dir:
        fsync_dir(path.parent)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


class DirLock:
    """An exclusive ``flock`` on ``<data dir>/store.lock``, held while a store is open.

    The kernel drops the lock when the process dies (even by SIGKILL), so a crash never
    leaves a stale lock behind. The lock file holds the owner's pid, for the message.
    """

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.path = data_dir / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise :class:`StoreLocked` naming the holder's pid."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            os.close(fd)
            raise StoreLocked(self.data_dir, holder) from None
        self._fd = fd

    def record_owner(self) -> None:
        """Write our pid into the lock file (only once the store opened successfully)."""
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            os.pwrite(self._fd, f"{os.getpid()}\n".encode(), 0)

    def release(self) -> None:
        """Drop the lock (idempotent)."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            os.close(fd)  # closing the descriptor releases the flock
