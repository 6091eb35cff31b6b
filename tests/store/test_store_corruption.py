"""Damaged files: typed errors naming the file, nothing overwritten; torn tails repaired."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ohtchat.store import CorruptedFile, Store


def build(data_dir: Path, samples: type, journal_records: int = 4) -> None:
    """A store with two segments, a meta segment and ``journal_records`` journal records."""
    store = Store.create(data_dir, samples.passphrase, kdf=samples.kdf)
    for i in range(6):
        store.append_message(samples.msg(i, conv=f"c{i % 2}"))
    store.put_contact(samples.contact())
    store.compact()
    for i in range(journal_records):
        store.append_message(samples.msg(100 + i))
    store._backend.close()  # "crash": keep the journal as it is


def file_of(data_dir: Path, prefix: str) -> Path:
    (path,) = [p for p in data_dir.iterdir() if p.name.startswith(prefix)]
    return path


def flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset % len(data)] ^= 0x5A
    path.write_bytes(bytes(data))


def assert_refused(data_dir: Path, samples: type, victim: Path) -> None:
    before = samples.snapshot(data_dir)
    with pytest.raises(CorruptedFile) as err:
        Store.open(data_dir, samples.passphrase)
    assert err.value.path == victim and victim.name in str(err.value)
    assert samples.snapshot(data_dir) == before  # nothing overwritten, nothing deleted


@pytest.mark.parametrize("offset", [0, 9, 12, 20, 40, 60, 90, -40, -1])
def test_damaged_header(data_dir, samples, offset) -> None:
    build(data_dir, samples)
    flip(data_dir / "store.hdr", offset)
    assert_refused(data_dir, samples, data_dir / "store.hdr")


@pytest.mark.parametrize("prefix", ["seg-00000000", "seg-00000001", "meta-"])
@pytest.mark.parametrize("offset", [0, 8, 20, 50, -17, -1])
def test_damaged_segment(data_dir, samples, prefix, offset) -> None:
    build(data_dir, samples)
    victim = file_of(data_dir, prefix)
    flip(victim, offset)
    assert_refused(data_dir, samples, victim)


def test_truncated_segment_and_missing_file(data_dir, samples) -> None:
    build(data_dir, samples)
    victim = file_of(data_dir, "seg-00000001")
    data = victim.read_bytes()
    victim.write_bytes(data[: len(data) // 2])
    assert_refused(data_dir, samples, victim)
    victim.unlink()
    assert_refused(data_dir, samples, victim)


def journal_record_offsets(path: Path) -> list[int]:
    data, offsets, off = path.read_bytes(), [], 0
    while off < len(data):
        offsets.append(off)
        off += 8 + int.from_bytes(data[off : off + 4], "big")
    return offsets


@pytest.mark.parametrize("record", [0, 1, 2])
@pytest.mark.parametrize("where", [0, 5, 30])
def test_damaged_journal_middle_is_an_error(data_dir, samples, record, where) -> None:
    build(data_dir, samples)
    journal = file_of(data_dir, "journal-")
    flip(journal, journal_record_offsets(journal)[record] + where)
    assert_refused(data_dir, samples, journal)


def test_journal_record_removed_from_middle_is_detected(data_dir, samples) -> None:
    build(data_dir, samples)
    journal = file_of(data_dir, "journal-")
    data, offs = journal.read_bytes(), journal_record_offsets(journal)
    journal.write_bytes(data[: offs[1]] + data[offs[2] :])
    assert_refused(data_dir, samples, journal)


@pytest.mark.parametrize("cut", [1, 4, 8, 20, 60])
def test_torn_journal_tail_is_cut_off(data_dir, samples, cut) -> None:
    build(data_dir, samples)
    journal = file_of(data_dir, "journal-")
    last = journal_record_offsets(journal)[-1]
    os.truncate(journal, last + cut)
    store = Store.open(data_dir, samples.passphrase)
    assert [store.has_message(f"id-{100 + i:06d}") for i in range(4)] == [True] * 3 + [False]
    assert journal.stat().st_size == last  # the torn bytes are gone
    store.append_message(samples.msg(200))  # and appends continue in a well-formed journal
    store._backend.close()
    store = Store.open(data_dir, samples.passphrase)
    assert store.has_message("id-000200") and store.message_count() == 10
    store.close()


@pytest.mark.parametrize("tail", ["zeros", "garbage-last"])
def test_power_loss_tails(data_dir, samples, tail) -> None:
    build(data_dir, samples)
    journal = file_of(data_dir, "journal-")
    if tail == "zeros":
        with journal.open("ab") as f:
            f.write(bytes(4096))
        expected = 4
    else:
        flip(journal, journal_record_offsets(journal)[-1] + 40)
        expected = 3
    store = Store.open(data_dir, samples.passphrase)
    assert sum(store.has_message(f"id-{100 + i:06d}") for i in range(4)) == expected
    store.close()


def test_stray_files_of_a_crashed_compaction_are_removed(data_dir, samples) -> None:
    build(data_dir, samples)
    strays = ["seg-00000009-00000099.tdb", "journal-00000099.log", "store.hdr.tmp"]
    for name in strays:
        (data_dir / name).write_bytes(b"half written")
    (data_dir / "config.toml").write_text("keep = true\n")
    Store.open(data_dir, samples.passphrase).close()
    names = {p.name for p in data_dir.iterdir()}
    assert not names & set(strays) and "config.toml" in names


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(which=st.sampled_from(["store.hdr", "seg-", "meta-", "journal-"]), pos=st.floats(0, 1))
def test_any_flipped_byte_is_detected(tmp_path_factory, samples, which, pos) -> None:
    data_dir = tmp_path_factory.mktemp("flip") / "data"
    build(data_dir, samples, journal_records=3)
    victim = sorted(data_dir.glob(which + "*"))[0]
    size = victim.stat().st_size
    if which == "journal-":
        size = journal_record_offsets(victim)[-1]  # the last record may count as torn
    flip(victim, int(pos * (size - 1)))
    with pytest.raises(CorruptedFile):
        Store.open(data_dir, samples.passphrase)


def test_create_after_a_crashed_create(data_dir, samples) -> None:
    data_dir.mkdir()
    for name in ["journal-00000001.log", "meta-00000001.tdb", "meta-00000001.tdb.tmp"]:
        (data_dir / name).write_bytes(b"left by a crash")
    store = Store.create(data_dir, samples.passphrase, kdf=samples.kdf)
    store.append_message(samples.msg(1))
    store.close()
    store = Store.open(data_dir, samples.passphrase)
    assert store.message_count() == 1
    store.close()


def test_failed_compaction_keeps_the_change_and_retries(data_dir, samples, monkeypatch) -> None:
    store = Store.create(data_dir, samples.passphrase, kdf=samples.kdf, compact_every=3)
    real_commit = store._backend.commit
    calls: list[int] = []

    def full_disk(plan: object) -> None:
        calls.append(1)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store._backend, "commit", full_disk)
    for i in range(5):
        assert store.append_message(samples.msg(i))  # no error: each change is journaled
    assert len(calls) == 1  # not retried on every append while the disk is full
    monkeypatch.setattr(store._backend, "commit", real_commit)
    store.append_message(samples.msg(5))  # the retry point: compaction now succeeds
    assert store._backend.journal_records == 0
    store._backend.close()
    store = Store.open(data_dir, samples.passphrase)
    assert store.message_count() == 6
    store.close()
