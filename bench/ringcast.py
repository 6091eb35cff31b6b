"""Ringcast on the simulated network: messages sent and tree depth next to N−1 and log2 N.

    python bench/ringcast.py [--sizes 256 1024 4096] [--seed 1] [--casts 3]

For each N (virtual time, in-process, one-way latency 50–250 ms, rpc_timeout 2 s, exact
initial state: successor lists, predecessors and fingers computed from the sorted ids):
* ``--casts`` broadcasts from random origins, (a) over fingers plus the successor list
  (r = 8, the default) and (b) over fingers only; per broadcast the delivery calls sent
  (goal: exactly N−1), the deepest tree level (goal: ≤ ⌈log2 N⌉) and the mean level;
* one broadcast after 25% of the nodes crash at once (keeping Zave's failure assumption), with
  no stabilization and no finger repair: coverage of the live nodes, duplicates, resends and
  the virtual time until the last relay finished.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import time
from dataclasses import dataclass

from ohtchat.chord.config import ChordConfig
from ohtchat.ringcast.config import RingcastConfig
from ohtchat.ringcast.message import Broadcast
from ohtchat.ringcast.node import Ringcast
from ohtchat.sim.harness import SimRing
from ohtchat.sim.loop import run_virtual
from ohtchat.sim.ringcast import attach_ringcast, drain_all

CHORD = ChordConfig(successors=8, rpc_timeout=2.0, lookup_timeout=30.0)
STABLE_HEAD = (
    "| N | N−1 | ⌈log2 N⌉ | lists | msgs sent (each cast) | msgs / (N−1) "
    "| max depth | depth / ⌈log2 N⌉ | mean depth | secs |"
)
CRASH_HEAD = (
    "| N | live | live−1 | msgs sent | failed sends | covered | dups | resends | max depth "
    "| virtual s | secs |"
)


@dataclass
class CastStats:
    """Totals of one broadcast over the whole ring."""

    sent: int
    max_depth: int
    mean_depth: float
    covered: int
    live: int
    dups: int
    resends: int
    failed: int
    seconds: float


def _counters(rcs: list[Ringcast]) -> tuple[int, int, int, int, int, int]:
    m = [rc.metrics for rc in rcs]
    return (
        sum(x.sent for x in m),
        sum(x.received - x.duplicates - x.refused_bad for x in m),
        sum(x.hops_total for x in m),
        sum(x.duplicates for x in m),
        sum(x.resends for x in m),
        sum(x.send_failures for x in m),
    )


async def _cast(
    ring: SimRing, rcs: dict[int, Ringcast], inbox: dict[int, list[Broadcast]]
) -> CastStats:
    live = [rc for i, rc in rcs.items() if i not in ring.down]
    for rc in live:
        rc.metrics.max_hops = 0
    before = _counters(live)
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    res = await ring.rng.choice(live).broadcast(b"bench")
    await drain_all(rcs.values())
    after = _counters(live)
    sent, firsts, hops, dups, resends, failed = (a - b for a, b in zip(after, before, strict=True))
    covered = sum(1 for rc in live if any(b.msg_id == res.msg_id for b in inbox[rc.chord.me.id]))
    return CastStats(
        sent,
        max(rc.metrics.max_hops for rc in live),
        hops / max(firsts, 1),
        covered,
        len(live),
        dups,
        resends,
        failed,
        loop.time() - t0,
    )


async def _stable(n: int, seed: int, casts: int, use_successors: bool) -> list[CastStats]:
    ring = SimRing(seed=seed, config=CHORD)
    nodes = ring.build_ideal(n)
    inbox: dict[int, list[Broadcast]] = {}
    cfg = RingcastConfig(use_successors=use_successors)
    rcs = attach_ringcast(ring, nodes, cfg, inbox=inbox)
    return [await _cast(ring, rcs, inbox) for _ in range(casts)]


async def _crashed(n: int, seed: int) -> CastStats:
    ring = SimRing(seed=seed, config=CHORD)
    nodes = ring.build_ideal(n)
    inbox: dict[int, list[Broadcast]] = {}
    rcs = attach_ringcast(ring, nodes, inbox=inbox)
    ring.crash(n // 4)
    return await _cast(ring, rcs, inbox)


def main() -> None:
    """Run the benchmark and print one markdown table per scenario."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[256, 1024, 4096])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--casts", type=int, default=3)
    args = ap.parse_args()

    print(STABLE_HEAD)
    print("|---|---|---|---|---|---|---|---|---|---|")
    crash_rows = []
    for n in args.sizes:
        goal = math.ceil(math.log2(n))
        for succ in (True, False):
            t = time.perf_counter()
            stats = run_virtual(_stable(n, args.seed, args.casts, succ))
            secs = time.perf_counter() - t
            sent = [s.sent for s in stats]
            depth = max(s.max_depth for s in stats)
            mean = sum(s.mean_depth for s in stats) / len(stats)
            label = "fingers+succ" if succ else "fingers"
            print(
                f"| {n} | {n - 1} | {goal} | {label} | {', '.join(map(str, sent))} "
                f"| {max(sent) / (n - 1):.3f} | {depth} | {depth / goal:.2f} | {mean:.2f} "
                f"| {secs:.1f} |"
            )
        t = time.perf_counter()
        c = run_virtual(_crashed(n, args.seed))
        crash_rows.append((n, c, time.perf_counter() - t))

    print()
    print(CRASH_HEAD)
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for n, c, secs in crash_rows:
        print(
            f"| {n} | {c.live} | {c.live - 1} | {c.sent} | {c.failed} | {c.covered}/{c.live} "
            f"| {c.dups} "
            f"| {c.resends} | {c.max_depth} | {c.seconds:.1f} | {secs:.1f} |"
        )


if __name__ == "__main__":
    main()
