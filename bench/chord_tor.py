"""Chord and the DHT on the live-Tor latency model: lookups, gets, first contact, circuits.

    python bench/chord_tor.py [--sizes 256 1024 4096] [--seed 1] [--lookups 400] [--gets 150]
                              [--configs baseline iterative recursive]

Virtual time, in-process (``ohtchat.sim``), every session modelled by ``TorModel`` (cold
connect 4–29 s, median 14.6 s; warm round trip 0.3–1.5 s; 5% of connects fail; circuits die
after an exponential lifetime, mean 1 h; sessions idle 600 s close unless an end keeps them).
For each N the same seeded ring runs once per configuration: **baseline**
``ChordConfig.classic()`` (the algorithm and settings before issue 14: 10 s per call whether or
not it must dial, no preference for open sessions, fingers refreshed by lookups),
**iterative** ``ChordConfig(recursive=False)`` (the origin asks every hop, preferring hops over
open sessions) and **recursive** ``ChordConfig()`` (each hop forwards over its own sessions,
the iterative lookup as fallback); optionally **unverified**, recursive without the origin's
owner check (``verify_owner=False``). Ratios are against the first configuration given.

Each run: N nodes with exact routing state and a DHT each, sessions to every node's kept peers
(successors, predecessor, fingers) open — the steady state — then every node's own timers
(adaptive stabilize, check_predecessor, fix_fingers) and the pool's idle sweep for
``--warmup`` virtual seconds; then ``--gets`` records are put (presence-like, one per node).
Measured afterwards, one new operation every 0.25 s from a random live node:

* lookups of random keys: latency p50/p99 (a failed lookup counts as infinitely slow), cold
  dials per successful lookup, failures (error or a wrong owner);
* DHT gets of the records: latency p50;
* *first whisper* to a never-contacted node, approximated as the get of its record (its
  presence) plus a call to it over a new session: p50/p99;
* circuits (open sessions) per node at the end: mean and max; cold dials of maintenance per
  node per hour (during the warm-up).

Last, for ``--converge`` seeds, 256 nodes join a 64-node ring (r = 12) at once on the model,
retrying a failed join after 10 s as a node does: seconds until the last join completed, and
from then until every pointer is exact (and that in 15 s rounds).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from ohtchat.chord.config import ChordConfig
from ohtchat.chord.node import ChordNode
from ohtchat.chord.rpc import PING
from ohtchat.crypto.keys import AccountKey
from ohtchat.dht import Dht, DhtConfig, MemoryReplicas, ring_handler
from ohtchat.sim.harness import SimRing
from ohtchat.sim.invariants import true_successor
from ohtchat.sim.loop import run_virtual
from ohtchat.sim.tormodel import TorModel

BASE = 1_700_000_000.0  # virtual unix time at loop time 0 (records carry unix expiries)
GAP = 0.25  # seconds between the starts of two measured operations


def _q(xs: list[float], q: float, failed: int = 0) -> float:
    """Quantile ``q`` of ``xs`` plus ``failed`` attempts counted as infinitely slow."""
    s = sorted(xs) + [float("inf")] * failed
    return s[min(len(s) - 1, int(q * (len(s) - 1) + 0.5))] if s else float("nan")


async def _paced(count: int, make: Callable[[int], Awaitable[None]]) -> None:
    tasks = []
    for i in range(count):
        tasks.append(asyncio.ensure_future(make(i)))
        await asyncio.sleep(GAP)
    await asyncio.gather(*tasks)


async def run(n: int, seed: int, cfg: ChordConfig, args: argparse.Namespace) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    ring = SimRing(seed, cfg, serialize=False, tor=TorModel())
    links = ring.net.links
    assert links is not None
    nodes = ring.build_ideal(n)
    rng = random.Random(seed + 99)
    dhts: dict[int, Dht] = {}
    for node in nodes:
        dht = Dht(
            node,
            AccountKey(rng.randbytes(32)),
            MemoryReplicas(),
            DhtConfig(),
            clock=lambda: BASE + loop.time(),
            rng=random.Random(rng.random()),
        )
        ring.net.set_handler(node.me.address, ring_handler(node, dht))
        dhts[node.me.id] = dht
    ring.open_warm_sessions()
    ring.start_timers()
    sweeper = asyncio.ensure_future(ring.sweep_forever())
    dials0 = links.stats.dials
    await asyncio.sleep(args.warmup)
    maint_dials = (links.stats.dials - dials0) / n / (args.warmup / 3600)

    async def put(owner: ChordNode, key: bytes) -> bool:
        for _ in range(5):  # as a node republishes its presence until it is stored
            try:
                await dhts[owner.me.id].put(key, b"here")
                return True
            except Exception:
                await asyncio.sleep(30)
        return False

    cands = rng.sample(nodes, min(args.gets, n))
    ckeys = [f"presence-{i}".encode() for i in range(len(cands))]
    stored = await asyncio.gather(*(put(o, k) for o, k in zip(cands, ckeys, strict=True)))
    owners = [o for o, ok in zip(cands, stored, strict=True) if ok]
    keys = [k for k, ok in zip(ckeys, stored, strict=True) if ok]
    await asyncio.sleep(60)

    ids = ring.sorted_ids()
    lat: list[float] = []
    cold: list[int] = []
    fails = 0

    async def one_lookup(_: int) -> None:
        nonlocal fails
        origin, key = rng.choice(nodes), rng.getrandbits(256)
        t0 = loop.time()
        try:
            res = await origin.lookup(key)
        except Exception:
            fails += 1
            return
        if res.owner.id != true_successor(ids, key):
            fails += 1
            return
        lat.append(loop.time() - t0)
        cold.append(res.cold_dials)

    await _paced(args.lookups, one_lookup)

    get_lat: list[float] = []
    first: list[float] = []
    get_fails = first_fails = 0

    async def one_get(i: int) -> None:
        nonlocal get_fails, first_fails
        target = owners[i % len(owners)]
        origin = rng.choice([x for x in nodes if not x.warm(target.me) and x is not target])
        t0 = loop.time()
        try:
            rec = await dhts[origin.me.id].get(keys[i % len(keys)])
            assert rec is not None
        except Exception:
            get_fails += 1
            return
        t1 = loop.time()
        get_lat.append(t1 - t0)
        try:  # the whisper itself: a call over a new session (20 s once it is open)
            await origin.rpc(target.me, PING, {}, 20.0, budget=20.0 + links.model.connect_timeout)
        except Exception:
            first_fails += 1
            return
        first.append(loop.time() - t0)

    await _paced(args.gets, one_get)
    per = links.per_node()
    circuits = [per.get(x.me.address, 0) for x in nodes]
    rec_lookups = sum(x.metrics.recursive_lookups for x in nodes)
    rec_fallbacks = sum(x.metrics.recursive_fallbacks for x in nodes)
    kept = [len(x.warm_peers()) for x in nodes]
    sweeper.cancel()
    await ring.stop()
    return {
        "lookup_p50": _q(lat, 0.5, fails),
        "lookup_p99": _q(lat, 0.99, fails),
        "cold_per_lookup": statistics.fmean(cold) if cold else float("nan"),
        "lookup_fail": fails,
        "get_p50": _q(get_lat, 0.5, get_fails),
        "get_fail": get_fails,
        "first_p50": _q(first, 0.5, get_fails + first_fails),
        "first_p99": _q(first, 0.99, get_fails + first_fails),
        "first_fail": first_fails,
        "circuits_mean": statistics.fmean(circuits),
        "circuits_max": max(circuits),
        "kept_mean": statistics.fmean(kept),
        "maint_dials_per_h": maint_dials,
        "puts_failed": len(cands) - len(owners),
        "fallback_share": rec_fallbacks / rec_lookups if rec_lookups else 0.0,
        "forwards_refused": sum(x.metrics.forwards_refused for x in nodes),
    }


async def converge(seed: int, cfg: ChordConfig) -> tuple[float, float]:
    """(seconds until the last of 256 joins into 64 completed, seconds from then to exact)."""
    loop = asyncio.get_running_loop()
    ring = SimRing(seed, cfg, serialize=False, tor=TorModel())
    ring.build_ideal(64)
    ring.open_warm_sessions()
    ring.start_timers()
    sweeper = asyncio.ensure_future(ring.sweep_forever())
    await ring.join(256, retry=10.0)
    joined = loop.time()
    while not ring.is_ideal() and loop.time() - joined < 7200:
        await asyncio.sleep(1.0)
    sweeper.cancel()
    await ring.stop()
    return joined, loop.time() - joined


COLUMNS = [
    ("lookup_p50", "lookup p50 s", ".1f"),
    ("lookup_p99", "lookup p99 s", ".1f"),
    ("cold_per_lookup", "cold dials/lookup", ".2f"),
    ("lookup_fail", "lookup fails", "d"),
    ("get_p50", "get p50 s", ".1f"),
    ("get_fail", "get fails", "d"),
    ("first_p50", "first whisper p50 s", ".1f"),
    ("first_p99", "first whisper p99 s", ".1f"),
    ("first_fail", "first fails", "d"),
    ("circuits_mean", "circuits/node mean", ".1f"),
    ("circuits_max", "circuits/node max", "d"),
    ("kept_mean", "kept warm/node", ".1f"),
    ("maint_dials_per_h", "maint. dials/node/h", ".1f"),
    ("puts_failed", "puts failed (5 tries)", "d"),
    ("fallback_share", "recursive fallbacks", ".3f"),
    ("forwards_refused", "forwards refused", "d"),
]
CONFIGS: dict[str, Callable[[], ChordConfig]] = {
    "baseline": ChordConfig.classic,
    "iterative": lambda: ChordConfig(recursive=False),
    "recursive": ChordConfig,
    # The same without the origin's owner check: what trusting the forwarders would save.
    "unverified": lambda: ChordConfig(verify_owner=False),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="*", default=[256, 1024, 4096])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--lookups", type=int, default=400)
    ap.add_argument("--gets", type=int, default=150)
    ap.add_argument("--warmup", type=float, default=1200.0)
    ap.add_argument("--converge", type=int, default=3, help="seeds of the join measurement")
    ap.add_argument(
        "--configs",
        nargs="*",
        choices=list(CONFIGS),
        default=["baseline", "iterative", "recursive"],
    )
    args = ap.parse_args()
    for n in args.sizes:
        res: dict[str, dict[str, Any]] = {}
        secs: dict[str, float] = {}
        for name in args.configs:
            t0 = time.perf_counter()
            res[name] = run_virtual(run(n, args.seed, CONFIGS[name](), args))
            secs[name] = time.perf_counter() - t0
        walls = ", ".join(f"{k} {v:.0f}" for k, v in secs.items())
        print(f"N = {n}  (wall seconds: {walls})")
        first, rest = args.configs[0], args.configs[1:]
        print(f"  {'measure':<22} " + " ".join(f"{c:>10}" for c in args.configs), end="")
        print("".join(f" {c[:4] + '/' + first[:4]:>10}" for c in rest))
        for key, label, fmt in COLUMNS:
            vals = [res[c][key] for c in args.configs]
            b = vals[0]
            cells = " ".join(f"{format(v, fmt):>10}" for v in vals)
            ratios = "".join(
                f" {v / b:>10.2f}" if b and math.isfinite(b) and math.isfinite(v) else f" {'-':>10}"
                for v in vals[1:]
            )
            print(f"  {label:<22} {cells}{ratios}", flush=True)
    print("256 concurrent joins into 64 (r = 12) on the model")
    for seed in range(args.seed, args.seed + args.converge):
        for name, cfg in (
            ("baseline", ChordConfig.classic(successors=12)),
            ("new", ChordConfig(successors=12)),
        ):
            joined, exact = run_virtual(converge(seed, cfg))
            print(
                f"  seed {seed} {name:<8} last join at {joined:7.1f} s; exact {exact:6.1f} s "
                f"later ({exact / 15:.1f} rounds)",
                flush=True,
            )


if __name__ == "__main__":
    main()
