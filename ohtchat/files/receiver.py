"""Receiving one file: a pure state machine over the chunks, and the ``.part`` file it fills.

:class:`Receiver` accepts exactly the next expected chunk (offset and length), hashes what it
took and says when the file is complete; it never touches the disk. :class:`PartFile` is the
disk side: the partial file (hidden, 0600, in the download folder), resumed from a verified
length by re-hashing its prefix, published under a free final name only after the whole file
hashed to the offered SHA-256. So nothing partial is ever presented as done.
"""

from __future__ import annotations

import errno
import hashlib
import os
from pathlib import Path
from typing import Any

from ohtchat.files.errors import TransferFailed
from ohtchat.files.names import publish
from ohtchat.files.offer import FileOffer

#: Bytes re-read per step when a resumed part file is re-hashed.
REHASH_STEP = 1024 * 1024


class Receiver:
    """The chunk checks of one incoming file (sans-IO)."""

    def __init__(self, offer: FileOffer, verified: int = 0, hasher: Any = None) -> None:
        if not 0 <= verified <= offer.size or (verified % offer.chunk and verified < offer.size):
            raise ValueError("the verified length must be a chunk boundary within the file")
        self.offer = offer
        #: The next offset we accept; everything before it is written and hashed.
        self.expected = verified
        self.hasher = hasher if hasher is not None else hashlib.sha256()

    @property
    def complete(self) -> bool:
        """Whether every byte arrived (the hash is checked by :meth:`verify`)."""
        return self.expected >= self.offer.size

    def take(self, offset: int, data: bytes) -> None:
        """Accept the chunk at ``offset``: only the next expected one, of exactly its length.
        Raises :class:`TransferFailed` (``past_end``, ``out_of_order``, ``short_chunk``)."""
        size = self.offer.size
        if offset >= size or offset + len(data) > size:
            raise TransferFailed("past_end", f"a chunk at {offset}+{len(data)} of {size} bytes")
        if offset != self.expected:
            raise TransferFailed("out_of_order", f"a chunk at {offset}, expected {self.expected}")
        want = self.offer.chunk_length(offset)
        if len(data) != want:
            raise TransferFailed("short_chunk", f"{len(data)} bytes at {offset}, expected {want}")
        self.hasher.update(data)
        self.expected += len(data)

    def verify(self) -> None:
        """``TransferFailed('hash_mismatch')`` unless the complete file hashes to the offer."""
        if not self.complete:
            raise TransferFailed("short_chunk", "the file is not complete")
        if self.hasher.digest() != self.offer.sha256:
            raise TransferFailed("hash_mismatch", "the file does not match the offered SHA-256")


def _os_failure(exc: OSError) -> TransferFailed:
    """A local file-system error as a failure: disk full is said as such."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return TransferFailed("disk_full", "no space left on the device")
    return TransferFailed("io", f"{exc.strerror or exc}")


class PartFile:
    """The partial file of one incoming transfer (open it with :meth:`open`)."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd = fd

    @classmethod
    def open(cls, path: Path, offer: FileOffer, verified: int) -> tuple[PartFile, Receiver]:
        """Open (or create) the part file, cut it to ``verified`` bytes (fewer if it is
        shorter, floored to a chunk boundary) and re-hash that prefix; the receiver resumes
        there."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise _os_failure(exc) from exc
        part = cls(path, fd)
        try:
            have = min(verified, os.fstat(fd).st_size, offer.size)
            if have < offer.size:
                have -= have % offer.chunk
            os.ftruncate(fd, have)
            hasher = hashlib.sha256()
            pos = 0
            while pos < have:
                block = os.pread(fd, min(REHASH_STEP, have - pos), pos)
                if not block:
                    raise TransferFailed("io", "the part file shrank while it was re-read")
                hasher.update(block)
                pos += len(block)
        except OSError as exc:
            part.close()
            raise _os_failure(exc) from exc
        except TransferFailed:
            part.close()
            raise
        return part, Receiver(offer, have, hasher)

    def write(self, offset: int, data: bytes) -> None:
        """Write a chunk the receiver took (``disk_full`` / ``io`` on failure)."""
        try:
            view = memoryview(data)
            while view:
                n = os.pwrite(self._fd, view, offset)
                view, offset = view[n:], offset + n
        except OSError as exc:
            raise _os_failure(exc) from exc

    def sync(self) -> None:
        """Flush the written chunks to the disk (before a verified length is recorded)."""
        try:
            os.fsync(self._fd)
        except OSError as exc:
            raise _os_failure(exc) from exc

    def close(self) -> None:
        """Close the file (kept on disk for a later resume)."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def finish(self, receiver: Receiver, folder: Path, name: str) -> Path:
        """Verify the whole file, then give it a free final name in ``folder``; on a hash
        mismatch the part file is deleted and ``TransferFailed`` raised."""
        try:
            receiver.verify()
        except TransferFailed:
            self.discard()
            raise
        try:
            self.sync()
        finally:
            self.close()
        try:
            return publish(self.path, folder, name)
        except OSError as exc:
            raise _os_failure(exc) from exc

    def discard(self) -> None:
        """Close and delete the part file."""
        self.close()
        self.path.unlink(missing_ok=True)
