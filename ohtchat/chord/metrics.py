"""Counters a node keeps about its own traffic and about misbehaving peers."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass
class ChordMetrics:
    """Monotonic counters; read them, never reset them from outside."""

    rpc_calls: int = 0
    rpc_failures: int = 0
    rpc_timeouts: int = 0
    #: Replies that were malformed (wrong types, sizes, unordered lists).
    bad_replies: int = 0
    #: Peer references whose id did not match their onion key.
    bad_identities: int = 0
    #: Replies naming a successor/finger outside the arc it must lie in.
    out_of_range: int = 0
    #: Incoming calls refused (bad params, unknown method, caller mismatch).
    refused_requests: int = 0
    lookups: int = 0
    lookup_failures: int = 0
    successors_dropped: int = 0
    predecessor_changes: int = 0
    rejoins: int = 0

    def snapshot(self) -> dict[str, int]:
        """The counters as a plain dict."""
        return asdict(self)
