"""Counters a node keeps about the broadcasts it starts, relays and refuses."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass
class RingcastMetrics:
    """Monotonic counters; read them, never reset them from outside."""

    #: Broadcasts this node started.
    originated: int = 0
    #: ``ringcast_deliver`` calls that reached this node (well-formed or not).
    received: int = 0
    #: Messages handed to ``on_deliver`` (own broadcasts included): once per message id.
    delivered: int = 0
    #: Well-formed, already-seen messages (acknowledged, not delivered or forwarded again).
    duplicates: int = 0
    #: Delivery calls this node sent that the receiver answered (accepted, dup or refused).
    sent: int = 0
    #: Delivery calls that failed (timeout, unreachable, error reply).
    send_failures: int = 0
    #: Subtrees re-sent to the live successor of a failed finger.
    resends: int = 0
    #: Subtrees given up (no live node found in the range, or resends exhausted).
    abandoned: int = 0
    #: Refused: malformed, oversize, forged signature or certificate.
    refused_bad: int = 0
    #: Refused: timestamp too old, too far in the future, or under the dedup watermark.
    refused_stale: int = 0
    #: Refused: the origin exceeded its rate limit.
    refused_rate: int = 0
    #: Receivers that answered our delivery with a refusal.
    refused_by_peer: int = 0
    #: Deepest tree level at which this node received a message.
    max_hops: int = 0
    #: Sum of the levels of received (first) copies, for a mean depth.
    hops_total: int = 0

    def snapshot(self) -> dict[str, int]:
        """The counters as a plain dict."""
        return asdict(self)
