"""Round trips of every record kind, and the message queries (history, unread, search)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from ohtchat.store import (
    InvalidRecord,
    Message,
    MessageState,
    RecordNotFound,
    Store,
    StoreClosed,
    StoreExists,
    StoreNotFound,
)


def reopen(store: Store, data_dir: Path, samples: type) -> Store:
    store.close()
    return Store.open(data_dir, samples.passphrase)


@pytest.mark.parametrize("compact", [False, True], ids=["journal", "segments"])
def test_every_record_kind_round_trips(new_store, data_dir, samples, compact) -> None:
    # compact=False: everything is still in the journal when reopened (simulate a crash
    # by not calling close); compact=True: everything went through close() into segments.
    store = new_store()
    messages = [samples.msg(i, conv=f"c{i % 2}") for i in range(5)]
    for m in messages:
        assert store.append_message(m)
    store.put_account(samples.account())
    store.put_contact(samples.contact())
    store.put_channel(samples.channel())
    store.put_replica(b"\x00key", b"\xffrecord")
    store.set_setting("lang", "de")
    store.set_setting("blob", b"\x01\x02")
    if compact:
        store.close()
    else:
        store._backend.close()  # drop the lock without compacting
    again = Store.open(data_dir, samples.passphrase)
    assert [again.get_message(m.msg_id) for m in messages] == messages
    assert again.accounts() == [samples.account()]
    assert again.get_contact("a" * 64) == samples.contact()
    assert again.channels() == [samples.channel()]
    assert again.replicas() == {b"\x00key": b"\xffrecord"}
    assert again.settings() == {"lang": "de", "blob": b"\x01\x02"}
    again.close()


def test_updates_and_deletes_persist(new_store, data_dir, samples) -> None:
    store = new_store(compact_every=3)
    store.append_message(samples.msg(1, state=MessageState.SENDING))
    store.update_message_state("id-000001", MessageState.DELIVERED)
    store.put_contact(samples.contact())
    store.put_contact(replace(samples.contact(), name="Renamed"))
    store.put_channel(samples.channel())
    assert store.delete_channel("chan-1")
    assert not store.delete_channel("chan-1")
    store.put_replica(b"k", b"v")
    assert store.delete_replica(b"k")
    store.set_setting("a", 1)
    assert store.delete_setting("a")
    store.put_account(samples.account())
    assert store.delete_account("main")
    store = reopen(store, data_dir, samples)
    assert store.get_message("id-000001").state is MessageState.DELIVERED
    assert store.get_contact("a" * 64).name == "Renamed"
    assert store.channels() == [] and store.accounts() == []
    assert store.replicas() == {} and store.settings() == {}
    with pytest.raises(RecordNotFound):
        store.get_channel("chan-1")
    store.close()


def test_duplicate_message_is_ignored(samples) -> None:
    store = Store.memory()
    assert store.append_message(samples.msg(1))
    assert not store.append_message(replace(samples.msg(1), text="other"))
    assert store.get_message("id-000001").text == "text number 1"


def test_history_pages_newest_first(samples) -> None:
    store = Store.memory(compact_every=7)
    for i in range(25):
        store.append_message(samples.msg(i, conv="a" if i % 5 else "b"))
    page1 = store.history("a", limit=8)
    assert [m.msg_id for m in page1] == [f"id-{i:06d}" for i in (24, 23, 22, 21, 19, 18, 17, 16)]
    page2 = store.history("a", limit=8, before=page1[-1].msg_id)
    assert page2[0].msg_id == "id-000014"
    seen: list[Message] = []
    before = None
    while page := store.history("a", limit=6, before=before):
        seen += page
        before = page[-1].msg_id
    assert len(seen) == 20 and seen == sorted(seen, key=lambda m: m.timestamp, reverse=True)
    assert store.history("nobody") == []
    with pytest.raises(RecordNotFound):
        store.history("b", before="id-000001")  # a message of another conversation


def test_out_of_order_timestamps_sort(samples) -> None:
    store = Store.memory()
    for i, ts in enumerate([50.0, 10.0, 30.0]):
        store.append_message(replace(samples.msg(i), timestamp=ts))
    assert [m.timestamp for m in store.history("conv-a")] == [50.0, 30.0, 10.0]


def test_unread_counts_and_mark_read(new_store, data_dir, samples) -> None:
    store = new_store()
    for i in range(6):
        store.append_message(samples.msg(i, conv="x"))
    store.append_message(samples.msg(10, conv="y", state=MessageState.SENDING))
    store.append_message(samples.msg(11, conv="y"))
    assert store.unread_counts() == {"x": 6, "y": 1}
    assert store.mark_read("x") == 6
    assert store.mark_read("x") == 0
    store = reopen(store, data_dir, samples)
    assert store.unread_counts() == {"y": 1}
    assert all(m.read for m in store.history("x"))
    infos = {i.conversation: i for i in store.conversations()}
    assert infos["y"].unread == 1 and infos["x"].count == 6
    assert [i.conversation for i in store.conversations()] == ["y", "x"]
    store.close()


def test_search_filters(samples) -> None:
    store = Store.memory(compact_every=4)
    texts = ["Hello World", "hello there", "goodbye world", "HELLO again world"]
    for i, text in enumerate(texts):
        store.append_message(replace(samples.msg(i, conv=f"c{i % 2}"), text=text))
    ids = lambda ms: [m.msg_id[-1] for m in ms]  # noqa: E731
    assert ids(store.search("hello")) == ["3", "1", "0"]
    assert ids(store.search("world hello")) == ["3", "0"]
    assert ids(store.search("hello", sender="sender-0")) == ["3", "0"]
    assert ids(store.search(since=1001.0, until=1003.0)) == ["2", "1"]
    assert ids(store.search("world", conversation="c0")) == ["2", "0"]
    assert ids(store.search("world", limit=1)) == ["3"]
    assert store.search("absent") == []
    assert len(store.search()) == 4


def test_bad_records_raise_typed_errors(samples) -> None:
    store = Store.memory()
    with pytest.raises(InvalidRecord):
        store.append_message(replace(samples.msg(1), text=b"bytes"))  # type: ignore[arg-type]
    with pytest.raises(InvalidRecord):
        store.append_message(replace(samples.msg(1), timestamp=float("nan")))
    with pytest.raises(InvalidRecord):
        store.append_message(replace(samples.msg(1), msg_id=""))
    with pytest.raises(InvalidRecord):
        store.put_contact(replace(samples.contact(), added="yesterday"))  # type: ignore[arg-type]
    with pytest.raises(InvalidRecord):
        store.put_channel(replace(samples.channel(), members=(1, 2)))  # type: ignore[arg-type]
    with pytest.raises(InvalidRecord):
        store.put_account(samples.contact())  # type: ignore[arg-type]
    with pytest.raises(InvalidRecord):
        store.put_replica("str", b"x")  # type: ignore[arg-type]
    with pytest.raises(InvalidRecord):
        store.set_setting("k", [1, 2])  # type: ignore[arg-type]
    with pytest.raises(RecordNotFound):
        store.update_message_state("nope", MessageState.DELIVERED)
    assert store.message_count() == 0 and store.contacts() == []


def test_lifecycle_errors(new_store, data_dir, samples) -> None:
    with pytest.raises(StoreNotFound):
        Store.open(data_dir, samples.passphrase)
    store = new_store()
    store.close()
    store.close()  # idempotent
    with pytest.raises(StoreClosed):
        store.append_message(samples.msg(1))
    with pytest.raises(StoreExists):
        Store.create(data_dir, samples.passphrase, kdf=samples.kdf)
    assert Store.exists(data_dir)


def test_memory_store_touches_no_disk(tmp_path, monkeypatch, samples) -> None:
    monkeypatch.chdir(tmp_path)
    store = Store.memory(compact_every=2)
    for i in range(5):
        store.append_message(samples.msg(i))
    store.put_contact(samples.contact())
    store.compact()
    assert store.in_memory and store.message_count() == 5
    assert store._backend.segments  # compaction went to TinyDB MemoryStorage
    store.close()
    assert list(tmp_path.iterdir()) == []


def test_a_contact_document_written_before_verification_reads_as_unverified() -> None:
    from ohtchat.store.records import Contact, contact_from_doc, contact_to_doc

    contact = Contact("ab" * 32, "bob", "accepted", "", 1.0, b"k" * 32, (), "", "1" * 60)
    doc = contact_to_doc(contact)
    assert contact_from_doc(doc) == contact
    del doc["verified"]  # as stored by earlier versions
    assert contact_from_doc(doc).verified == ""
