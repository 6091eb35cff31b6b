"""Zave's invariants of a Chord network, checked from a global snapshot.

A *member* is a live node that created or joined the ring. Each member's *best successor*
is the first live member in its successor list (a lone node's is itself). Checked:

* every member has a live successor;
* the best-successor graph has at least one and at most one cycle: the *ring*;
* the ring is ordered: going round it passes the identifier circle exactly once;
* members off the ring (appendages) reach it;
* successor lists are strictly ordered clockwise from their owner: no duplicates, no self.

:func:`ideal_ring` is the stronger state stabilization converges to: every member on the
ring, and every successor and predecessor pointer exact.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ohtchat.chord.ring import ID_SPACE, dist


@dataclass(frozen=True)
class MemberView:
    """What the checker needs of one member: its successor ids and predecessor id."""

    successors: Sequence[int]
    predecessor: int | None


def best_successor(me: int, view: MemberView, members: Mapping[int, MemberView]) -> int | None:
    """The first live member in ``me``'s successor list (``me`` itself when it has none)."""
    if not view.successors:
        return me
    for s in view.successors:
        if s in members:
            return s
    return None


def check_invariants(members: Mapping[int, MemberView], limit: int = 10) -> list[str]:
    """Violations of Zave's invariants (empty when they all hold); at most ``limit``."""
    errs: list[str] = []
    if not members:
        return errs
    best: dict[int, int] = {}
    for m, v in members.items():
        last = 0
        for s in v.successors:
            d = dist(m, s)
            if d <= last:
                errs.append(f"{m:x}: successor list not ordered / has self or duplicates")
                break
            last = d
        b = best_successor(m, v, members)
        if b is None:
            errs.append(f"{m:x}: no live successor")
        else:
            best[m] = b
    if errs:
        return errs[:limit]
    ring = _cycles(best)
    if len(ring) != 1:
        return [f"{len(ring)} rings"]
    cycle = ring[0]
    lap = sum(dist(a, best[a]) for a in cycle) if len(cycle) > 1 else ID_SPACE
    if lap != ID_SPACE:
        errs.append(f"ring is not ordered: goes round {lap / ID_SPACE:.2f} times")
    on_ring = set(cycle)
    for m in members:
        if m in on_ring:
            continue
        x, steps = m, 0
        while x not in on_ring and steps <= len(members):
            x, steps = best[x], steps + 1
        if x not in on_ring:
            errs.append(f"{m:x}: does not reach the ring")
    return errs[:limit]


def _cycles(best: Mapping[int, int]) -> list[list[int]]:
    state: dict[int, int] = {}  # 1 = on current path, 2 = finished
    cycles: list[list[int]] = []
    for start in best:
        if start in state:
            continue
        path: list[int] = []
        x: int | None = start
        while x is not None and x not in state:
            state[x] = 1
            path.append(x)
            x = best.get(x)
        if x is not None and state.get(x) == 1:
            cycles.append(path[path.index(x) :])
        for p in path:
            state[p] = 2
    return cycles


def ideal_ring(members: Mapping[int, MemberView]) -> bool:
    """Every member's best successor and predecessor are its true ring neighbours."""
    ids = sorted(members)
    n = len(ids)
    if n == 1:
        v = members[ids[0]]
        return not v.successors and v.predecessor is None
    for i, m in enumerate(ids):
        v = members[m]
        if best_successor(m, v, members) != ids[(i + 1) % n] or v.predecessor != ids[i - 1]:
            return False
    return True


def true_successor(sorted_ids: Sequence[int], key: int) -> int:
    """The member owning ``key``: the first id at or after it (bisect over sorted ids)."""
    i = bisect_left(sorted_ids, key)
    return sorted_ids[i % len(sorted_ids)]
