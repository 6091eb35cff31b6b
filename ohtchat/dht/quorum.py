"""When a DHT read may stop waiting: the owner-quorum rule over holders' answers (sans-IO).

A read asks the k responsible nodes for a key. Its answer, once every holder has answered, is
the newest record of the *quorum owner*: the owner most valid records name, ties going to the
holder nearest the key (:func:`quorum_owner`). One lying holder can then neither hide a record
behind a forged newer one nor substitute its own owner.

Waiting for all k costs the slowest holder (on Tor a cold dial, 4–29 s, or a dead holder's
timeout). :func:`decide` lets the read stop as soon as a strict majority of the holders agree
on the answer it would give now: the same version of the same owner's record. A strict
majority of owner votes cannot be outvoted by the holders still pending, and a single
malicious holder cannot make a majority on its own: it needs an honest holder to return the
same version. "No record" is never settled early: after churn the nodes that just
became responsible hold nothing until maintenance copies the record to them, so absence is
only believed once every holder has answered. What an early answer can miss is a newer
version held only by a minority of holders (a write that reached fewer than a majority and is
not yet re-replicated); the full wait would have returned it.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Sequence

from ohtchat.dht.record import Record


class Mark(enum.Enum):
    """A holder's answer that is not a record."""

    #: Not answered yet.
    PENDING = "pending"
    #: The call failed: a failed holder agrees with nothing.
    FAILED = "failed"
    #: Answered without a valid, unexpired record (none, forged, expired or malformed).
    EMPTY = "empty"


Answer = Record | Mark


def quorum_owner(records: Sequence[Record]) -> bytes | None:
    """The owner most ``records`` name; on a tie the first of them in order."""
    votes = Counter(r.owner for r in records)
    if not votes:
        return None
    top = max(votes.values())
    return next(r.owner for r in records if votes[r.owner] == top)


def newest(answers: Sequence[Answer]) -> Record | None:
    """The read's answer from ``answers`` (in holder order, nearest the key first): the newest
    record of the quorum owner, ``None`` when no holder returned a valid record."""
    found = [a for a in answers if isinstance(a, Record)]
    owner = quorum_owner(found)
    mine = [r for r in found if r.owner == owner]
    return max(mine, key=lambda r: r.seq) if mine else None


def decide(answers: Sequence[Answer]) -> tuple[bool, Record | None]:
    """``(settled, answer)``: settled when no holder is pending, or when a strict majority of
    all holders returned exactly the record :func:`newest` gives now (same owner, same seq)."""
    rec = newest(answers)
    if Mark.PENDING not in answers:
        return True, rec
    if rec is None:
        return False, None
    agree = sum(isinstance(a, Record) and (a.owner, a.seq) == (rec.owner, rec.seq) for a in answers)
    return agree > len(answers) // 2, rec
