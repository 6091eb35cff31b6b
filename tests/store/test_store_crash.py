"""SIGKILL a process that is appending messages at random moments; nothing reported is lost.

Runs 20 rounds here (``OHTCHAT_CRASH_ROUNDS`` overrides); ``bench/store_crash.py`` runs 100.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from ohtchat.store import MessageState, Store

CHILD = Path(__file__).with_name("crash_child.py")
PASS = "crash test passphrase"


def crash_round(data_dir: Path, prefix: str, delay: float, compact_every: int) -> list[str]:
    """Start the child, SIGKILL it after ``delay`` s; return the ids it reported stored."""
    proc = subprocess.Popen(
        [sys.executable, str(CHILD), str(data_dir), PASS, prefix, str(compact_every)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL, f"child ended on its own: {err.decode()[-2000:]}"
    lines = out.decode().split("\n")[:-1]  # the last piece may be a torn line
    return [line for line in lines if line != "ready"]


def check_store(data_dir: Path, reported: list[str], rng: random.Random) -> int:
    store = Store.open(data_dir, PASS)
    try:
        for msg_id in reported:
            msg = store.get_message(msg_id)
            assert msg.text == f"body of {msg_id}"
            index = int(msg_id.rsplit("-", 1)[1])
            if index % 4 == 0 and store.has_message(msg_id):
                assert msg.state in (MessageState.SENDING, MessageState.DELIVERED)
        return store.message_count()
    finally:
        if rng.random() < 0.5:
            store.close()  # compacts
        else:
            store._backend.close()  # like a crash: leave the journal as it is


def run_crash_rounds(base: Path, rounds: int, seed: int, max_delay: float = 0.6) -> int:
    """The crash experiment; returns how many reported messages were verified."""
    rng = random.Random(seed)
    data_dir = base / "data"
    verified: list[str] = []
    for r in range(rounds):
        # Small compaction intervals so kills also land inside compactions.
        reported = crash_round(data_dir, f"r{r}", rng.uniform(0.05, max_delay), rng.choice([7, 50]))
        verified += reported
        if not data_dir.exists():
            continue  # killed before the store was even created
        count = check_store(data_dir, verified, rng)
        assert count >= len(verified)
    return len(verified)


def test_sigkill_never_loses_a_reported_message(tmp_path: Path) -> None:
    rounds = int(os.environ.get("OHTCHAT_CRASH_ROUNDS", "20"))
    seed = int(os.environ.get("OHTCHAT_CRASH_SEED", str(random.randrange(1 << 30))))
    print(f"crash test seed {seed}")
    total = run_crash_rounds(tmp_path, rounds, seed)
    assert total > 0  # the child did get to store messages
