"""Tunables of a Chord node: list length, timeouts, hop limit, maintenance timers."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ChordConfig:
    """Configuration of one node. Defaults suit Tor (seconds-long round trips).

    :meth:`classic` gives the maintenance and routing of the 2001/Zave papers (fixed
    stabilize period, one step per round, no preference for open sessions): the baseline
    the benchmarks compare against.
    """

    #: Successor list length r. Survives r-1 adjacent failures between stabilizations.
    successors: int = 8
    #: Timeout of every single RPC, seconds.
    rpc_timeout: float = 10.0
    #: Deadline of a whole lookup, seconds (on Tor most hops after the first dial cold).
    lookup_timeout: float = 120.0
    #: Most remote nodes one lookup may query (hops, including failed ones).
    max_hops: int = 48
    #: Most candidates a node offers (and the origin accepts) per lookup step.
    candidates_per_reply: int = 8
    #: Mean period of stabilize / check_predecessor / fix_fingers, seconds.
    stabilize_interval: float = 15.0
    #: Stabilize period while the neighbourhood changes (adaptive stabilize), seconds.
    fast_stabilize_interval: float = 1.0
    #: Stabilize rounds run at the fast period after the first successor or the predecessor
    #: last changed, or after a joiner asked for our list (0: never fast, Zave's fixed period).
    fast_rounds: int = 5
    #: Most times one stabilize adopts ``s.pred`` and asks the new successor again, so a node
    #: passes several concurrent joiners in one round (1: Zave's single step).
    stabilize_walk: int = 8
    #: A joiner stabilizes at once after joining (instead of only notifying its successor).
    stabilize_on_join: bool = True
    #: Take a node between us and our successor that asks for our successor list as a
    #: candidate successor; ask our predecessor for its list while our neighbourhood changes.
    successor_hints: bool = True
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
    #: Time added to a call's timeout when no session to the peer is open yet: a cold onion
    #: connect takes 4–29 s (docs/benchmarks.md), a call on an open session ~1 s.
    dial_timeout: float = 30.0
    #: Most fingers whose sessions are kept open (besides successors and predecessor).
    warm_fingers: int = 24
    #: Prefer a finger with an open session as the next lookup hop when it still makes
    #: progress toward the key (a cold dial costs ~15 s on Tor, a warm hop ~1 s), and refresh
    #: a finger by asking it for its predecessor before falling back to a lookup.
    prefer_warm: bool = True
    #: Look keys up recursively: each hop forwards over its own open sessions
    #: (:mod:`ohtchat.chord.recursive`), the iterative lookup as the fallback.
    recursive: bool = True
    #: How long the origin waits for a recursive answer before it falls back, seconds.
    recursive_timeout: float = 45.0
    #: Most forwarded lookups a node serves at once, and at once for one calling peer.
    max_forwards: int = 64
    max_forwards_per_peer: int = 8

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
        if not 1 <= self.stabilize_walk <= 32:
            raise ValueError("stabilize_walk must be in [1, 32]")
        if not 1 <= self.max_forwards_per_peer <= self.max_forwards:
            raise ValueError("need 1 <= max_forwards_per_peer <= max_forwards")
        if self.fast_rounds < 0 or self.warm_fingers < 0 or self.dial_timeout < 0:
            raise ValueError("fast_rounds, warm_fingers and dial_timeout must be >= 0")
        for name in (
            "rpc_timeout",
            "lookup_timeout",
            "stabilize_interval",
            "fast_stabilize_interval",
            "check_predecessor_interval",
            "fix_fingers_interval",
            "suspect_for",
            "recursive_timeout",
        ):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive")

    @classmethod
    def classic(cls, **overrides: object) -> ChordConfig:
        """Zave's maintenance without the convergence and warm-routing additions."""
        base: dict[str, object] = {
            "fast_rounds": 0,
            "stabilize_walk": 1,
            "stabilize_on_join": False,
            "successor_hints": False,
            "prefer_warm": False,
            "recursive": False,
            "dial_timeout": 0.0,
            "lookup_timeout": 60.0,
        }
        return cls(**{**base, **overrides})  # type: ignore[arg-type]
