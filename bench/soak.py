"""Run the README's test command again and again while bench/burn.py keeps every core busy.

    python3 bench/soak.py [--runs 10] [--log soak.log] [-- PYTEST ARGS]

This is how "no flaky tests" is proven: the whole suite (lint, types, import contracts,
pytest) must pass ``--runs`` times in a row under load. Stops at the first failure. Prints one
line per run (exit code, wall seconds, pytest's summary line) and a summary; with ``--log`` the
complete output of every run is appended to that file. Standard library only.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUMMARY = re.compile(r"=+ (.*(passed|failed|error).*) =+")


def run_once(extra: list[str], log: Path | None) -> tuple[int, float, str]:
    """One run of ``python3 -m ohtchat.bootstrap test``: (exit code, seconds, pytest summary)."""
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "ohtchat.bootstrap", "test", "-p", "no:cacheprovider", *extra],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.monotonic() - start
    output = done.stdout + done.stderr
    if log is not None:
        with log.open("a", encoding="utf-8") as fp:
            fp.write(output)
    found = SUMMARY.findall(output)
    return done.returncode, seconds, found[-1][0] if found else "(no pytest summary)"


def main(argv: list[str] | None = None) -> int:
    """Start the burner, run the suite ``--runs`` times, stop the burner; 0 if all passed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--log", type=Path, default=None)
    parser.add_argument("--no-burn", action="store_true", help="run without the CPU load")
    parser.add_argument("pytest_args", nargs="*")
    args = parser.parse_args(argv)
    burner = None
    if not args.no_burn:
        burner = subprocess.Popen([sys.executable, str(ROOT / "bench" / "burn.py")])
    times: list[float] = []
    try:
        for i in range(1, args.runs + 1):
            code, seconds, summary = run_once(args.pytest_args, args.log)
            times.append(seconds)
            print(f"run {i}/{args.runs}: exit {code} in {seconds:.0f} s: {summary}", flush=True)
            if code != 0:
                print(f"FAILED on run {i}; {i - 1} passed in a row", flush=True)
                return 1
    finally:
        if burner is not None:
            burner.terminate()
            burner.wait()
    load = "with every core busy" if burner else "without load"
    print(
        f"all {args.runs} runs passed {load}: {min(times):.0f}–{max(times):.0f} s per run,"
        f" {sum(times) / len(times):.0f} s mean",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
