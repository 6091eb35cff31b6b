"""Deleting messages: by id and by trimming a conversation to its newest messages, in memory,
through the journal and through compaction (an emptied segment's file goes away)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ohtchat.store import MessageState, RecordNotFound, Store, segmap


def ids(store: Store, conv: str) -> list[str]:
    return [m.msg_id for m in store.history(conv, 1000)]


def test_delete_and_trim_update_every_index(samples: Any) -> None:
    store = Store.memory(compact_every=5)
    for i in range(10):
        store.append_message(samples.msg(i, conv="a" if i % 2 else "b"))
    assert store.unread_counts() == {"a": 5, "b": 5}
    assert store.delete_messages(["id-000001", "id-000001", "nope"]) == 1
    assert not store.has_message("id-000001")
    with pytest.raises(RecordNotFound):
        store.get_message("id-000001")
    assert store.unread_counts() == {"a": 4, "b": 5}
    assert "id-000001" not in [m.msg_id for m in store.search("number")]
    # Keep the newest two of "b": 8 and 6.
    assert store.trim_conversation("b", 2) == 3
    assert ids(store, "b") == ["id-000008", "id-000006"]
    assert store.trim_conversation("b", 2) == 0
    assert store.message_count() == 6
    # A deleted id can be stored again (it is gone, not tombstoned).
    assert store.append_message(samples.msg(1, conv="a"))
    assert store.trim_conversation("a", 0) == 5
    assert [c.conversation for c in store.conversations()] == ["b"]


@pytest.mark.parametrize("compact", [False, True], ids=["journal", "segments"])
def test_deletions_persist(
    new_store: Callable[..., Store],
    data_dir: Path,
    samples: Any,
    compact: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(segmap, "SEG_MAX", 3)  # small segments: trimming empties some
    store = new_store(compact_every=1000)
    for i in range(12):
        store.append_message(samples.msg(i, conv="r", state=MessageState.RECEIVED))
    store.compact()
    files_before = sorted(p.name for p in data_dir.glob("seg-*"))
    assert len(files_before) == 4
    assert store.trim_conversation("r", 4) == 8
    store.update_message_state("id-000011", MessageState.DELIVERED)
    if compact:
        store.close()
        assert len(list(data_dir.glob("seg-*"))) == 2  # two emptied segments were dropped
    else:
        store._backend.close()  # crash: the deletion is only in the journal
    again = Store.open(data_dir, samples.passphrase)
    assert ids(again, "r") == ["id-000011", "id-000010", "id-000009", "id-000008"]
    assert again.get_message("id-000011").state is MessageState.DELIVERED
    for i in range(12, 16):
        again.append_message(samples.msg(i, conv="r"))
    again.close()
    third = Store.open(data_dir, samples.passphrase)
    assert len(ids(third, "r")) == 8 and third.message_count() == 8
    third.close()
