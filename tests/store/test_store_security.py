"""Encryption at rest, wrong passphrase, passphrase change, and the data-dir lock."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from ohtchat.store import Store, StoreLocked, WrongPassphrase


def all_bytes(directory: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file())


def secrets(samples: type) -> tuple[object, object, object, list[bytes]]:
    acc = replace(samples.account(), account_seed=os.urandom(32), kem_secret=os.urandom(2400))
    con = samples.contact()
    m = replace(samples.msg(1), text="the eagle lands at midnight")
    needles = [
        m.text.encode(),
        m.text.encode("utf-16-le"),
        con.name.encode(),
        acc.account_seed,
        acc.account_seed.hex().encode(),
        acc.kem_secret[:64],
        acc.node_seed,
        samples.channel().name.encode(),
    ]
    return acc, con, m, needles


@pytest.mark.parametrize("close", [False, True], ids=["journal", "segments"])
def test_no_plaintext_in_any_file(new_store, data_dir, samples, close) -> None:
    acc, con, m, needles = secrets(samples)
    store = new_store()
    store.put_account(acc)
    store.put_contact(con)
    store.put_channel(samples.channel())
    store.append_message(m)
    if close:
        store.close()
    blob = all_bytes(data_dir)
    assert len(blob) > 2000  # the data really is in there, just not readable
    for needle in needles:
        assert needle not in blob
    if not close:
        store.close()


def test_wrong_passphrase_changes_nothing(new_store, data_dir, samples) -> None:
    store = new_store(compact_every=3)
    for i in range(5):
        store.append_message(samples.msg(i))
    store._backend.close()  # leave a non-empty journal, as after a crash
    before = samples.snapshot(data_dir)
    with pytest.raises(WrongPassphrase) as err:
        Store.open(data_dir, "not the passphrase")
    assert "store.hdr" in str(err.value)
    assert samples.snapshot(data_dir) == before
    Store.open(data_dir, samples.passphrase).close()  # the lock was released


def test_change_passphrase_reencrypts(new_store, data_dir, samples) -> None:
    store = new_store()
    for i in range(4):
        store.append_message(samples.msg(i))
    store.put_contact(samples.contact())
    store.close()
    old_files = samples.snapshot(data_dir)
    store = Store.open(data_dir, samples.passphrase)
    with pytest.raises(WrongPassphrase):
        store.change_passphrase("wrong", "new one")
    store.change_passphrase(samples.passphrase, "new one", kdf=samples.kdf)
    new_files = samples.snapshot(data_dir)
    store.append_message(samples.msg(9))
    store.close()
    # Every data file was rewritten (none of the old ciphertexts remain).
    empty = hashlib.sha256(b"").hexdigest()  # the fresh, empty journal
    old_data = {h for name, h in old_files.items() if name != "store.lock"} - {empty}
    new_data = {h for name, h in new_files.items() if name != "store.lock"} - {empty}
    assert old_data and not old_data & new_data
    with pytest.raises(WrongPassphrase):
        Store.open(data_dir, samples.passphrase)
    store = Store.open(data_dir, "new one")
    assert store.message_count() == 5 and store.contacts() == [samples.contact()]
    store.close()


def test_change_passphrase_crash_before_commit_keeps_old(new_store, data_dir, samples, monkeypatch):
    import ohtchat.store.backend as backend

    store = new_store()
    store.append_message(samples.msg(1))
    store.compact()
    store.append_message(samples.msg(2))

    def crash(*args: object, **kw: object) -> None:
        raise OSError("simulated crash before the header is replaced")

    monkeypatch.setattr(backend, "atomic_write", crash)
    with pytest.raises(OSError, match="simulated"):
        store.change_passphrase(samples.passphrase, "new", kdf=samples.kdf)
    monkeypatch.undo()
    store._backend.close()
    store = Store.open(data_dir, samples.passphrase)
    assert store.has_message("id-000001") and store.has_message("id-000002")
    store.close()


def test_second_open_in_same_process_is_refused(new_store, data_dir, samples) -> None:
    store = new_store()
    with pytest.raises(StoreLocked, match="in use by another ohtchat process"):
        Store.open(data_dir, samples.passphrase)
    store.close()
    Store.open(data_dir, samples.passphrase).close()


def test_second_process_is_refused(new_store, data_dir, samples) -> None:
    store = new_store()
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from ohtchat.store import Store, StoreLocked\n"
        "try:\n"
        "    Store.open(Path(sys.argv[1]), sys.argv[2])\n"
        "except StoreLocked as exc:\n"
        "    print('LOCKED', exc)\n"
        "else:\n"
        "    print('OPENED')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(data_dir), samples.passphrase],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert out.startswith("LOCKED") and f"pid {os.getpid()}" in out
    store.close()


def test_a_new_data_dir_is_private(tmp_path: Path) -> None:
    from ohtchat.app.options import NodeOptions, open_store
    from ohtchat.store import KdfParams

    data = tmp_path / "fresh" / "node"
    fast = KdfParams.minimum()
    store = open_store(NodeOptions(data_dir=data, create_if_missing=True, kdf=fast), "pw-123456")
    try:
        assert data.stat().st_mode & 0o777 == 0o700
    finally:
        store.close()
