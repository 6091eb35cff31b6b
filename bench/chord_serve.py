"""Real ``ohtchat --serve`` processes on loopback TCP: ring convergence and idle memory.

    python bench/chord_serve.py [--nodes 8] [--idle 60]

Starts ``--nodes`` served nodes at once (node 0 creates the ring, the others bootstrap through
it while it is still starting), twice: **baseline** with a ``config.toml`` that restores the
Chord maintenance before issue 14 (``fast_rounds = 0``, ``stabilize_walk = 1``,
``stabilize_on_join = false``, ``successor_hints = false``, ``prefer_warm = false``,
``dial_timeout = 0``), and **new** with no config file (the defaults). Printed for each: seconds
from the start until every node is a ring member, and until every successor is right (read
with ``ohtchat cmd --json /successor``, as a user would), with the ratio new/baseline.
For the new run it then lets the nodes idle ``--idle`` seconds and prints each process's
resident memory (``VmRSS`` from ``/proc/PID/status``): mean and max.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PASS = "bench passphrase"
BASELINE = """\
[chord]
fast_rounds = 0
stabilize_walk = 1
stabilize_on_join = false
successor_hints = false
prefer_warm = false
dial_timeout = 0.0
"""


def free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [int(s.getsockname()[1]) for s in socks]
    for s in socks:
        s.close()
    return ports


def cmd(data: Path, line: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "ohtchat.cli", "cmd", "--json", "--data-dir", str(data), line],
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    try:
        reply: dict[str, Any] = json.loads(out)
    except ValueError:
        return {"ok": False}
    return reply


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def run(n: int, config: str | None, idle: float) -> dict[str, float]:
    root = Path(tempfile.mkdtemp(prefix="chordserve"))
    ports = free_ports(n)
    procs: list[subprocess.Popen[bytes]] = []
    dirs = [root / f"n{i}" for i in range(n)]
    t0 = time.monotonic()
    for i, d in enumerate(dirs):
        d.mkdir()
        if config:
            (d / "config.toml").write_text(config)
        argv = [sys.executable, "-m", "ohtchat.cli", "--serve", "--transport", "tcp"]
        argv += ["--listen", f"127.0.0.1:{ports[i]}", "--data-dir", str(d), "--name", f"b{i}"]
        argv += ["--bootstrap", f"127.0.0.1:{ports[0]}"] if i else []
        with open(root / f"n{i}.log", "ab") as err:
            procs.append(
                subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=err,
                    env={**os.environ, "OHTCHAT_PASSPHRASE": PASS},
                )
            )
    out: dict[str, float] = {}
    try:
        ids: dict[int, str] = {}
        while len(ids) < n:
            for i, d in enumerate(dirs):
                if i not in ids and (d / "control.sock").exists():
                    st = cmd(d, "/status")
                    if st.get("ok") and st["data"]["member"]:
                        ids[i] = st["data"]["node_id"]
            time.sleep(0.2)
        out["members"] = time.monotonic() - t0
        order = sorted(ids.values())
        want = {i: order[(order.index(x) + 1) % n] for i, x in ids.items()}
        while True:
            got = {
                i: ((cmd(d, "/successor").get("data") or {}).get("successor") or {}).get("id")
                for i, d in enumerate(dirs)
            }
            if got == want:
                break
            time.sleep(0.2)
        out["exact"] = time.monotonic() - t0
        if idle > 0:
            time.sleep(idle)
            rss = [rss_kib(p.pid) / 1024 for p in procs]
            out["rss_mean"] = sum(rss) / len(rss)
            out["rss_max"] = max(rss)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=8)
    ap.add_argument("--idle", type=float, default=60.0)
    args = ap.parse_args()
    base = run(args.nodes, BASELINE, 0)
    new = run(args.nodes, None, args.idle)
    print(f"{args.nodes} served nodes on tcp, started together")
    print(f"  {'measure':<36} {'baseline':>9} {'new':>9} {'new/base':>9}")
    for d in (base, new):
        d["after"] = d["exact"] - d["members"]
    for key, label in (
        ("members", "s until all are members"),
        ("exact", "s until every successor right"),
        ("after", "  of which after all were members"),
    ):
        print(f"  {label:<36} {base[key]:>9.1f} {new[key]:>9.1f} {new[key] / base[key]:>9.2f}")
    print(
        f"  idle RSS per node after {args.idle:.0f} s (MiB): mean {new['rss_mean']:.1f}, "
        f"max {new['rss_max']:.1f} (goal <= 80)"
    )


if __name__ == "__main__":
    main()
