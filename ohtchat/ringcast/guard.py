"""Bounded memory for exactly-once delivery and per-origin rate limits.

:class:`SeenCache` remembers message ids until their timestamps fall out of the replay
horizon (after which the age check refuses them anyway). When it is full it evicts the
oldest entry and raises a *watermark* to that entry's timestamp: any unseen message
timestamped at or below the watermark is refused, so an evicted id can never be delivered
twice. :class:`RateLimiter` is a token bucket per origin account with LRU eviction.
"""

from __future__ import annotations

from collections import OrderedDict

SeenKey = tuple[bytes, bytes]


class SeenCache:
    """Ids of delivered messages, with expiry and a bounded size."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        #: key -> (origin timestamp in ms, local expiry time)
        self._entries: OrderedDict[SeenKey, tuple[int, float]] = OrderedDict()
        #: Unseen messages timestamped at or below this (ms) are refused.
        self.watermark_ms = -1
        self.evictions = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: SeenKey) -> bool:
        return key in self._entries

    def below_watermark(self, ts_ms: int) -> bool:
        """True when an unseen message with this timestamp might have been evicted."""
        return ts_ms <= self.watermark_ms

    def add(self, key: SeenKey, ts_ms: int, expires: float, now: float) -> None:
        """Remember ``key`` until ``expires`` (local clock)."""
        self.purge(now)
        while len(self._entries) >= self.capacity:
            _, (old_ts, _) = self._entries.popitem(last=False)
            self.watermark_ms = max(self.watermark_ms, old_ts)
            self.evictions += 1
        self._entries[key] = (ts_ms, expires)

    def purge(self, now: float) -> None:
        """Forget expired entries at the old end (arrival order ≈ expiry order)."""
        while self._entries:
            key, (_, expires) = next(iter(self._entries.items()))
            if expires > now:
                break
            del self._entries[key]


class RateLimiter:
    """A token bucket per key: ``burst`` tokens, refilled at ``rate`` per second."""

    def __init__(self, rate: float, burst: int, max_keys: int) -> None:
        self.rate = rate
        self.burst = burst
        self.max_keys = max_keys
        self._buckets: OrderedDict[bytes, tuple[float, float]] = OrderedDict()

    def allow(self, key: bytes, now: float) -> bool:
        """Take one token for ``key`` if there is one."""
        tokens, last = self._buckets.pop(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + max(0.0, now - last) * self.rate)
        ok = tokens >= 1.0
        if ok:
            tokens -= 1.0
        self._buckets[key] = (tokens, now)  # most recently used at the end
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return ok
