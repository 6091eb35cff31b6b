"""The store's crash test at full strength: 100 rounds of SIGKILL at random moments.

A child process appends messages (printing each id once ``append_message`` returned)
and is killed with SIGKILL after a random delay; after each kill the store must open and
hold every reported message. The test suite runs the same code for 20 rounds.

Run: ``.venv/bin/python bench/store_crash.py [--rounds 100] [--seed N]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TEST = HERE.parent / "tests" / "store" / "test_store_crash.py"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--seed", type=int, default=random.randrange(1 << 30))
    args = parser.parse_args()
    spec = importlib.util.spec_from_file_location("store_crash_test", TEST)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with tempfile.TemporaryDirectory(prefix="ohtchat-crash-") as tmp:
        t = time.perf_counter()
        verified = module.run_crash_rounds(Path(tmp), args.rounds, args.seed)
        elapsed = time.perf_counter() - t
    print(
        f"{args.rounds} SIGKILL rounds (seed {args.seed}): all {verified} reported messages "
        f"survived; {elapsed:.1f} s"
    )


if __name__ == "__main__":
    main()
