"""Store benchmark: 100 000 messages in 50 conversations.

Measures append latency (p50/p99/max) at 10k, 50k and 100k stored messages, cold open,
a page of history and full-text search, next to baselines measured in the same run:
a raw ``os.write`` + ``fdatasync`` of the same record size (the floor of a durable
append), the same write without the fdatasync (what fsync costs), and a plain JSON
TinyDB (insert at 10k documents; search over the same 100k messages in memory).

Run: ``.venv/bin/python bench/store.py`` (``--messages 20000`` for a quick run).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tinydb import Query, TinyDB
from tinydb.storages import MemoryStorage

from ohtchat.store import KdfParams, Message, MessageState, Store
from ohtchat.store.sealing import derive_key, new_salt

WORDS = (  # noqa: SIM905 (a word list reads better as text)
    "the a and to of in it is you that he was for on are with as his they be at one have "
    "this from or had by hot word but what some we can out other were all there when up use "
    "your how said an each she which do their time if will way about many then them write "
    "would like so these her long make thing see him two has look more day could go come did "
    "number sound no most people my over know water than call first who may down side been now"
).split()
RARE = "xylophonequartz"


def pct(samples: list[float], q: float) -> float:
    """The q-quantile (0..1) of a list of seconds, in milliseconds."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1e3


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    """Wall times of ``runs`` calls of ``fn``."""
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def make_message(i: int, rng: random.Random, n_conv: int) -> Message:
    words = [rng.choice(WORDS) for _ in range(rng.randint(4, 30))]
    if i % 9973 == 0:
        words.insert(rng.randrange(len(words)), RARE)  # ~10 matches in 100k
    state = MessageState.RECEIVED if i % 2 else MessageState.DELIVERED
    return Message(
        f"m{i:07d}", f"conv-{i % n_conv:02d}", f"sender-{i % 7}", " ".join(words), 1.7e9 + i, state
    )


def raw_baseline(directory: Path, size: int, runs: int, sync: bool) -> list[float]:
    """os.write (+ fdatasync) of ``size`` bytes to an append-only file."""
    path = directory / ("raw-sync" if sync else "raw-nosync")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    blob = os.urandom(size)
    out = []
    try:
        for _ in range(runs):
            t = time.perf_counter()
            os.write(fd, blob)
            if sync:
                os.fdatasync(fd)
            out.append(time.perf_counter() - t)
    finally:
        os.close(fd)
    return out


