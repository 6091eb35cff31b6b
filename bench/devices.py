"""What several devices per account cost, over loopback TCP, against baselines of the same run.

1. **Fan-out.** bob whispers to alice while alice runs on 1, then 2, then 3 devices: the time
   from the whisper to the delivered result (every device receipted it, each through its own
   double ratchet), as a ratio to the one-device time measured in the same run.
2. **Linking.** The time from ``/link`` to the new device running as the account (the proof,
   the typed digits, the bundle, the stack restart), reported as is (no baseline: it is a
   one-off, human-paced step).
3. **History.** ``/fetchhistory`` of N messages from another device (pages over the session,
   validated, stored once each), against appending the same N messages to a fresh store on the
   same disk (the floor: what storing them costs without the network).

Run: .venv/bin/python bench/devices.py [WHISPERS] [HISTORY]     (defaults: 40, 2000)
"""

from __future__ import annotations

import asyncio
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from ohtchat.api.constants import LINK_TOPIC
from ohtchat.api.device_ops import JoinLink
from ohtchat.api.events import LogEvent
from ohtchat.app.node import ChatNode, NodeOptions
from ohtchat.chord.config import ChordConfig
from ohtchat.dht.config import DhtConfig
from ohtchat.store import Message, MessageState, Store
from ohtchat.store.sealing import KdfParams

PASS = "bench passphrase"
CHORD = ChordConfig(
    rpc_timeout=5.0,
    stabilize_interval=0.2,
    check_predecessor_interval=0.5,
    fix_fingers_interval=0.2,
)


def options(data: Path, name: str, bootstrap: list[str]) -> NodeOptions:
    """A fast node on loopback TCP with a disk store in ``data``."""
    return NodeOptions(
        data_dir=data,
        transport="tcp",
        bootstrap=bootstrap,
        name=name,
        create_if_missing=True,
        chord=CHORD,
        dht=DhtConfig(rpc_timeout=3.0, maintain_interval=1.0),
        kdf=KdfParams.minimum(),
        heartbeat_interval=5.0,
        mailbox_interval=5.0,
        join_retry=0.5,
        deliver_timeout=10.0,
    )


async def until(check: object, what: str, within: float = 120.0) -> object:
    """Poll ``check`` (sync or async) until truthy, for at most ``within`` seconds."""
    end = time.monotonic() + within
    while time.monotonic() < end:
        value = check() if callable(check) else check
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        await asyncio.sleep(0.1)
    raise TimeoutError(what)


async def link(primary: ChatNode, fresh: ChatNode, name: str) -> float:
    """Link ``fresh`` to ``primary``'s account as a user does; seconds it took."""
    shown: list[str] = []

    async def watch() -> None:
        async for event in fresh.events():
            if isinstance(event, LogEvent) and event.topic == LINK_TOPIC:
                shown.append(event.text)

    watcher = asyncio.create_task(watch())
    start = time.perf_counter()
    code = (await primary.execute("/link")).data["code"]
    joining = asyncio.create_task(fresh.call(JoinLink(code, name)))
    found = await until(
        lambda: next((m for t in shown if (m := re.search(r"\d{3} \d{3}", t))), None), "digits"
    )
    assert isinstance(found, re.Match)
    assert (await primary.execute(f"/link confirm {found.group(0).replace(' ', '')}")).ok
    assert (await joining).ok
    await fresh.ready(120)
    watcher.cancel()
    return time.perf_counter() - start


async def whisper_times(bob: ChatNode, to: str, count: int, devices: int) -> list[float]:
    """Seconds per whisper from bob to ``to`` until delivered to ``devices`` devices."""
    times = []
    for i in range(count):
        start = time.perf_counter()
        r = await bob.execute(f"/whisper {to} bench {devices}/{i}")
        times.append(time.perf_counter() - start)
        # The receiver's per-sender bucket refills at 2 items per second (burst 30): stay
        # under it, or whispers go to the mailbox and the bench measures the rate limit.
        await asyncio.sleep(0.6)
        assert r.ok and len(r.data["devices"]) == devices, r.text
    return times


async def history_vs_store(a1: ChatNode, a2: ChatNode, base: Path, count: int) -> None:
    """Fetch ``count`` messages a1 holds onto a2, against appending them to a fresh store."""
    conv = "ab" * 32
    msgs = [
        Message(f"{i:032x}", conv, conv, f"history message {i}", 1.7e9 + i, MessageState.RECEIVED)
        for i in range(count)
    ]
    for m in msgs:
        a1.store.append_message(m)
    floor = Store.create(base / "floor", PASS, kdf=KdfParams.minimum())
    start = time.perf_counter()
    for m in msgs:
        floor.append_message(m)
    raw = time.perf_counter() - start
    floor.close()
    start = time.perf_counter()
    r = await a2.execute(f"/fetchhistory alice {count}")  # a1's device is named after it
    fetched = time.perf_counter() - start
    assert r.ok, r.text
    print(
        f"history: {count} messages fetched in {fetched:.2f} s ({count / fetched:.0f}/s); "
        f"appending them to a fresh store: {raw:.2f} s ({count / raw:.0f}/s); "
        f"ratio {fetched / raw:.2f}x"
    )


async def main(count: int, history: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        a1 = await ChatNode.start(options(base / "a1", "alice", []), PASS)
        seed = [a1.listener.address]
        bob = await ChatNode.start(options(base / "bob", "bob", seed), PASS)
        nodes = [a1, bob]
        try:
            await asyncio.gather(a1.ready(120), bob.ready(120))
            a_id = a1.account.account_id
            await until(lambda: bob.chat.devices.presences(a_id, fresh=True), "a1 found")
            medians = {}
            for devices in (1, 2, 3):
                if devices > 1:
                    fresh = await ChatNode.start(
                        options(base / f"a{devices}", f"linking-{devices}", seed), PASS
                    )
                    nodes.append(fresh)
                    await fresh.ready(120)
                    took = await link(a1, fresh, f"device{devices}")
                    print(f"link device {devices}: {took:.2f} s from /link to running")

                    async def listed(n: int = devices) -> bool:
                        return len(await bob.chat.devices.presences(a_id, fresh=True)) == n

                    await until(listed, f"bob finds {devices} devices")
                await whisper_times(bob, a_id, 3, devices)  # warm: sessions, ratchets
                times = await whisper_times(bob, a_id, count, devices)
                medians[devices] = statistics.median(times)
                ratio = medians[devices] / medians[1]
                print(
                    f"whisper to {devices} device(s): median {medians[devices] * 1000:.1f} ms, "
                    f"p90 {statistics.quantiles(times, n=10)[-1] * 1000:.1f} ms, "
                    f"ratio to 1 device {ratio:.2f}x"
                )
            await history_vs_store(a1, nodes[2], base, history)
        finally:
            for n in nodes:
                await n.stop()


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    asyncio.run(main(*(args + [40, 2000][len(args) :])))
