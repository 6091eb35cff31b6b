"""The sender serves the file as offered and refuses once it changed; offers are validated."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from ohtchat.files.errors import TransferFailed
from ohtchat.files.offer import FileOffer
from ohtchat.files.quota import Quota
from ohtchat.files.sender import Source


def test_snapshot_and_ranges(tmp_path: Path) -> None:
    data = os.urandom(10_000)
    path = tmp_path / "a.bin"
    path.write_bytes(data)
    source, digest = Source.snapshot(path, 1 << 20)
    assert digest == hashlib.sha256(data).digest() and source.size == len(data)
    assert source.read(4096, 4096) == data[4096:8192]
    assert source.read(8192, 4096) == data[8192:]  # the last range is short


def test_changed_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.bin"
    path.write_bytes(b"a" * 5000)
    source, _ = Source.snapshot(path, 1 << 20)
    path.write_bytes(b"b" * 5001)
    with pytest.raises(TransferFailed) as err:
        source.read(0, 4096)
    assert err.value.reason == "changed"
    path.unlink()
    with pytest.raises(TransferFailed) as err:
        source.read(0, 4096)
    assert err.value.reason == "changed"


def test_too_large_to_offer(tmp_path: Path) -> None:
    path = tmp_path / "a.bin"
    path.write_bytes(b"a" * 5000)
    with pytest.raises(TransferFailed) as err:
        Source.snapshot(path, 4999)
    assert err.value.reason == "too_large"


@pytest.mark.parametrize(
    "bad",
    [
        None,
        {},
        {"id": "AB" * 16, "name": "x", "size": 1, "sha256": b"\0" * 32, "chunk": 65536},
        {"id": "ab" * 16, "name": "", "size": 1, "sha256": b"\0" * 32, "chunk": 65536},
        {"id": "ab" * 16, "name": "x", "size": -1, "sha256": b"\0" * 32, "chunk": 65536},
        {"id": "ab" * 16, "name": "x", "size": 1, "sha256": b"\0" * 31, "chunk": 65536},
        {"id": "ab" * 16, "name": "x", "size": 1, "sha256": b"\0" * 32, "chunk": 1 << 20},
        {"id": "ab" * 16, "name": "x", "size": True, "sha256": b"\0" * 32, "chunk": 65536},
    ],
)
def test_malformed_offers(bad: object) -> None:
    with pytest.raises(TransferFailed) as err:
        FileOffer.from_wire(bad)
    assert err.value.reason == "bad_offer"


def test_size_limit_and_quota() -> None:
    offer = FileOffer("ab" * 16, "x", 101, b"\0" * 32, 4096)
    with pytest.raises(TransferFailed, match="too_large"):
        offer.check_size(100)
    quota = Quota(max_offers=2, max_bytes=1000)
    quota.admit(500, [400])
    with pytest.raises(TransferFailed, match="quota"):
        quota.admit(1, [1, 1])
    with pytest.raises(TransferFailed, match="quota"):
        quota.admit(601, [400])
