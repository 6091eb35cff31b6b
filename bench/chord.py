"""Chord on the simulated network: lookup hops, lookups after mass failure, convergence.

    python bench/chord.py [--sizes 64 256 1024 4096] [--seed 1]

For each N (virtual time, in-process, r = 2·log2 N successors, ideal initial state):
* mean and p99 hops (find_successor queries) of 2 000 lookups, next to the baseline ½·log2 N
  (ratio printed), and mean messages per lookup (hops + the owner check);
* share of 10 000 lookups that fail (error or wrong owner) right after 50% of the nodes
  crash at once, before any stabilization;
* stabilization rounds until Zave's invariants hold / until every pointer is exact, after
  256 concurrent joins, and after 25% churn (N/4 crash and N/4 join, all at once).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import statistics
import time

from ohtchat.chord.config import ChordConfig
from ohtchat.chord.node import ChordNode
from ohtchat.sim.harness import SimRing
from ohtchat.sim.invariants import true_successor
from ohtchat.sim.loop import run_virtual

BATCH = 500


async def _lookups(ring: SimRing, count: int) -> tuple[list[int], list[int], int]:
    """(hops, messages) of successful lookups and the failures, for ``count`` random ones."""
    ids = ring.sorted_ids()
    live = ring.members()
    hops: list[int] = []
    msgs: list[int] = []
    fails = 0

    async def one(origin: ChordNode, key: int) -> None:
        nonlocal fails
        try:
            res = await origin.lookup(key)
        except Exception:
            fails += 1
            return
        if res.owner.id != true_successor(ids, key):
            fails += 1
        else:
            hops.append(res.hops)
            msgs.append(res.messages)

    for start in range(0, count, BATCH):
        n = min(BATCH, count - start)
        jobs = [(ring.rng.choice(live), ring.rng.getrandbits(256)) for _ in range(n)]
        await asyncio.gather(*(one(o, k) for o, k in jobs))
    return hops, msgs, fails


def _crash_at_once(ring: SimRing, count: int) -> None:
    for node in ring.rng.sample(ring.members(), count):
        ring.down.add(node.me.id)
        ring.net.crash(node.me.address)


async def bench(n: int, seed: int) -> dict[str, float | int | None]:
    r = min(32, 2 * round(math.log2(n)))
    cfg = ChordConfig(successors=r, rpc_timeout=2.0, lookup_timeout=600.0, max_hops=64)
    out: dict[str, float | int | None] = {"N": n, "r": r, "half_log2N": 0.5 * math.log2(n)}

    ring = SimRing(seed, cfg, serialize=False)
    ring.build_ideal(n)
    hops, msgs, fails = await _lookups(ring, 2000)
    out["hops_mean"] = statistics.fmean(hops)
    out["msgs_mean"] = statistics.fmean(msgs)
    out["hops_p99"] = sorted(hops)[int(0.99 * (len(hops) - 1))]
    out["lookup_fail_steady"] = fails
    _crash_at_once(ring, n // 2)
    _, _, fails = await _lookups(ring, 10_000)
    out["fail_share_after_50pct_crash"] = fails / 10_000

    ring = SimRing(seed + 1, cfg, serialize=False)
    ring.build_ideal(n)
    await ring.join(256)
    out["join256_rounds_invariants"] = await ring.rounds_until(False, 30)
    out["join256_rounds_exact"] = await ring.rounds_until(True, 30)

    ring = SimRing(seed + 2, cfg, serialize=False)
    ring.build_ideal(n)
    _crash_at_once(ring, n // 4)
    await ring.join(n // 4)
    out["churn25_rounds_invariants"] = await ring.rounds_until(False, 30)
    out["churn25_rounds_exact"] = await ring.rounds_until(True, 30)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[64, 256, 1024, 4096])
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    print(
        f"{'N':>5} {'r':>3} {'½log2N':>7} {'mean':>6} {'ratio':>6} {'p99':>4} {'msgs':>5} "
        f"{'fail@50%':>9} {'join:inv':>8} {'join:exact':>10} {'churn:inv':>9} "
        f"{'churn:exact':>11} {'secs':>6}"
    )
    for n in args.sizes:
        t0 = time.perf_counter()
        res = run_virtual(bench(n, args.seed))
        secs = time.perf_counter() - t0
        half = float(res["half_log2N"] or 1)
        mean = float(res["hops_mean"] or 0)
        print(
            f"{n:>5} {res['r']:>3} {half:>7.2f} {mean:>6.2f} {mean / half:>6.2f} "
            f"{res['hops_p99']:>4} {float(res['msgs_mean'] or 0):>5.2f} "
            f"{float(res['fail_share_after_50pct_crash'] or 0):>9.4f} "
            f"{res['join256_rounds_invariants']!s:>8} {res['join256_rounds_exact']!s:>10} "
            f"{res['churn25_rounds_invariants']!s:>9} {res['churn25_rounds_exact']!s:>11} "
            f"{secs:>6.1f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
