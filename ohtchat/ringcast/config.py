"""Tunables of ringcast: size and age limits, dedup memory, per-origin rate limit, resends."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RingcastConfig:
    """Configuration of one node's ringcast. Every node should use the same limits."""

    #: Largest payload (encoded bytes) accepted or sent.
    max_payload: int = 8192
    #: Messages whose timestamp is older than this many seconds are refused (replay horizon).
    max_age: float = 600.0
    #: Messages timestamped more than this many seconds in the future are refused.
    max_skew: float = 60.0
    #: Most message ids remembered for dedup; when full the oldest is evicted and the
    #: replay horizon rises to its timestamp (so exactly-once holds with bounded memory).
    seen_capacity: int = 65536
    #: Per-origin token bucket: sustained broadcasts per second and burst size.
    rate: float = 0.5
    burst: int = 10
    #: Most origins with a bucket; the least recently used one is forgotten first.
    max_origins: int = 4096
    #: Per-forwarder token bucket (the authenticated peer that handed us the message): new
    #: origin accounts are free, so this is what bounds a flood from one peer.
    caller_rate: float = 2.0
    caller_burst: int = 30
    #: Timeout of one delivery call, seconds (``None``: the Chord node's ``rpc_timeout``).
    send_timeout: float | None = None
    #: Most replacement targets tried for one subtree after its finger failed.
    max_resends: int = 8
    #: Use the successor list as extra fingers (the nearest entries), not only the fingers.
    use_successors: bool = True
    #: Refuse messages that do not carry the origin's node certificate.
    require_certificate: bool = False

    def __post_init__(self) -> None:
        if not 0 < self.max_payload <= 200 * 1024:
            raise ValueError("max_payload must be in (0, 200 KiB] (it must fit one frame)")
        if not (self.max_age > 0 and self.max_skew >= 0):
            raise ValueError("max_age must be positive and max_skew non-negative")
        if self.seen_capacity < 1 or self.max_origins < 1:
            raise ValueError("seen_capacity and max_origins must be >= 1")
        if not (self.rate > 0 and self.burst >= 1):
            raise ValueError("rate must be positive and burst >= 1")
        if not (self.caller_rate > 0 and self.caller_burst >= 1):
            raise ValueError("caller_rate must be positive and caller_burst >= 1")
        if self.send_timeout is not None and not self.send_timeout > 0:
            raise ValueError("send_timeout must be positive")
        if self.max_resends < 0:
            raise ValueError("max_resends must be >= 0")
