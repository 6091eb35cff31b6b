"""In-memory indexes over all messages: history pages, unread counts, search.

The whole message set lives in memory (100 000 short messages are a few tens of MB), so
every query is a dictionary lookup, a bisect on a sorted key list, or a linear scan over
pre-casefolded texts — no disk access on the query path.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, replace

from ohtchat.store.errors import RecordNotFound
from ohtchat.store.records import Message, MessageState

Key = tuple[float, str]


@dataclass(frozen=True)
class ConversationInfo:
    """One conversation in the list: its newest message and how many are unread."""

    conversation: str
    last: Message
    unread: int
    count: int


class MessageIndex:
    """Messages by id, per-conversation and global lists sorted by time, unread sets."""

    def __init__(self) -> None:
        self.by_id: dict[str, Message] = {}
        self._conv: dict[str, list[Key]] = {}
        self._all: list[Key] = []
        self._folded: dict[str, str] = {}
        self._unread: dict[str, set[str]] = {}

    def bulk_load(self, messages: Iterable[Message]) -> None:
        """Add many new messages at once (sorts each list once instead of per insert).

        Ids already present (or repeated) are ignored: use :meth:`put` to replace.
        """
        by_id, folded, conv, unread = self.by_id, self._folded, self._conv, self._unread
        for msg in messages:
            msg_id = msg.msg_id
            if msg_id in by_id:
                continue
            by_id[msg_id] = msg
            folded[msg_id] = msg.text.casefold()
            key = (msg.timestamp, msg_id)
            keys = conv.get(msg.conversation)
            if keys is None:
                conv[msg.conversation] = keys = []
            keys.append(key)
            if msg.state is MessageState.RECEIVED and not msg.read:
                unread.setdefault(msg.conversation, set()).add(msg_id)
        self._all = sorted(k for keys in conv.values() for k in keys)
        for keys in conv.values():
            keys.sort()

    def put(self, msg: Message) -> Message | None:
        """Insert or replace a message; returns the one it replaced, if any."""
        old = self.by_id.get(msg.msg_id)
        if old is not None:
            self._remove(old)
        self._add(msg)
        return old

    def _add(self, msg: Message) -> None:
        key = msg.sort_key
        self.by_id[msg.msg_id] = msg
        self._folded[msg.msg_id] = msg.text.casefold()
        conv = self._conv.setdefault(msg.conversation, [])
        # Almost always an append at the end: insort's memmove is then empty.
        bisect.insort(conv, key)
        bisect.insort(self._all, key)
        if msg.unread:
            self._unread.setdefault(msg.conversation, set()).add(msg.msg_id)

    def remove(self, msg_id: str) -> bool:
        """Forget a message; False if there is none with this id."""
        msg = self.by_id.get(msg_id)
        if msg is None:
            return False
        self._remove(msg)
        return True

    def _remove(self, msg: Message) -> None:
        key = msg.sort_key
        conv = self._conv[msg.conversation]
        del conv[bisect.bisect_left(conv, key)]
        if not conv:
            del self._conv[msg.conversation]
        del self._all[bisect.bisect_left(self._all, key)]
        self._unread.get(msg.conversation, set()).discard(msg.msg_id)
        del self.by_id[msg.msg_id]
        del self._folded[msg.msg_id]

    def get(self, msg_id: str) -> Message:
        """The message with this id, or :class:`RecordNotFound`."""
        try:
            return self.by_id[msg_id]
        except KeyError:
            raise RecordNotFound("message", msg_id) from None

    def set_state(self, msg_id: str, state: MessageState) -> Message:
        """Replace a message's state; returns the new message."""
        new = replace(self.get(msg_id), state=state)
        self.put(new)
        return new

    def unread_ids(self, conversation: str) -> list[str]:
        """Ids of the unread messages of a conversation."""
        return sorted(self._unread.get(conversation, ()))

    def mark_read(self, conversation: str) -> list[str]:
        """Mark every unread message of a conversation read; returns their ids."""
        ids = self.unread_ids(conversation)
        for msg_id in ids:
            # The sort key does not change: update in place without touching the lists.
            self.by_id[msg_id] = replace(self.by_id[msg_id], read=True)
        self._unread.pop(conversation, None)
        return ids

    def unread_counts(self) -> dict[str, int]:
        """Conversation → number of unread messages (conversations with none are left out)."""
        return {conv: len(ids) for conv, ids in self._unread.items() if ids}

    def history(self, conversation: str, limit: int, before: str | None) -> list[Message]:
        """Up to ``limit`` messages, newest first, older than message ``before`` if given."""
        keys = self._conv.get(conversation, [])
        end = len(keys)
        if before is not None:
            anchor = self.get(before)
            if anchor.conversation != conversation:
                raise RecordNotFound(f"message in {conversation!r}", before)
            end = bisect.bisect_left(keys, anchor.sort_key)
        start = max(0, end - limit)
        return [self.by_id[k[1]] for k in reversed(keys[start:end])]

    def page_all(self, limit: int, before: str | None) -> list[Message]:
        """Up to ``limit`` messages of every conversation, newest first, older than message
        ``before`` if given (a cursor over the whole history)."""
        keys = self._all
        end = len(keys) if before is None else bisect.bisect_left(keys, self.get(before).sort_key)
        return [self.by_id[k[1]] for k in reversed(keys[max(0, end - limit) : end])]

    def oldest_beyond(self, conversation: str, keep: int) -> list[str]:
        """Ids of a conversation's messages older than its newest ``keep``, oldest first."""
        keys = self._conv.get(conversation, [])
        return [k[1] for k in keys[: max(0, len(keys) - max(0, keep))]]

    def conversations(self) -> list[ConversationInfo]:
        """Every conversation, most recently active first."""
        infos = [
            ConversationInfo(
                conv, self.by_id[keys[-1][1]], len(self._unread.get(conv, ())), len(keys)
            )
            for conv, keys in self._conv.items()
        ]
        infos.sort(key=lambda i: i.last.sort_key, reverse=True)
        return infos

    def search(
        self,
        text: str | None,
        sender: str | None,
        conversation: str | None,
        since: float | None,
        until: float | None,
        limit: int,
    ) -> list[Message]:
        """Messages matching every given filter, newest first (see ``Store.search``)."""
        keys = self._all if conversation is None else self._conv.get(conversation, [])
        lo = 0 if since is None else bisect.bisect_left(keys, (since, ""))
        hi = len(keys) if until is None else bisect.bisect_left(keys, (until, ""))
        terms = sorted(text.casefold().split(), key=len, reverse=True) if text else []
        if terms and (hi - lo) * 4 > len(keys):
            return self._search_text(terms, sender, conversation, since, until, limit)
        by_id, folded = self.by_id, self._folded
        out: list[Message] = []
        for i in range(hi - 1, lo - 1, -1):
            msg_id = keys[i][1]
            if terms:
                body = folded[msg_id]
                if not all(t in body for t in terms):
                    continue
            msg = by_id[msg_id]
            if sender is not None and msg.sender != sender:
                continue
            out.append(msg)
            if len(out) >= limit:
                break
        return out

    def _search_text(
        self,
        terms: list[str],
        sender: str | None,
        conversation: str | None,
        since: float | None,
        until: float | None,
        limit: int,
    ) -> list[Message]:
        # One tight comprehension over all texts (the substring test runs in C) for the
        # longest, most selective word; the other filters run on the few candidates.
        first, rest = terms[0], terms[1:]
        hits = [i for i, body in self._folded.items() if first in body]
        out = []
        for msg_id in hits:
            msg = self.by_id[msg_id]
            if rest and not all(t in self._folded[msg_id] for t in rest):
                continue
            if sender is not None and msg.sender != sender:
                continue
            if conversation is not None and msg.conversation != conversation:
                continue
            if (since is not None and msg.timestamp < since) or (
                until is not None and msg.timestamp >= until
            ):
                continue
            out.append(msg)
        out.sort(key=lambda m: (m.timestamp, m.msg_id), reverse=True)
        return out[:limit]

    def __len__(self) -> int:
        return len(self.by_id)
