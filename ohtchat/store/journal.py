"""The append-only journal: one sealed record per change, fsynced before it counts.

Each record is ``length u32 ‖ crc32(length, seq) u32 ‖ sealed payload``. The payload is
sealed with the store id, the generation and the record's sequence number as associated
data, so a record cannot be moved, dropped from the middle, or replayed from an older
journal without failing authentication.

Reading tells a **torn tail** (a crash while appending: a partial frame, a zero-filled
tail after power loss, or a final record that does not authenticate) from **corruption**
(a record in the middle that is damaged). The first is cut off — such a record was never
acknowledged, because ``append`` returns only after fdatasync — the second is an error.
"""

from __future__ import annotations

import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

from ohtchat.store.errors import CorruptedFile, InvalidRecord
from ohtchat.store.sealing import OVERHEAD, SealError, seal, unseal

MAX_RECORD = 16 << 20
_FRAME = struct.Struct(">II")


def _crc(length: int, seq: int) -> int:
    return zlib.crc32(struct.pack(">IQ", length, seq))


def _ad(store_id: bytes, gen: int, seq: int) -> bytes:
    return b"ohtchat-journal\x00" + store_id + struct.pack(">QQ", gen, seq)


@dataclass
class JournalContents:
    """What reading a journal found: the payloads, and where the good part ends."""

    payloads: list[bytes]
    good_end: int
    size: int

    @property
    def torn(self) -> bool:
        """True if bytes after the last good record must be cut off."""
        return self.good_end < self.size


def read_journal(path: Path, key: bytes, store_id: bytes, gen: int) -> JournalContents:
    """Decrypt every record of a journal; raise :class:`CorruptedFile` on mid-file damage."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CorruptedFile(path, f"cannot read journal: {exc.strerror}") from exc
    payloads: list[bytes] = []
    off, size = 0, len(data)
    while off < size:
        rest = size - off
        if rest < _FRAME.size or not any(data[off:]):
            break  # partial frame, or a zero-filled tail: torn
        length, crc = _FRAME.unpack_from(data, off)
        seq = len(payloads)
        if crc != _crc(length, seq):
            raise CorruptedFile(path, f"journal record {seq} at byte {off}: bad frame")
        end = off + _FRAME.size + length
        if end > size:
            break  # the body never made it to disk: torn
        try:
            payloads.append(unseal(key, data[off + _FRAME.size : end], _ad(store_id, gen, seq)))
        except SealError:
            if end == size:
                break  # the last record, half-written: torn
            raise CorruptedFile(
                path, f"journal record {seq} at byte {off} does not authenticate"
            ) from None
        off = end
    return JournalContents(payloads, off, size)


class JournalWriter:
    """Appends sealed records to one journal file; each append is durable on return."""

    def __init__(
        self, path: Path, key: bytes, store_id: bytes, gen: int, records: int, size: int
    ) -> None:
        self.path = path
        self._key = key
        self._store_id = store_id
        self._gen = gen
        self.records = records
        self.size = size
        self._fd: int | None = os.open(path, os.O_WRONLY | os.O_APPEND)

    def append(self, payload: bytes) -> None:
        """Seal, write and fdatasync one record."""
        if self._fd is None:
            raise ValueError("journal is closed")
        if len(payload) + OVERHEAD > MAX_RECORD:
            raise InvalidRecord(f"record of {len(payload)} bytes exceeds the journal limit")
        sealed = seal(self._key, payload, _ad(self._store_id, self._gen, self.records))
        frame = _FRAME.pack(len(sealed), _crc(len(sealed), self.records)) + sealed
        try:
            if os.write(self._fd, frame) != len(frame):
                raise OSError(f"short write to {self.path}")
            os.fdatasync(self._fd)
        except OSError:
            # Disk full or I/O error: cut the partial frame off so the journal stays
            # well formed and later appends line up with their sequence numbers.
            os.ftruncate(self._fd, self.size)
            raise
        self.records += 1
        self.size += len(frame)

    def close(self) -> None:
        """Close the file (idempotent)."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)
