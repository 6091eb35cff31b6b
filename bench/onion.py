"""Whisper round trip over the private Tor network vs the raw RTT of a plain tor stream, and the
time to join a ring over onion services.

Run: ``.venv/bin/python bench/onion.py [ROUNDS]``  (needs Debian's tor; ~1–2 minutes)

Baseline, measured in the same run between the same two tor processes: an echo onion service
on B's tor, reached through A's tor; 8-byte ping/pong on one stream. A whisper is measured from
``/whisper`` on A to the delivery receipt from B (one RPC over the pooled, authenticated,
encrypted session; presence cached). Goal: whisper ≤ 1.3 × raw.
Note: different onion services are reached over different rendezvous circuits, whose RTT can
differ (docs/benchmarks.md); rounds are interleaved to share the machine's noise.
"""

from __future__ import annotations

import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from ohtchat.app.node import ChatNode, NodeOptions
from ohtchat.chord.config import ChordConfig
from ohtchat.crypto.keys import NodeKey
from ohtchat.tor.testnet import Testnet
from ohtchat.transport.base import ByteStream
from ohtchat.transport.onion import OnionTransport

CHORD = ChordConfig(successors=4, rpc_timeout=20, stabilize_interval=1.0, fix_fingers_interval=0.5)


async def echo(stream: ByteStream) -> None:
    while data := await stream.read(4096):
        await stream.write(data)


def opts(net: Testnet, name: str, bootstrap: list[str]) -> NodeOptions:
    return NodeOptions(
        memory=True,
        transport="onion",
        tor_testnet=net.dir,
        bootstrap=bootstrap,
        name=name,
        chord=CHORD,
        join_retry=1.0,
        deliver_timeout=30,
    )


async def main(rounds: int) -> None:
    base = Path(tempfile.mkdtemp(prefix="oht-bench-"))
    nodes: list[ChatNode] = []
    try:
        async with Testnet.up(base / "net") as net:
            t = time.monotonic()
            first = await ChatNode.start(opts(net, "a", []), "")
            nodes.append(first)
            await first.ready(120)
            print(f"first node: tor + publish + create ring   {time.monotonic() - t:6.1f} s")
            joins = []
            for name in ("b", "c"):
                t = time.monotonic()
                n = await ChatNode.start(opts(net, name, [first.identity.onion]), "")
                nodes.append(n)
                await n.ready(180)
                joins.append(time.monotonic() - t)
            print(
                f"joining node: tor + publish + join ring   "
                f"{statistics.mean(joins):6.1f} s (mean of 2)"
            )
            a, b = nodes[0], nodes[1]
            await asyncio.sleep(3)
            for n in nodes:
                await n.chat.publish_presence()
            # The raw baseline: an echo onion service on B's tor.
            echo_key = NodeKey()
            listener = await OnionTransport(b.tor, echo_key, socket_dir=base).listen(echo)
            await listener.wait_published()
            raw_stream = await OnionTransport(a.tor, socket_dir=base).connect(echo_key.onion)
            b_id = b.account.account_id
            await a.chat.whisper(b_id, "warm-up")  # presence lookup + session set-up
            raw, whisper = [], []
            for i in range(rounds):
                t0 = time.perf_counter()
                await raw_stream.write(b"ping....")
                await raw_stream.readexactly(8)
                raw.append((time.perf_counter() - t0) * 1000)
                t0 = time.perf_counter()
                msg = await a.chat.whisper(b_id, f"bench {i}")
                whisper.append((time.perf_counter() - t0) * 1000)
                assert str(msg.state) == "delivered", msg.state
            r, w = statistics.median(raw), statistics.median(whisper)
            print(f"raw tor stream RTT      median {r:7.1f} ms  p90 {_p90(raw):7.1f} ms")
            print(f"whisper → receipt       median {w:7.1f} ms  p90 {_p90(whisper):7.1f} ms")
            print(f"ratio (median)          {w / r:7.2f}×   (goal ≤ 1.3×)")
            await raw_stream.close()
    finally:
        await asyncio.gather(*(n.stop() for n in nodes), return_exceptions=True)
        shutil.rmtree(base, ignore_errors=True)


def _p90(xs: list[float]) -> float:
    return sorted(xs)[int(0.9 * (len(xs) - 1))]


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 50))
