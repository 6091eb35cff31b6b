"""A node's routing state (successor list, predecessor, fingers) and purely local routing.

No I/O here: :mod:`ohtchat.chord.node` changes the state after talking to peers.
Fingers are kept distinct: entry ``i`` (found by a lookup of ``id + 2**i``) stands for every
index ``j ≥ i`` whose target still falls in ``(id, finger]``. Routing uses one array sorted by
clockwise distance, so finding the closest preceding nodes of a key is a bisection.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ohtchat.chord.ring import ID_BITS, dist, finger_target
from ohtchat.chord.rpc import PeerRef


@dataclass(frozen=True)
class FingerRow:
    """Finger indices ``first..last`` all point at ``peer``; ``start`` is ``id + 2**first``."""

    first: int
    last: int
    start: int
    peer: PeerRef


@dataclass(frozen=True)
class Step:
    """One local routing step: either the owner's list (``done``) or closer candidates."""

    done: bool
    peers: tuple[PeerRef, ...]


def truncate_at(origin: int, peers: Sequence[PeerRef], r: int) -> list[PeerRef]:
    """``peers`` up to (excluding) the first return to ``origin`` or a step backwards, at most r.

    Used when adopting ``[s] + s.list``: in a ring smaller than r the copied list wraps
    around past ourselves, and everything from there on is not our successor.
    """
    out: list[PeerRef] = []
    last = 0
    for p in peers:
        d = dist(origin, p.id)
        if d <= last:
            break
        out.append(p)
        last = d
        if len(out) == r:
            break
    return out


class RoutingState:
    """Successor list, predecessor and distinct fingers of the node ``me``."""

    def __init__(self, me: PeerRef, r: int) -> None:
        self.me = me
        self.r = r
        self.successors: list[PeerRef] = []
        self.predecessor: PeerRef | None = None
        self._fingers: dict[int, PeerRef] = {}
        self._route_d: list[int] = []
        self._route_p: list[PeerRef] = []

    # ----------------------------------------------------------------- mutation
    def set_successors(self, peers: Sequence[PeerRef]) -> bool:
        """Replace the successor list (caller checked order); True when it changed."""
        new = truncate_at(self.me.id, peers, self.r)
        if [p.id for p in new] == [p.id for p in self.successors]:
            self.successors = new  # refresh addresses
            return False
        self.successors = new
        self._rebuild()
        return True

    def set_finger(self, i: int, peer: PeerRef) -> int:
        """Record ``successor(id + 2**i) = peer``; returns the next index worth looking up."""
        d = dist(self.me.id, peer.id)
        if d == 0:
            # The target wrapped past every other node: no finger from i on.
            for j in [j for j in self._fingers if j >= i]:
                del self._fingers[j]
            self._rebuild()
            return ID_BITS
        nxt = d.bit_length()  # first index whose target lies beyond peer
        for j in [j for j in self._fingers if i < j < nxt]:
            del self._fingers[j]
        self._fingers[i] = peer
        self._rebuild()
        return nxt

    def clear_fingers(self) -> None:
        """Forget every finger."""
        self._fingers.clear()
        self._rebuild()

    def remove(self, peer_id: int) -> bool:
        """Forget a peer everywhere but the successor list; True if it was known."""
        hit = False
        for j in [j for j, p in self._fingers.items() if p.id == peer_id]:
            del self._fingers[j]
            hit = True
        if self.predecessor is not None and self.predecessor.id == peer_id:
            self.predecessor = None
            hit = True
        if hit:
            self._rebuild()
        return hit

    def _rebuild(self) -> None:
        seen: dict[int, PeerRef] = {}
        for p in (*self.successors, *self._fingers.values()):
            if p.id != self.me.id:
                seen.setdefault(p.id, p)
        pairs = sorted((dist(self.me.id, i), p) for i, p in seen.items())
        self._route_d = [d for d, _ in pairs]
        self._route_p = [p for _, p in pairs]

    # ------------------------------------------------------------------ queries
    @property
    def successor(self) -> PeerRef | None:
        """The first successor, or ``None`` when alone."""
        return self.successors[0] if self.successors else None

    def known(self) -> list[PeerRef]:
        """Every distinct peer in the successor list and finger table, clockwise."""
        return list(self._route_p)

    def finger(self, i: int) -> PeerRef | None:
        """The finger stored at index ``i`` (the first index of its row), if any."""
        return self._fingers.get(i)

    def fingers(self) -> list[PeerRef]:
        """The distinct finger peers, farthest first (each entered once)."""
        seen: dict[int, PeerRef] = {}
        for i in sorted(self._fingers, reverse=True):
            seen.setdefault(self._fingers[i].id, self._fingers[i])
        return list(seen.values())

    def finger_rows(self) -> list[FingerRow]:
        """The distinct fingers with the index ranges they cover."""
        rows: list[FingerRow] = []
        succ = self.successor
        if succ is not None and (0 not in self._fingers):
            last = dist(self.me.id, succ.id).bit_length() - 1
            rows.append(FingerRow(0, last, finger_target(self.me.id, 0), succ))
        for i in sorted(self._fingers):
            p = self._fingers[i]
            last = min(dist(self.me.id, p.id).bit_length(), ID_BITS) - 1
            rows.append(FingerRow(i, last, finger_target(self.me.id, i), p))
        return rows

    def closest_preceding(
        self, key: int, k: int, skip: Callable[[int], bool] | None = None
    ) -> list[PeerRef]:
        """Up to ``k`` known peers in (me, key), closest to ``key`` first."""
        idx = bisect_left(self._route_d, dist(self.me.id, key))
        out: list[PeerRef] = []
        for j in range(idx - 1, -1, -1):
            p = self._route_p[j]
            if skip is not None and skip(p.id):
                continue
            out.append(p)
            if len(out) == k:
                break
        return out

    def step(self, key: int, k: int, skip: Callable[[int], bool] | None = None) -> Step:
        """Route ``key`` one step with local knowledge only.

        ``done`` with ``(me,)`` alone when we own ``key`` by our own state: ``key`` is our id,
        or we are alone (a lone node owns every key). ``done`` when key lies in
        (me, last successor]: the peers are the successor-list tail from the first entry at or
        past key (its first live entry owns key); this tail never contains ``me``. Otherwise
        the closest preceding candidates, closest to ``key`` first.
        """
        if not self.successors or key == self.me.id:
            return Step(True, (self.me,))
        dk = dist(self.me.id, key)
        if 0 < dk <= dist(self.me.id, self.successors[-1].id):
            for j, p in enumerate(self.successors):
                if dist(self.me.id, p.id) >= dk:
                    return Step(True, tuple(self.successors[j:]))
        return Step(False, tuple(self.closest_preceding(key, k, skip)))
