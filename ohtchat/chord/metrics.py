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
    #: Stabilize rounds that replaced the first successor with a closer node.
    successor_changes: int = 0
    #: Extra ``s.pred`` adoptions within one stabilize (the walk past concurrent joiners).
    stabilize_walk_steps: int = 0
    #: Closer successors adopted from a ``notify`` reply naming a node between us and it.
    notify_walk_steps: int = 0
    #: Calls to our predecessor's list while our neighbourhood changes (a hint to it).
    predecessor_reminders: int = 0
    #: Predecessors displaced by a closer notifier, told so (a hint to stabilize now).
    displaced_hints: int = 0
    #: Stabilize rounds run at the fast period (adaptive stabilize).
    fast_stabilizes: int = 0
    rejoins: int = 0
    #: Fingers refreshed by asking the finger itself (its predecessor) instead of a lookup.
    fingers_confirmed: int = 0
    #: Calls that had to open a session first (a cold onion connect: 4–29 s on Tor).
    cold_dials: int = 0
    #: Of those, the ones made by lookups (hops and owner checks); per lookup:
    #: ``lookup_cold_dials / lookups``.
    lookup_cold_dials: int = 0
    #: Lookups started recursively (``find_owner``), and those that fell back to iterative.
    recursive_lookups: int = 0
    recursive_fallbacks: int = 0
    #: ``find_owner`` requests this node forwarded, and those it refused at its caps.
    forwards_served: int = 0
    forwards_refused: int = 0

    def snapshot(self) -> dict[str, int]:
        """The counters as a plain dict."""
        return asdict(self)
