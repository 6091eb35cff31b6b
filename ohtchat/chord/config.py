"""Tunables of a Chord node: list length, timeouts, hop limit, maintenance timers."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ChordConfig:
    """Configuration of one node. Defaults suit Tor (seconds-long round trips)."""

    #: Successor list length r. Survives r-1 adjacent failures between stabilizations.
    successors: int = 8
    #: Timeout of every single RPC, seconds.
    rpc_timeout: float = 10.0
    #: Deadline of a whole lookup, seconds.
    lookup_timeout: float = 60.0
    #: Most remote nodes one lookup may query (hops, including failed ones).
    max_hops: int = 48
    #: Most candidates a node offers (and the origin accepts) per lookup step.
    candidates_per_reply: int = 8
    #: Mean period of stabilize / check_predecessor / fix_fingers, seconds.
    stabilize_interval: float = 15.0
    check_predecessor_interval: float = 30.0
    fix_fingers_interval: float = 10.0
    #: Each timer period is drawn uniformly from period·(1 ± jitter).
    jitter: float = 0.25
    #: How long a peer that failed a call is skipped when routing, seconds.
    suspect_for: float = 60.0
    #: Capacity of the cache of known live peers (bootstrap, peer exchange).
    peer_cache_size: int = 64
    #: Ping the owner a lookup found unless it already answered during the lookup.
    verify_owner: bool = True

    def __post_init__(self) -> None:
        if not 1 <= self.successors <= 32:
            raise ValueError("successors must be in [1, 32]")
        if not 1 <= self.max_hops <= 256:
            raise ValueError("max_hops must be in [1, 256]")
        if not 1 <= self.candidates_per_reply <= 32:
            raise ValueError("candidates_per_reply must be in [1, 32]")
        if not 0 <= self.jitter < 1:
            raise ValueError("jitter must be in [0, 1)")
        if self.peer_cache_size < 0:
            raise ValueError("peer_cache_size must be >= 0")
        for name in (
            "rpc_timeout",
            "lookup_timeout",
            "stabilize_interval",
            "check_predecessor_interval",
            "fix_fingers_interval",
            "suspect_for",
        ):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive")