def row(label: str, samples: list[float], base_p99: float | None = None) -> str:
    p50, p99, mx = pct(samples, 0.5), pct(samples, 0.99), max(samples) * 1e3
    ratio = f"{p99 / base_p99:5.2f}x" if base_p99 else "    -"
    return f"| {label:<36} | {p50:7.3f} | {p99:7.3f} | {mx:8.2f} | {ratio} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--conversations", type=int, default=50)
    parser.add_argument("--dir", type=Path, default=None, help="where to create the store")
    args = parser.parse_args()
    n, n_conv = args.messages, args.conversations
    rng = random.Random(7)
    work = Path(tempfile.mkdtemp(prefix="ohtchat-bench-", dir=args.dir))
    try:
        run(work, n, n_conv, rng)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(work: Path, n: int, n_conv: int, rng: random.Random) -> None:
    msgs = [make_message(i, rng, n_conv) for i in range(n)]
    avg_text = statistics.mean(len(m.text) for m in msgs)
    record = int(avg_text) + 120  # msgpack doc + nonce, tag and frame
    raw_nosync = raw_baseline(work, record, 3000, sync=False)

    kdf = KdfParams.default()
    store = Store.create(work / "data", "bench passphrase", kdf=kdf)
    # The baseline (raw write + fdatasync of the same size) is interleaved with the
    # appends, one sample per 10 appends, so both see the same disk and the same noise.
    raw_fd = os.open(work / "raw-sync", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    blob = os.urandom(record)
    lat: list[float] = []
    raw_sync: list[float] = []
    for i, m in enumerate(msgs):
        t = time.perf_counter()
        store.append_message(m)
        lat.append(time.perf_counter() - t)
        if i % 10 == 0:
            t = time.perf_counter()
            os.write(raw_fd, blob)
            os.fdatasync(raw_fd)
            raw_sync.append(time.perf_counter() - t)
    os.close(raw_fd)
    t = time.perf_counter()
    store.close()
    t_close = time.perf_counter() - t
    base = pct(raw_sync, 0.99)

    print(f"\n{n} messages, {n_conv} conversations, avg text {avg_text:.0f} chars")
    print("\n| append latency (ms)                  | p50     | p99     | max      | p99/raw |")
    print("|---|---|---|---|---|")
    print(row(f"raw write+fdatasync {record} B (base)", raw_sync, base))
    print(row(f"raw write, no fsync {record} B", raw_nosync, base))
    window = max(1, min(5000, n // 10))
    for mark in (10_000, 50_000, 100_000):
        if mark <= n:
            # Each window is compared with the raw samples taken during that same window.
            near = raw_sync[(mark - window) // 10 : mark // 10]
            print(row("raw write+fdatasync, same window", near, pct(near, 0.99)))
            label = f"store append, msgs {mark - window}-{mark}"
            print(row(label, lat[mark - window : mark], pct(near, 0.99)))
    print(row("store append, all", lat, base))
    slow = sorted(lat)[-(n // 2000 + 1) :]
    print(
        f"\nslowest {len(slow)} appends (the compactions, one per 2000): "
        f"{min(slow) * 1e3:.0f}-{max(slow) * 1e3:.0f} ms; close (final compaction) "
        f"{t_close * 1e3:.0f} ms"
    )

    t_kdf = timed(lambda: derive_key("x", new_salt(), kdf), 3)
    t0 = time.perf_counter()
    store = Store.open(work / "data", "bench passphrase")
    t_open = time.perf_counter() - t0
    files = list((work / "data").iterdir())
    size = sum(p.stat().st_size for p in files)
    print(
        f"\ncold open: {t_open * 1e3:.0f} ms "
        f"(of which Argon2id {statistics.median(t_kdf) * 1e3:.0f} ms),"
    )
    print(f"  {len(files)} files, {size / 1e6:.1f} MB on disk, {store.message_count()} messages")

    conv = "conv-07"
    mid = store.history(conv, 1, before=None)[0]
    deep = store.history(conv, n // n_conv // 2)[-1].msg_id
    print("\n| query (ms)                           | p50     | p99     | max      |")
    print("|---|---|---|---|")
    for label, fn, runs in [
        ("history: newest page of 50", lambda: store.history(conv, 50), 500),
        ("history: page of 50 mid-history", lambda: store.history(conv, 50, before=deep), 500),
        ("unread_counts()", store.unread_counts, 200),
        (f"search rare word ({RARE})", lambda: store.search(RARE), 20),
        ("search common word, limit 100", lambda: store.search("water"), 50),
        ("search two words + sender", lambda: store.search("hot day", sender="sender-3"), 20),
        (
            "search date range, 1 conversation",
            lambda: store.search(
                since=mid.timestamp - n / 2, until=mid.timestamp, conversation=conv
            ),
            20,
        ),
    ]:
        s = timed(fn, runs)
        print(f"| {label:<36} | {pct(s, 0.5):7.3f} | {pct(s, 0.99):7.3f} | {max(s) * 1e3:8.2f} |")
    hits = len(store.search(RARE))
    t_search = statistics.median(timed(lambda: store.search(RARE), 20))
    store.close()

    # Baselines: plain JSON TinyDB.
    plain = TinyDB(work / "plain.json")
    table = plain.table("messages")
    table.insert_multiple({"i": m.msg_id, "t": m.text} for m in msgs[: min(n, 10_000)])
    ins = timed(lambda: table.insert({"i": "x", "t": "y"}), 10)
    plain.close()
    mem = TinyDB(storage=MemoryStorage).table("messages", cache_size=0)
    mem.insert_multiple({"i": m.msg_id, "t": m.text, "s": m.sender} for m in msgs)
    q = Query()
    t_tiny = statistics.median(timed(lambda: mem.search(q.t.search(RARE)), 3))
    print(
        f"\nplain JSON TinyDB insert at 10k docs: p50 {pct(ins, 0.5):.1f} ms "
        f"({pct(ins, 0.5) / pct(lat, 0.5):.0f}x the store's append p50)"
    )
    print(
        f"plain TinyDB (memory) regex search, {n} msgs: {t_tiny * 1e3:.0f} ms; "
        f"store search: {t_search * 1e3:.1f} ms "
        f"(TinyDB/store = {t_tiny / t_search:.1f}x, {hits} hits)"
    )
    print(
        f"fsync share of a durable append (p50): "
        f"{(pct(raw_sync, 0.5) - pct(raw_nosync, 0.5)) / pct(lat, 0.5) * 100:.0f}%"
    )


if __name__ == "__main__":
    main()
