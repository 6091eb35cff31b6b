"""Tunables of the DHT: replication, size limits, lifetimes, quotas, maintenance timers."""

from __future__ import annotations

from dataclasses import dataclass

#: Largest key, bytes (fixed by the protocol).
MAX_KEY = 256
#: Largest mailbox item any node accepts, bytes (fixed by the protocol).
MAX_ITEM = 64 * 1024


@dataclass(frozen=True)
class DhtConfig:
    """Configuration of one node's DHT. Defaults suit Tor (seconds-long round trips)."""

    #: Replication factor k: a record lives on its key's successor and the next k-1 nodes.
    replicas: int = 3
    #: Largest record value, bytes.
    max_value: int = 16 * 1024
    #: Longest record lifetime (TTL), seconds.
    max_ttl: int = 7 * 24 * 3600
    #: Default TTL of a put, seconds.
    default_ttl: int = 24 * 3600
    #: Tolerated clock skew when checking expiries, seconds.
    clock_skew: int = 300
    #: Per-node limits over everything held (records, mailbox items, deletion markers).
    max_bytes: int = 64 * 1024 * 1024
    max_entries: int = 100_000
    #: Per-owner limits on records held.
    owner_max_bytes: int = 1024 * 1024
    owner_max_records: int = 256
    #: Largest mailbox item, bytes (at most :data:`MAX_ITEM`).
    max_item: int = MAX_ITEM
    #: Per-mailbox limits on items held (both pools together).
    mailbox_max_items: int = 256
    mailbox_max_bytes: int = 4 * 1024 * 1024
    #: The part of a mailbox open to unticketed deposits (strangers' requests and first
    #: whispers); the rest is the ticketed pool, which only the owner's contacts can fill.
    mailbox_open_items: int = 32
    mailbox_open_bytes: int = 512 * 1024
    #: What one ticket may hold in the ticketed pool (at most the pool).
    mailbox_ticket_items: int = 64
    mailbox_ticket_bytes: int = 1024 * 1024
    #: What one unticketed deposit key may hold in the open pool (at most the pool).
    mailbox_key_items: int = 4
    mailbox_key_bytes: int = 256 * 1024
    #: Lifetime of mailbox items (and of deletion markers), seconds.
    mailbox_ttl: int = 7 * 24 * 3600
    #: Timeout of one DHT call, seconds.
    rpc_timeout: float = 10.0
    #: Mean period of replica maintenance (re-replication, hand-off, republish, purge), seconds.
    maintain_interval: float = 60.0
    #: How often the predecessor is checked for a change that triggers an early hand-off.
    handoff_poll: float = 5.0
    #: Republish own records when less than this fraction of their TTL is left.
    republish_fraction: float = 0.25
    #: Each timer period is drawn uniformly from period·(1 ± jitter).
    jitter: float = 0.25
    #: Byte budget of one request or reply body (below the 256 KiB frame limit).
    batch_bytes: int = 160 * 1024

    def __post_init__(self) -> None:
        if not 1 <= self.replicas <= 16:
            raise ValueError("replicas must be in [1, 16]")
        if not 0 < self.max_value <= self.batch_bytes // 2:
            raise ValueError("max_value must be positive and at most batch_bytes/2")
        if not 0 < self.max_item <= MAX_ITEM:
            raise ValueError(f"max_item must be in (0, {MAX_ITEM}]")
        if not 0 < self.default_ttl <= self.max_ttl or not self.mailbox_ttl > 0:
            raise ValueError("need 0 < default_ttl <= max_ttl and mailbox_ttl > 0")
        if not 0 < self.republish_fraction < 1 or not 0 <= self.jitter < 1:
            raise ValueError("republish_fraction must be in (0, 1), jitter in [0, 1)")
        for name in ("rpc_timeout", "maintain_interval", "handoff_poll"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive")
        if not (
            0 < self.mailbox_open_items < self.mailbox_max_items
            and 0 < self.mailbox_open_bytes < self.mailbox_max_bytes
        ):
            raise ValueError("the open mailbox pool must be a positive part of the mailbox")
        shares = ("ticket_items", "ticket_bytes", "key_items", "key_bytes")
        if not all(getattr(self, f"mailbox_{n}") > 0 for n in shares):
            raise ValueError("per-ticket and per-key mailbox shares must be positive")
        if self.batch_bytes > 200 * 1024 or self.batch_bytes < MAX_ITEM + 1024:
            raise ValueError("batch_bytes must fit one item and stay below the frame limit")
