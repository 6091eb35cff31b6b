"""The :class:`Store`: the one object the chat service, the TUI and ``serve`` talk to.

State lives in memory; every change is first written as one sealed journal record
(fdatasync'ed: when a method returns, the change survives ``kill -9`` and power loss),
then applied. Every ``compact_every`` records the journal is folded into TinyDB
segments (see :mod:`ohtchat.store.backend`), so an append costs the same at 100 or
100 000 messages. The API is synchronous: each call is a small local write, cheap
enough to call directly from asyncio code. A store is not thread-safe.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, TypeVar

import msgpack

from ohtchat.store.backend import (
    Backend,
    DiskBackend,
    MemoryBackend,
)
from ohtchat.store.errors import (
    InvalidRecord,
    RecordNotFound,
    StoreClosed,
    StoreError,
    WrongPassphrase,
)
from ohtchat.store.header import HEADER_NAME
from ohtchat.store.index import ConversationInfo
from ohtchat.store.records import (
    Channel,
    Contact,
    Message,
    MessageState,
    SettingValue,
    StoredAccount,
    check_message,
    message_to_doc,
)
from ohtchat.store.sealing import KdfParams
from ohtchat.store.state import StoreState
from ohtchat.store.tables import ACCOUNTS, CHANNELS, CONTACTS, TableSpec

R = TypeVar("R")
_log = logging.getLogger(__name__)
DEFAULT_COMPACT_EVERY = 2000
_SETTING_TYPES = (str, int, float, bool, bytes, type(None))


class Store(StoreState):
    """Encrypted, crash-safe storage of accounts, contacts, channels, messages and replicas."""

    def __init__(self, backend: Backend, data_dir: Path | None, compact_every: int) -> None:
        self._backend: Backend | None = backend
        self.data_dir = data_dir
        self._compact_every = max(1, compact_every)
        self._next_compact = self._compact_every
        self._init_state()

    # ----------------------------------------------------------------- lifecycle

    @classmethod
    def create(
        cls,
        data_dir: Path,
        passphrase: str,
        *,
        kdf: KdfParams | None = None,
        compact_every: int = DEFAULT_COMPACT_EVERY,
    ) -> Store:
        """Create an empty store in ``data_dir``; raises ``StoreExists`` if there is one."""
        backend = DiskBackend.create(Path(data_dir), passphrase, kdf or KdfParams.default())
        return cls(backend, Path(data_dir), compact_every)

    @classmethod
    def open(
        cls, data_dir: Path, passphrase: str, *, compact_every: int = DEFAULT_COMPACT_EVERY
    ) -> Store:
        """Open an existing store (KDF parameters come from its header).

        Raises ``StoreNotFound``, ``WrongPassphrase``, ``CorruptedFile`` (naming the file)
        or ``StoreLocked``; on any of these no store file has been changed.
        """
        backend, loaded = DiskBackend.open(Path(data_dir), passphrase)
        store = cls(backend, Path(data_dir), compact_every)
        try:
            store._load(loaded)
        except BaseException:
            backend.close()
            raise
        return store

    @classmethod
    def memory(cls, *, compact_every: int = DEFAULT_COMPACT_EVERY) -> Store:
        """A store on TinyDB's MemoryStorage: nothing touches the disk, all is lost on exit."""
        return cls(MemoryBackend(), None, compact_every)

    @staticmethod
    def exists(data_dir: Path) -> bool:
        """Whether ``data_dir`` holds a store (to choose between ``open`` and ``create``)."""
        return (Path(data_dir) / HEADER_NAME).is_file()

    @property
    def in_memory(self) -> bool:
        """True for a ``Store.memory()`` store."""
        return self.data_dir is None

    def close(self) -> None:
        """Fold the journal into segments (so the next open is fast) and release the lock.

        Idempotent. If the final compaction fails the journal still holds everything.
        """
        if self._backend is None:
            return
        try:
            if self._backend.journal_records and not self.in_memory:
                self.compact()
        finally:
            self._backend.close()
            self._backend = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def compact(self) -> None:
        """Write every change since the last compaction into segments; empty the journal."""
        backend = self._live()
        backend.commit(self._plan(full=False))
        self._segs.clean()
        self._meta_dirty = False
        self._next_compact = self._compact_every

    def change_passphrase(self, old: str, new: str, *, kdf: KdfParams | None = None) -> None:
        """Re-encrypt every file under a key derived from ``new`` (fresh salt).

        Raises ``WrongPassphrase`` if ``old`` is not the current passphrase. A crash
        midway leaves the store readable with the old passphrase.
        """
        backend = self._live()
        if not isinstance(backend, DiskBackend):
            raise StoreError("a memory store has no passphrase")
        if not backend.verify_passphrase(old):
            raise WrongPassphrase(backend.data_dir)
        backend.rekey(new, kdf or backend.kdf, self._plan(full=True))
        self._segs.clean()
        self._meta_dirty = False

    # ------------------------------------------------------------------ messages

    def append_message(self, msg: Message) -> bool:
        """Store a new message; durable when this returns.

        Returns False (and writes nothing) if a message with this id is already stored,
        so delivering the same message twice is harmless.
        """
        check_message(msg)
        if msg.msg_id in self._index.by_id:
            return False
        self._write("m", message_to_doc(msg))
        return True

    def update_message_state(self, msg_id: str, state: MessageState) -> Message:
        """Set a message's delivery state; returns the updated message."""
        current = self._index.get(msg_id)
        if not isinstance(state, MessageState):
            raise InvalidRecord("state must be a MessageState")
        if current.state is not state:
            self._write("st", msg_id, state.value)
        return self._index.get(msg_id)

    def delete_messages(self, msg_ids: list[str]) -> int:
        """Delete messages by id (unknown ids are skipped); returns how many were deleted."""
        present = [i for i in dict.fromkeys(msg_ids) if i in self._index.by_id]
        if present:
            self._write("mx", present)
        return len(present)

    def trim_conversation(self, conversation: str, keep: int) -> int:
        """Delete the oldest messages of ``conversation`` beyond the newest ``keep``; returns
        how many were deleted (a bounded history for conversations anyone can write to)."""
        return self.delete_messages(self._index.oldest_beyond(conversation, keep))

    def get_message(self, msg_id: str) -> Message:
        """The message with this id (``RecordNotFound`` if none)."""
        self._live()
        return self._index.get(msg_id)

    def has_message(self, msg_id: str) -> bool:
        """Whether a message with this id is stored."""
        return msg_id in self._index.by_id

    def message_count(self) -> int:
        """Number of stored messages."""
        return len(self._index)

    def history(
        self, conversation: str, limit: int = 50, before: str | None = None
    ) -> list[Message]:
        """A page of a conversation, newest first.

        ``before`` is a message id (normally the last, oldest, message of the previous
        page): only messages older than it are returned.
        """
        self._live()
        return self._index.history(conversation, max(0, limit), before)

    def all_history(self, limit: int = 50, before: str | None = None) -> list[Message]:
        """A page of every conversation at once, newest first; ``before`` as in :meth:`history`
        (``RecordNotFound`` if no message has that id)."""
        self._live()
        return self._index.page_all(max(0, limit), before)

    def conversations(self) -> list[ConversationInfo]:
        """All conversations with their newest message and unread count, newest first."""
        return self._index.conversations()

    def unread_counts(self) -> dict[str, int]:
        """Conversation → number of unread received messages (zeros left out)."""
        return self._index.unread_counts()

    def mark_read(self, conversation: str) -> int:
        """Mark every received message of ``conversation`` read; returns how many."""
        count = len(self._index.unread_ids(conversation))
        if count:
            self._write("rd", conversation)
        return count

    def search(
        self,
        text: str | None = None,
        *,
        sender: str | None = None,
        conversation: str | None = None,
        since: float | None = None,
        until: float | None = None,
        limit: int = 100,
    ) -> list[Message]:
        """Messages matching all given filters, newest first, at most ``limit``.

        ``text``: every whitespace-separated word must occur in the message
        (case-insensitive substring). ``since <= timestamp < until``.
        """
        self._live()
        return self._index.search(text, sender, conversation, since, until, max(0, limit))

    # ------------------------------------------------ accounts, contacts, channels

    def put_account(self, account: StoredAccount) -> None:
        """Add or replace an account (keyed by name)."""
        self._put(ACCOUNTS, account)

    def get_account(self, name: str) -> StoredAccount:
        """The account called ``name`` (``RecordNotFound`` if none)."""
        return self._get(ACCOUNTS, name)

    def accounts(self) -> list[StoredAccount]:
        """All accounts, by name."""
        return self._all(ACCOUNTS)

    def delete_account(self, name: str) -> bool:
        """Delete an account; returns whether it existed."""
        return self._delete(ACCOUNTS, name)

    def put_contact(self, contact: Contact) -> None:
        """Add or replace a contact (keyed by account id)."""
        self._put(CONTACTS, contact)

    def get_contact(self, account_id: str) -> Contact:
        """The contact with this account id (``RecordNotFound`` if none)."""
        return self._get(CONTACTS, account_id)

    def contacts(self) -> list[Contact]:
        """All contacts, by account id."""
        return self._all(CONTACTS)

    def delete_contact(self, account_id: str) -> bool:
        """Delete a contact (its messages stay); returns whether it existed."""
        return self._delete(CONTACTS, account_id)

    def put_channel(self, channel: Channel) -> None:
        """Add or replace a channel (keyed by channel id)."""
        self._put(CHANNELS, channel)

    def get_channel(self, channel_id: str) -> Channel:
        """The channel with this id (``RecordNotFound`` if none)."""
        return self._get(CHANNELS, channel_id)

    def channels(self) -> list[Channel]:
        """All channels, by id."""
        return self._all(CHANNELS)

    def delete_channel(self, channel_id: str) -> bool:
        """Delete a channel (its messages stay); returns whether it existed."""
        return self._delete(CHANNELS, channel_id)

    # -------------------------------------------------------- replicas, settings

    def put_replica(self, key: bytes, record: bytes) -> None:
        """Store a DHT record this node holds a replica of."""
        if not isinstance(key, bytes) or not isinstance(record, bytes):
            raise InvalidRecord("replica key and record must be bytes")
        if self._replicas.get(key) != record:
            self._write("rp", key, record)

    def get_replica(self, key: bytes) -> bytes | None:
        """The replica stored under ``key``, or None."""
        return self._replicas.get(key)

    def delete_replica(self, key: bytes) -> bool:
        """Forget a replica; returns whether it existed."""
        if key not in self._replicas:
            return False
        self._write("rx", key)
        return True

    def replicas(self) -> dict[bytes, bytes]:
        """A copy of every replica, key → record."""
        return dict(self._replicas)

    def set_setting(self, key: str, value: SettingValue) -> None:
        """Store a (secret or per-user) setting; plain config belongs in config.toml."""
        if not isinstance(key, str) or not isinstance(value, _SETTING_TYPES):
            raise InvalidRecord("setting key must be str and value str/int/float/bool/bytes/None")
        if key not in self._settings or self._settings[key] != value:
            self._write("s", key, value)

    def get_setting(self, key: str, default: SettingValue = None) -> SettingValue:
        """A setting's value, or ``default``."""
        return self._settings.get(key, default)

    def delete_setting(self, key: str) -> bool:
        """Remove a setting; returns whether it existed."""
        if key not in self._settings:
            return False
        self._write("sx", key)
        return True

    def settings(self) -> dict[str, SettingValue]:
        """A copy of every setting."""
        return dict(self._settings)

    # ------------------------------------------------------------------ internals

    def _live(self) -> Backend:
        if self._backend is None:
            raise StoreClosed("the store is closed")
        return self._backend

    def _write(self, *op: Any) -> None:
        """Journal one operation durably, then apply it; compact when the journal is long."""
        backend = self._live()
        backend.append(msgpack.packb(list(op)))
        self._ops[op[0]](*op[1:])
        if backend.journal_records >= self._next_compact:
            try:
                self.compact()
            except OSError as exc:
                # The change itself is durable in the journal, so the caller must not see
                # an error (it would retry a stored change). Try again a full interval later
                # rather than on every append while the disk is full.
                _log.warning("store compaction failed, will retry: %s", exc)
                self._next_compact = backend.journal_records + self._compact_every

    def _put(self, spec: TableSpec[R], record: R) -> None:
        spec.check(record)
        self._write("p", spec.name, spec.to_doc(record))

    def _get(self, spec: TableSpec[R], key: str) -> R:
        try:
            result: R = self._tables[spec.name][key]
        except KeyError:
            raise RecordNotFound(spec.kind.__name__, key) from None
        return result

    def _all(self, spec: TableSpec[R]) -> list[R]:
        table = self._tables[spec.name]
        return [table[k] for k in sorted(table)]

    def _delete(self, spec: TableSpec[R], key: str) -> bool:
        if key not in self._tables[spec.name]:
            return False
        self._write("d", spec.name, key)
        return True
