"""Typed errors raised by the DHT layer."""

from __future__ import annotations


class DhtError(Exception):
    """Base class of every error the DHT layer raises."""


class BadRecord(DhtError):
    """A record, mailbox item or deletion marker is malformed (wrong types or sizes)."""


class NoSigner(DhtError):
    """Writing needs an account key; this node has none."""


class DhtUnavailable(DhtError):
    """No responsible node could be reached (lookup failed or every holder failed)."""


class RecordRefused(DhtError):
    """A holder refused a well-formed record; ``code`` names the reason on the wire."""

    code = "refused"

    def __init__(self, message: str = "") -> None:
        super().__init__(message or self.code)


class ForgedRecord(RecordRefused):
    """The signature does not verify under the record's owner key."""

    code = "forged"


class StaleRecord(RecordRefused):
    """The holder has a record with the same or a higher sequence number (replay)."""

    code = "stale"


class NotOwner(RecordRefused):
    """The key is held by another owner's unexpired record (first come, first served)."""

    code = "not_owner"


class RecordTooLarge(RecordRefused):
    """The value or item exceeds the configured size limit."""

    code = "too_large"


class ExpiredRecord(RecordRefused):
    """The record or item has already expired."""

    code = "expired"


class FutureRecord(RecordRefused):
    """The expiry lies beyond the longest allowed lifetime (plus clock skew)."""

    code = "future"


class QuotaExceeded(RecordRefused):
    """Storing it would exceed a per-node, per-owner or per-mailbox limit."""

    code = "quota"


#: Refusal codes on the wire and the error class each stands for.
REFUSALS: dict[str, type[RecordRefused]] = {
    c.code: c
    for c in (
        ForgedRecord,
        StaleRecord,
        NotOwner,
        RecordTooLarge,
        ExpiredRecord,
        FutureRecord,
        QuotaExceeded,
    )
}
