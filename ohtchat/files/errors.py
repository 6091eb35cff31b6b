"""Why a file transfer failed: one exception with a short machine-readable reason."""

from __future__ import annotations

#: Reasons a transfer fails with (``TransferFailed.reason``); docs/protocol.md §19.
REASONS = (
    "bad_offer",  # the offer is malformed
    "too_large",  # the offered size is over the receiver's limit
    "quota",  # the sender has too many offers or bytes pending with us
    "out_of_order",  # a chunk for another offset than the next expected one
    "past_end",  # a chunk that reaches past the offered size (a size lie or an extra chunk)
    "short_chunk",  # a chunk shorter than asked while the file is not complete (a size lie)
    "hash_mismatch",  # the whole file does not hash to the offered SHA-256
    "disk_full",  # no space left on the receiver's disk
    "io",  # another local file-system error
    "changed",  # the sender's file changed since it was offered
    "unknown",  # the peer does not know the transfer
    "bad_reply",  # the sender's reply to a chunk request is malformed
    "cancelled",  # one side cancelled
)


class TransferFailed(Exception):
    """A transfer cannot go on; ``reason`` is one of :data:`REASONS`."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
