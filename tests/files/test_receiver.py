"""The receiver takes only the next chunk of the offered length, and publishes only a file
that hashes to the offer; the part file resumes from a verified length."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ohtchat.files.errors import TransferFailed
from ohtchat.files.offer import MIN_CHUNK, FileOffer
from ohtchat.files.receiver import PartFile, Receiver

CHUNK = MIN_CHUNK


def offer_of(data: bytes, *, size: int | None = None, digest: bytes | None = None) -> FileOffer:
    return FileOffer(
        "ab" * 16,
        "f.bin",
        len(data) if size is None else size,
        hashlib.sha256(data).digest() if digest is None else digest,
        CHUNK,
    )


def chunks(data: bytes) -> list[tuple[int, bytes]]:
    return [(o, data[o : o + CHUNK]) for o in range(0, len(data), CHUNK)]


@given(st.binary(max_size=5 * CHUNK))
def test_honest_chunks_complete_and_verify(data: bytes) -> None:
    rx = Receiver(offer_of(data))
    for offset, chunk in chunks(data):
        rx.take(offset, chunk)
    assert rx.complete
    rx.verify()


# One step a sender may take: a chunk at some offset with some bytes.
steps = st.lists(
    st.tuples(st.integers(0, 6), st.integers(-2, 2), st.booleans()), min_size=1, max_size=12
)


@settings(max_examples=300)
@given(st.binary(min_size=1, max_size=4 * CHUNK), steps)
def test_any_sequence_is_done_only_when_every_byte_is_right(
    data: bytes, plan: list[tuple[int, int, bool]]
) -> None:
    """Whatever a sender sends (chunks out of order, twice, past the end, short, long or
    corrupted), the receiver either stops with a failure or ends with exactly the file."""
    rx = Receiver(offer_of(data))
    got = bytearray()
    try:
        for index, delta, corrupt in plan:
            offset = index * CHUNK
            chunk = data[offset : offset + CHUNK + max(delta, 0)]
            if delta < 0:
                chunk = chunk[:delta]
            if corrupt and chunk:
                chunk = bytes([chunk[0] ^ 1]) + chunk[1:]
            rx.take(offset, chunk)
            got += chunk
            if rx.complete:
                break
        if not rx.complete:
            return
        rx.verify()
    except TransferFailed:
        return
    assert bytes(got) == data


@pytest.mark.parametrize(
    ("offset", "cut", "reason"),
    [
        (CHUNK, 0, "out_of_order"),  # skips the first chunk
        (0, 1, "short_chunk"),  # one byte short
        (2 * CHUNK, 0, "past_end"),  # beyond the offered size
    ],
)
def test_lies_fail_with_their_reason(offset: int, cut: int, reason: str) -> None:
    data = os.urandom(2 * CHUNK)
    rx = Receiver(offer_of(data))
    chunk = data[offset : offset + CHUNK] or b"x"
    with pytest.raises(TransferFailed) as err:
        rx.take(offset, chunk[: len(chunk) - cut])
    assert err.value.reason == reason


def test_twice_is_out_of_order() -> None:
    data = os.urandom(2 * CHUNK)
    rx = Receiver(offer_of(data))
    rx.take(0, data[:CHUNK])
    with pytest.raises(TransferFailed) as err:
        rx.take(0, data[:CHUNK])
    assert err.value.reason == "out_of_order"


def test_size_lie_larger_file_is_past_end() -> None:
    data = os.urandom(CHUNK + 10)
    rx = Receiver(offer_of(data, size=CHUNK + 5))  # offered smaller than what is sent
    rx.take(0, data[:CHUNK])
    with pytest.raises(TransferFailed) as err:
        rx.take(CHUNK, data[CHUNK:])
    assert err.value.reason == "past_end"


def test_wrong_hash_publishes_nothing(tmp_path: Path) -> None:
    data = os.urandom(3 * CHUNK)
    offer = offer_of(data, digest=hashlib.sha256(b"other").digest())
    part_path = tmp_path / ".t.part"
    part, rx = PartFile.open(part_path, offer, 0)
    for offset, chunk in chunks(data):
        rx.take(offset, chunk)
        part.write(offset, chunk)
    with pytest.raises(TransferFailed) as err:
        part.finish(rx, tmp_path, "f.bin")
    assert err.value.reason == "hash_mismatch"
    assert list(tmp_path.iterdir()) == []  # no final file, and the part is gone


def test_resume_from_verified_length(tmp_path: Path) -> None:
    data = os.urandom(5 * CHUNK + 7)
    offer = offer_of(data)
    part_path = tmp_path / ".t.part"
    part, rx = PartFile.open(part_path, offer, 0)
    for offset, chunk in chunks(data)[:4]:
        rx.take(offset, chunk)
        part.write(offset, chunk)
    part.close()
    # Only 2 chunks were recorded as verified (the rest may be unsynced garbage after a crash).
    with open(part_path, "r+b") as fh:
        fh.seek(3 * CHUNK)
        fh.write(b"\x00" * 10)
    part, rx = PartFile.open(part_path, offer, 2 * CHUNK + 100)  # floored to a chunk boundary
    assert rx.expected == 2 * CHUNK
    for offset, chunk in chunks(data)[2:]:
        rx.take(offset, chunk)
        part.write(offset, chunk)
    final = part.finish(rx, tmp_path, "f.bin")
    assert final.read_bytes() == data and final.name == "f.bin"


def test_disk_full_is_a_clear_failure(tmp_path: Path) -> None:
    # Every write to /dev/full (a Linux device, always there on Debian) fails with ENOSPC.
    fd = os.open("/dev/full", os.O_WRONLY)
    part = PartFile(tmp_path / "x", fd)
    with pytest.raises(TransferFailed) as err:
        part.write(0, b"x" * CHUNK)
        part.sync()
    part.close()
    assert err.value.reason == "disk_full", err.value
