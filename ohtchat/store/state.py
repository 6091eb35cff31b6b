"""The in-memory state behind a :class:`~ohtchat.store.Store`, and how it changes.

Every change is an *operation* (a short msgpack list). The same handler applies it live
(after the journal write) and during journal replay at open, so the two cannot drift
apart. Loading from segments and building compaction plans live here too.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import msgpack

from ohtchat.store.backend import META_TABLES, CommitPlan, Loaded
from ohtchat.store.errors import CorruptedFile, StoreError
from ohtchat.store.index import MessageIndex
from ohtchat.store.records import (
    Doc,
    Message,
    MessageState,
    SettingValue,
    message_from_doc,
    message_to_doc,
)
from ohtchat.store.segmap import SegmentMap
from ohtchat.store.tables import ACCOUNTS, CHANNELS, CONTACTS, TableSpec

R = TypeVar("R")


class StoreState:
    """Messages, tables, replicas and settings in memory, plus what changed since compaction."""

    def _init_state(self) -> None:
        self._index = MessageIndex()
        self._segs = SegmentMap()
        self._tables: dict[str, dict[str, Any]] = {
            t.name: {} for t in (ACCOUNTS, CONTACTS, CHANNELS)
        }
        self._replicas: dict[bytes, bytes] = {}
        self._settings: dict[str, SettingValue] = {}
        self._meta_dirty = False
        self._ops: dict[str, Callable[..., None]] = {
            "m": self._op_message,
            "st": self._op_state,
            "rd": self._op_read,
            "mx": self._op_message_del,
            "p": self._op_put,
            "d": self._op_delete,
            "rp": self._op_replica,
            "rx": self._op_replica_del,
            "s": self._op_setting,
            "sx": self._op_setting_del,
        }

    # Operation handlers: the same code applies a live change and replays the journal.

    def _op_message(self, doc: Doc) -> None:
        msg = message_from_doc(doc)
        self._index.put(msg)
        self._segs.place(msg.msg_id, msg.conversation)

    def _op_state(self, msg_id: str, state: str) -> None:
        self._index.set_state(msg_id, MessageState(state))
        self._segs.touch(msg_id)

    def _op_read(self, conversation: str) -> None:
        for msg_id in self._index.mark_read(conversation):
            self._segs.touch(msg_id)

    def _op_message_del(self, msg_ids: list[str]) -> None:
        for msg_id in msg_ids:
            if self._index.remove(msg_id):
                self._segs.remove(msg_id)

    def _op_put(self, table: str, doc: Doc) -> None:
        spec = _SPECS[table]
        record = spec.from_doc(doc)
        self._tables[table][spec.key(record)] = record
        self._meta_dirty = True

    def _op_delete(self, table: str, key: str) -> None:
        self._tables[table].pop(key, None)
        self._meta_dirty = True

    def _op_replica(self, key: bytes, record: bytes) -> None:
        self._replicas[key] = record
        self._meta_dirty = True

    def _op_replica_del(self, key: bytes) -> None:
        self._replicas.pop(key, None)
        self._meta_dirty = True

    def _op_setting(self, key: str, value: SettingValue) -> None:
        self._settings[key] = value
        self._meta_dirty = True

    def _op_setting_del(self, key: str) -> None:
        self._settings.pop(key, None)
        self._meta_dirty = True

    # Loading and compaction plans.

    def _load(self, loaded: Loaded) -> None:
        self._load_meta(loaded)
        messages: list[Message] = []
        for n, (conv, docs) in loaded.segments.items():
            where = loaded.files.get(n, Path(f"segment {n}"))
            msgs = _parse(where, docs, message_from_doc)
            self._segs.load(n, conv, [m.msg_id for m in msgs])
            messages.extend(msgs)
        self._index.bulk_load(messages)
        self._segs.next_seg = max(self._segs.next_seg, loaded.next_seg)
        journal = loaded.journal_file or Path("journal")
        for seq, payload in enumerate(loaded.journal):
            try:
                op = msgpack.unpackb(payload)
                self._ops[op[0]](*op[1:])
            except (ValueError, TypeError, KeyError, IndexError, StoreError) as exc:
                raise CorruptedFile(journal, f"record {seq} is malformed: {exc!r}") from exc

    def _load_meta(self, loaded: Loaded) -> None:
        where = loaded.meta_file or Path("meta")
        for spec in _SPECS.values():
            for record in _parse(where, loaded.meta.get(spec.name, []), spec.from_doc):
                self._tables[spec.name][spec.key(record)] = record
        for doc in loaded.meta.get("replicas", []):
            self._replicas[doc["k"]] = doc["v"]
        for doc in loaded.meta.get("settings", []):
            self._settings[doc["k"]] = doc["v"]

    def _plan(self, full: bool) -> CommitPlan:
        dirty = self._segs.all_segments() if full else self._segs.dirty
        segments = {
            n: (self._segs.conversation(n), [message_to_doc(self._index.by_id[i]) for i in ids])
            for n, ids in ((n, self._segs.members(n)) for n in sorted(dirty))
        }
        meta: dict[str, list[Doc]] | None = None
        if full or self._meta_dirty:
            meta = {name: [] for name in META_TABLES}
            for spec in _SPECS.values():
                meta[spec.name] = [spec.to_doc(r) for r in self._tables[spec.name].values()]
            meta["replicas"] = [{"k": k, "v": v} for k, v in self._replicas.items()]
            meta["settings"] = [{"k": k, "v": v} for k, v in self._settings.items()]
        return CommitPlan(segments, set(self._segs.dropped), meta, self._segs.next_seg)


_SPECS: dict[str, TableSpec[Any]] = {s.name: s for s in (ACCOUNTS, CONTACTS, CHANNELS)}


def _parse(where: Path, docs: list[Doc], parse: Callable[[Doc], R]) -> list[R]:
    """Turn documents into records; a malformed document means a corrupted file."""
    try:
        return [parse(d) for d in docs]
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise CorruptedFile(where, f"malformed record: {exc!r}") from exc
