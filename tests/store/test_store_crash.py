"""SIGKILL a process that is appending messages at random moments; nothing reported is lost.

Runs 20 rounds here (``OHTCHAT_CRASH_ROUNDS`` overrides); ``bench/store_crash.py`` runs 100.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from ohtchat.store import MessageState, Store

CHILD = Path(__file__).with_name("crash_child.py")
PASS = "crash test passphrase"


def crash_round(
    data_dir: Path, prefix: str, delay: float, compact_every: int, from_start: bool = False
) -> list[str]:
    """Start the child, SIGKILL it ``delay`` s later; return the ids it reported stored.

    The delay counts from the child's first stored message, so every such round kills it
    amid appends and compactions however slowly a loaded machine starts Python; with
    ``from_start`` it counts from the spawn instead (the kill may land in start-up, in
    opening the store or in replaying its journal).
    """
    proc = subprocess.Popen(
        [sys.executable, str(CHILD), str(data_dir), PASS, prefix, str(compact_every)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    lines: list[bytes] = []
    stored = threading.Event()  # "ready" and a first id came (or the child ended)
    stdout = proc.stdout

    def read() -> None:
        for line in stdout:
            lines.append(line)
            if len(lines) >= 2:
                stored.set()
        stored.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        # (A bounded event wait, not tests/waiting.py: bench/store_crash.py loads this module
        # outside pytest, where the tests package is not importable.)
        if not from_start:
            assert stored.wait(60), "the child stored no message within 60 s"
        time.sleep(delay)  # the scenario: a kill at a random moment, not a wait for a result
    finally:
        proc.send_signal(signal.SIGKILL)
    proc.wait(60)
    reader.join(60)
    err = proc.stderr.read()
    assert proc.returncode == -signal.SIGKILL, f"child ended on its own: {err.decode()[-2000:]}"
    # Only whole lines: the last one may be torn by the kill.
    complete = [line.decode().removesuffix("\n") for line in lines if line.endswith(b"\n")]
    return [line for line in complete if line != "ready"]


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
        # Small compaction intervals so kills also land inside compactions; one round in four
        # kills at a moment counted from the spawn (inside start-up, open or journal replay).
        reported = crash_round(
            data_dir,
            f"r{r}",
            rng.uniform(0.05, max_delay),
            rng.choice([7, 50]),
            from_start=r % 4 == 1,
        )
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
