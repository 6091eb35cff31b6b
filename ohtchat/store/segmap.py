"""Which TinyDB segment each message lives in, and which segments changed.

A conversation's messages fill numbered segments of at most ``SEG_MAX`` messages; a
compaction rewrites only the segments that changed (normally each active conversation's
newest one), so its cost is bounded by ``SEG_MAX`` per conversation, not by history.
"""

from __future__ import annotations

SEG_MAX = 500


class SegmentMap:
    """msg id → segment number, segment → members, conversation → open segment."""

    def __init__(self) -> None:
        self._of: dict[str, int] = {}
        self._members: dict[int, list[str]] = {}
        self._conv: dict[int, str] = {}
        self._open: dict[str, int] = {}
        self.dirty: set[int] = set()
        #: Segments emptied by deletions since the last compaction (their files go then).
        self.dropped: set[int] = set()
        self.next_seg = 0

    def load(self, n: int, conversation: str, ids: list[str]) -> None:
        """Register a segment read from disk."""
        self._members[n] = list(ids)
        self._conv[n] = conversation
        for msg_id in ids:
            self._of[msg_id] = n
        if n >= self._open.get(conversation, -1):
            self._open[conversation] = n
        self.next_seg = max(self.next_seg, n + 1)

    def place(self, msg_id: str, conversation: str) -> None:
        """Assign a new message a segment (or mark its existing one changed)."""
        n = self._of.get(msg_id)
        if n is None:
            n = self._open.get(conversation, -1)
            if n < 0 or len(self._members[n]) >= SEG_MAX:
                n = self.next_seg
                self.next_seg += 1
                self._members[n] = []
                self._conv[n] = conversation
                self._open[conversation] = n
            self._members[n].append(msg_id)
            self._of[msg_id] = n
        self.dirty.add(n)

    def remove(self, msg_id: str) -> None:
        """Take a deleted message out of its segment; an emptied segment is dropped."""
        n = self._of.pop(msg_id, None)
        if n is None:
            return
        members = self._members[n]
        members.remove(msg_id)
        if members:
            self.dirty.add(n)
            return
        conversation = self._conv.pop(n)
        del self._members[n]
        if self._open.get(conversation) == n:
            del self._open[conversation]
        self.dirty.discard(n)
        self.dropped.add(n)

    def touch(self, msg_id: str) -> None:
        """Mark the segment holding ``msg_id`` changed."""
        self.dirty.add(self._of[msg_id])

    def members(self, n: int) -> list[str]:
        """Message ids in segment ``n``."""
        return self._members[n]

    def conversation(self, n: int) -> str:
        """The conversation segment ``n`` belongs to."""
        return self._conv[n]

    def all_segments(self) -> set[int]:
        """Every segment number."""
        return set(self._members)

    def clean(self) -> None:
        """Forget the changed and dropped sets (after a successful compaction)."""
        self.dirty = set()
        self.dropped = set()
