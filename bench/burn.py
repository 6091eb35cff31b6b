"""Keep every core busy: the load under which the test suite must still pass (no flaky tests).

    python3 bench/burn.py [--procs N] [--seconds S]

Starts N busy-looping processes (default: one per core) and runs until killed (SIGTERM/Ctrl-C)
or for S seconds. Standard library only, so it runs before the virtualenv exists. bench/soak.py
starts it beside the test suite.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import signal
import sys
import time


def _spin(stop_at: float) -> None:
    """Burn one core with integer work until ``stop_at`` (monotonic seconds; 0 = never)."""
    x = 0
    while not stop_at or time.monotonic() < stop_at:
        for i in range(100_000):
            x = (x * 31 + i) % 1_000_003


def main(argv: list[str] | None = None) -> int:
    """Start the burners and wait for them (or for a signal, which stops them all)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--procs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--seconds", type=float, default=0.0, help="0: until killed")
    args = parser.parse_args(argv)
    stop_at = time.monotonic() + args.seconds if args.seconds else 0.0
    procs = [
        multiprocessing.Process(target=_spin, args=(stop_at,), daemon=True)
        for _ in range(args.procs)
    ]
    for p in procs:
        p.start()

    def _stop(*_: object) -> None:
        for p in procs:
            p.terminate()
        sys.exit(0)

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    print(f"burning {args.procs} cores (pid {os.getpid()})", flush=True)
    for p in procs:
        p.join()
    return 0


if __name__ == "__main__":
    sys.exit(main())
