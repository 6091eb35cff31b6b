"""Serving an offered file: its hash at offer time, then ranges of it, refused once it changed.

The sender keeps the file where it is; what it offered is pinned by the size and modification
time it had when it was hashed. Every range read checks them again, so a file edited after the
offer is refused (``changed``) instead of mixing old and new bytes: the receiver would fail the
hash anyway, but later and after pulling everything.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from ohtchat.files.errors import TransferFailed

#: Bytes read per step while hashing a file to offer.
HASH_STEP = 1024 * 1024


@dataclass(frozen=True)
class Source:
    """An offered file as it was when offered."""

    path: Path
    size: int
    mtime_ns: int

    @classmethod
    def snapshot(cls, path: Path, limit: int) -> tuple[Source, bytes]:
        """Hash ``path`` for an offer: ``(source, sha256)``. Raises ``TransferFailed``
        (``too_large``, ``changed`` when it changed while read, ``io``)."""
        try:
            with open(path, "rb") as fh:
                before = os.fstat(fh.fileno())
                if before.st_size > limit:
                    raise TransferFailed(
                        "too_large", f"{before.st_size} bytes is over the limit of {limit}"
                    )
                hasher = hashlib.sha256()
                while block := fh.read(HASH_STEP):
                    hasher.update(block)
                after = os.fstat(fh.fileno())
        except OSError as exc:
            raise TransferFailed("io", f"{path}: {exc.strerror or exc}") from exc
        if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns):
            raise TransferFailed("changed", f"{path} changed while it was read")
        return cls(Path(path), after.st_size, after.st_mtime_ns), hasher.digest()

    def read(self, offset: int, length: int) -> bytes:
        """``length`` bytes at ``offset`` (fewer only at the end of the file); ``changed`` if
        the file is not the one offered any more, ``io`` if it cannot be read."""
        if offset < 0 or length < 0 or offset > self.size:
            raise TransferFailed("past_end", f"a range at {offset}+{length} of {self.size}")
        length = min(length, self.size - offset)
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except OSError as exc:
            raise TransferFailed("changed", f"{self.path}: {exc.strerror or exc}") from exc
        try:
            st = os.fstat(fd)
            if (st.st_size, st.st_mtime_ns) != (self.size, self.mtime_ns):
                raise TransferFailed("changed", f"{self.path} changed since it was offered")
            data = os.pread(fd, length, offset)
        except OSError as exc:
            raise TransferFailed("io", f"{self.path}: {exc.strerror or exc}") from exc
        finally:
            os.close(fd)
        if len(data) != length:
            raise TransferFailed("changed", f"{self.path} is shorter than offered")
        return data
