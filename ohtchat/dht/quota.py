"""Mailbox quotas at a holder: two pools per mailbox, shares per signer, fair-share eviction.

Sans-IO bookkeeping for :class:`~ohtchat.dht.holder.Holdings`. Each mailbox has

* a **ticketed pool** (most of the mailbox) for deposits carrying a valid ticket of the owner
  (its contacts), with a per-ticket share, and
* an **open pool** (small) for unticketed deposits signed by any key (strangers' contact
  requests and first whispers), with a per-key share.

A deposit over its signer's share is refused (``quota``: the sender learns its own share is
used up). When the pool is full, the deposit evicts the oldest item (smallest expiry) of the
signer holding the most items in that pool, provided that signer holds more than the depositor
(so a signer is only ever cut back towards the depositor's count, never below it); if no other
signer holds more, the deposit is refused. Fresh identities therefore cannot push contacts'
items out (they never reach the ticketed pool), and a flood in the open pool only displaces
itself and other strangers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from ohtchat.dht.config import DhtConfig
from ohtchat.dht.errors import QuotaExceeded
from ohtchat.dht.mailbox import MailboxItem


@dataclass
class Pool:
    """What one pool of one mailbox holds: totals and the share of each signer."""

    items: int = 0
    size: int = 0
    count: Counter[bytes] = field(default_factory=Counter)
    bytes: Counter[bytes] = field(default_factory=Counter)


class MailboxQuotas:
    """The pools of every mailbox a holder keeps items of."""

    def __init__(self, config: DhtConfig) -> None:
        self.config = config
        self.pools: dict[tuple[bytes, bool], Pool] = {}

    def limits(self, ticketed: bool) -> tuple[int, int, int, int]:
        """``(pool items, pool bytes, share items, share bytes)`` of a pool."""
        c = self.config
        if ticketed:
            items = c.mailbox_max_items - c.mailbox_open_items
            size = c.mailbox_max_bytes - c.mailbox_open_bytes
            share = c.mailbox_ticket_items, c.mailbox_ticket_bytes
        else:
            items, size = c.mailbox_open_items, c.mailbox_open_bytes
            share = c.mailbox_key_items, c.mailbox_key_bytes
        return items, size, min(share[0], items), min(share[1], size)

    def add(self, item: MailboxItem) -> None:
        """Count a stored item."""
        pool = self.pools.setdefault((item.mailbox, item.ticketed), Pool())
        pool.items += 1
        pool.size += item.size
        pool.count[item.signer] += 1
        pool.bytes[item.signer] += item.size

    def remove(self, item: MailboxItem) -> None:
        """Stop counting an item that was dropped."""
        key = (item.mailbox, item.ticketed)
        pool = self.pools.get(key)
        if pool is None:
            return
        pool.items -= 1
        pool.size -= item.size
        pool.count[item.signer] -= 1
        pool.bytes[item.signer] -= item.size
        if pool.count[item.signer] <= 0:
            del pool.count[item.signer], pool.bytes[item.signer]
        if pool.items <= 0:
            del self.pools[key]

    def make_room(self, item: MailboxItem, box: Mapping[bytes, MailboxItem]) -> list[MailboxItem]:
        """The held items of ``box`` (the mailbox's items) to evict so that ``item`` fits;
        :class:`QuotaExceeded` when the signer's share is used up or the pool is full of
        signers holding no more than it."""
        pool_items, pool_bytes, share_items, share_bytes = self.limits(item.ticketed)
        pool = self.pools.get((item.mailbox, item.ticketed), Pool())
        me = item.signer
        if pool.count[me] + 1 > share_items or pool.bytes[me] + item.size > share_bytes:
            raise QuotaExceeded("this sender's share of the mailbox is used up")
        count, size = Counter(pool.count), Counter(pool.bytes)
        items, total = pool.items, pool.size
        evict: list[MailboxItem] = []
        gone: set[bytes] = set()
        while items + 1 > pool_items or total + item.size > pool_bytes:
            heavy = max(
                (s for s in count if s != me and count[s] > 0),
                key=lambda s: (count[s], size[s], s),
                default=None,
            )
            if heavy is None or count[heavy] <= count[me]:
                raise QuotaExceeded("the mailbox is full")
            victim = min(
                (
                    it
                    for it in box.values()
                    if it.signer == heavy
                    and it.ticketed == item.ticketed
                    and it.item_id not in gone
                ),
                key=lambda it: (it.expires, it.item_id),
            )
            evict.append(victim)
            gone.add(victim.item_id)
            count[heavy] -= 1
            size[heavy] -= victim.size
            items -= 1
            total -= victim.size
        return evict
