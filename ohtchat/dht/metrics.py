"""Counters of one node's DHT (shown by the console, asserted by tests)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class DhtMetrics:
    """What this node's DHT did: as a holder, as a client and during maintenance."""

    #: Entries (records, items, markers) this node newly stored or replaced as a holder.
    stored: int = 0
    #: Writes of an entry identical to the one held (idempotent re-replication).
    unchanged: int = 0
    #: Refused writes by refusal code (forged, stale, not_owner, too_large, expired, ...).
    refused: Counter[str] = field(default_factory=Counter)
    #: Malformed incoming requests (answered with BadRequest).
    bad_requests: int = 0
    #: Replies from peers that were malformed, forged or for another key (discarded).
    bad_replies: int = 0
    #: DHT calls to peers that failed or timed out.
    failed_calls: int = 0
    puts: int = 0
    gets: int = 0
    get_hits: int = 0
    deletes: int = 0
    mailbox_puts: int = 0
    mailbox_fetches: int = 0
    mailbox_deletes: int = 0
    #: Mailbox items a holder dropped to make room for a lighter signer's deposit.
    mailbox_evicted: int = 0
    #: Entries pushed to responsible nodes that lacked them (re-replication, hand-off).
    pushed: int = 0
    #: Entries dropped because this node is no longer responsible for them.
    handed_off: int = 0
    #: Own records republished before they expired.
    republished: int = 0
    #: Expired entries dropped.
    purged: int = 0
    maintenance_runs: int = 0
