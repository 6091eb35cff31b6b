"""Chord on the simulated network: lookup hops, lookups after mass failure, convergence.

    python bench/chord.py [--sizes 64 256 1024 4096] [--timed 64 256 1024] [--seed 1]

For each N (virtual time, in-process, r = 2·log2 N successors, ideal initial state):
* mean and p99 hops (find_successor queries) of 2 000 lookups, next to the baseline ½·log2 N
  (ratio printed), and mean messages per lookup (hops + the owner check);
* share of 10 000 lookups that fail (error or wrong owner) right after 50% of the nodes
  crash at once, before any stabilization;
* stabilization rounds until Zave's invariants hold / until every pointer is exact, after
  256 concurrent joins, and after 25% churn (N/4 crash and N/4 join, all at once): for the
  baseline ``ChordConfig.classic()`` (Zave's single step per round, the algorithm before
  issue 14) and the new defaults, each round being one scheduled stabilize per member;
* for ``--timed`` sizes, the same two events with every node's own timers (defaults: 15 s,
  1 s while its neighbourhood changes) on virtual time: seconds from the last completed join
  until every pointer is exact, and that as rounds of 15 s, baseline and new.
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


def _config(n: int, classic: bool) -> ChordConfig:
    r = min(32, 2 * round(math.log2(n)))
    kw: dict[str, object] = {"successors": r, "rpc_timeout": 2.0, "lookup_timeout": 600.0}
    kw["max_hops"] = 64
    return ChordConfig.classic(**kw) if classic else ChordConfig(**kw)  # type: ignore[arg-type]


async def bench(n: int, seed: int) -> dict[str, float | int | None]:
    cfg = _config(n, False)
    out: dict[str, float | int | None] = {"N": n, "r": cfg.successors}
    out["half_log2N"] = 0.5 * math.log2(n)

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

    for name, classic in (("base", True), ("new", False)):
        cfg = _config(n, classic)
        ring = SimRing(seed + 1, cfg, serialize=False)
        ring.build_ideal(n)
        await ring.join(256)
        out[f"join_inv_{name}"] = await ring.rounds_until(False, 30)
        out[f"join_exact_{name}"] = await ring.rounds_until(True, 30)

        ring = SimRing(seed + 2, cfg, serialize=False)
        ring.build_ideal(n)
        _crash_at_once(ring, n // 4)
        await ring.join(n // 4)
        out[f"churn_inv_{name}"] = await ring.rounds_until(False, 30)
        out[f"churn_exact_{name}"] = await ring.rounds_until(True, 30)
    return out


async def timed(n: int, seed: int, classic: bool, churn: bool) -> float:
    """Seconds from the last completed join until every pointer is exact, with timers."""
    r = min(32, 2 * round(math.log2(n)))
    cfg = ChordConfig.classic(successors=r) if classic else ChordConfig(successors=r)
    ring = SimRing(seed + (2 if churn else 1), cfg, serialize=False)
    ring.build_ideal(n)
    ring.start_timers()
    loop = asyncio.get_running_loop()
    if churn:
        for victim in ring.rng.sample(ring.members(), n // 4):
            ring._kill(victim)
    await ring.join(n // 4 if churn else 256, retry=10.0)  # a failed join retries in 10 s
    joined = loop.time()
    while not ring.is_ideal() and loop.time() - joined < 3600:
        await asyncio.sleep(0.5)
    await ring.stop()
    return loop.time() - joined


def _r(x: object) -> str:
    return "-" if x is None else str(x)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[64, 256, 1024, 4096])
    ap.add_argument("--timed", type=int, nargs="*", default=[64, 256, 1024])
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    print(
        f"{'N':>5} {'r':>3} {'½log2N':>7} {'mean':>6} {'ratio':>6} {'p99':>4} {'msgs':>5} "
        f"{'fail@50%':>9} {'join inv/exact base':>19} {'new':>6} "
        f"{'churn inv/exact base':>20} {'new':>6} {'secs':>6}"
    )
    for n in args.sizes:
        t0 = time.perf_counter()
        res = run_virtual(bench(n, args.seed))
        secs = time.perf_counter() - t0
        half = float(res["half_log2N"] or 1)
        mean = float(res["hops_mean"] or 0)
        jb = f"{_r(res['join_inv_base'])} / {_r(res['join_exact_base'])}"
        jn = f"{_r(res['join_inv_new'])} / {_r(res['join_exact_new'])}"
        cb = f"{_r(res['churn_inv_base'])} / {_r(res['churn_exact_base'])}"
        cn = f"{_r(res['churn_inv_new'])} / {_r(res['churn_exact_new'])}"
        print(
            f"{n:>5} {res['r']:>3} {half:>7.2f} {mean:>6.2f} {mean / half:>6.2f} "
            f"{res['hops_p99']:>4} {float(res['msgs_mean'] or 0):>5.2f} "
            f"{float(res['fail_share_after_50pct_crash'] or 0):>9.4f} "
            f"{jb:>19} {jn:>6} {cb:>20} {cn:>6} {secs:>6.1f}",
            flush=True,
        )
    if not args.timed:
        return
    print("\nwith timers: seconds from the last join until exact (rounds of 15 s), base vs new")
    print(
        f"{'N':>5} {'event':>9} {'base s':>8} {'rounds':>7} {'new s':>7} {'rounds':>7} "
        f"{'new/base':>8} {'secs':>6}"
    )
    for n in args.timed:
        for event in ("join 256", "churn 25%"):
            t0 = time.perf_counter()
            churn = event.startswith("churn")
            base = run_virtual(timed(n, args.seed, True, churn))
            new = run_virtual(timed(n, args.seed, False, churn))
            secs = time.perf_counter() - t0
            print(
                f"{n:>5} {event:>9} {base:>8.1f} {base / 15:>7.1f} {new:>7.1f} "
                f"{new / 15:>7.1f} {new / base if base else float('nan'):>8.2f} {secs:>6.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
