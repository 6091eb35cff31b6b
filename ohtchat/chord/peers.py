"""A small cache of peers known to be live, for bootstrap and peer exchange."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

from ohtchat.chord.errors import BadReply
from ohtchat.chord.rpc import PeerRef, decode_peer, encode_peer


class PeerCache:
    """Most-recently-confirmed-first set of peers, bounded by ``capacity``.

    Peers we talked to ourselves are *verified*; peers heard of through peer exchange are
    kept separately (and evicted first) until they answer us.
    """

    def __init__(self, capacity: int, self_id: int) -> None:
        self.capacity = capacity
        self._self_id = self_id
        self._verified: OrderedDict[int, PeerRef] = OrderedDict()
        self._heard: OrderedDict[int, PeerRef] = OrderedDict()

    def confirm(self, peer: PeerRef) -> None:
        """Record that ``peer`` just answered us."""
        if peer.id == self._self_id or self.capacity == 0:
            return
        self._heard.pop(peer.id, None)
        self._verified[peer.id] = peer
        self._verified.move_to_end(peer.id, last=False)
        self._trim()

    def hear(self, peers: Iterable[PeerRef]) -> None:
        """Record peers another node told us about (not yet verified)."""
        for p in peers:
            if p.id == self._self_id or p.id in self._verified or self.capacity == 0:
                continue
            self._heard[p.id] = p
        self._trim()

    def forget(self, peer_id: int) -> None:
        """Drop a peer (it failed a call)."""
        self._verified.pop(peer_id, None)
        self._heard.pop(peer_id, None)

    def _trim(self) -> None:
        while len(self._verified) + len(self._heard) > self.capacity:
            if self._heard:
                self._heard.popitem(last=True)
            else:
                self._verified.popitem(last=True)

    def peers(self) -> list[PeerRef]:
        """Verified peers (most recent first), then heard-of ones."""
        return [*self._verified.values(), *self._heard.values()]

    def __len__(self) -> int:
        return len(self._verified) + len(self._heard)

    def export(self) -> list[dict[str, Any]]:
        """Verified peers as plain dicts, for persisting across runs."""
        return [encode_peer(p) for p in self._verified.values()]

    def load(self, items: Iterable[object]) -> int:
        """Add persisted peers (as heard-of); returns how many were valid."""
        good = []
        for item in items:
            try:
                good.append(decode_peer(item))
            except BadReply:
                continue
        self.hear(good)
        return len(good)
