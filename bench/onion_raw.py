"""Raw onion stream cost on a private Tor network: network up, bootstrap, publish, connect, RTT.

Baseline: the same echo server reached directly over its unix socket in the same run.
Run: .venv/bin/python bench/onion_raw.py [ROUNDS]
"""

from __future__ import annotations

import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from ohtchat.crypto.keys import NodeKey
from ohtchat.tor.process import TorProcess
from ohtchat.tor.testnet import Testnet
from ohtchat.transport.base import ByteStream
from ohtchat.transport.onion import OnionTransport, SocketStream


async def echo(stream: ByteStream) -> None:
    while data := await stream.read(4096):
        await stream.write(data)


async def rtts(stream: ByteStream, rounds: int) -> list[float]:
    out = []
    for _ in range(rounds):
        t = time.perf_counter()
        await stream.write(b"ping....")
        await stream.readexactly(8)
        out.append((time.perf_counter() - t) * 1000)
    return out


async def main(rounds: int) -> None:
    base = Path(tempfile.mkdtemp(prefix="oht-bench-"))
    try:
        t = time.monotonic()
        async with Testnet.up(base / "net") as net:
            print(f"network up            {time.monotonic() - t:6.1f} s")
            a = TorProcess.launch(net.client_config(base / "a"))
            b = TorProcess.launch(net.client_config(base / "b"))
            t = time.monotonic()
            await asyncio.gather(a.start(), b.start())
            await asyncio.gather(a.wait_ready(90), b.wait_ready(90))
            print(f"client bootstrap      {time.monotonic() - t:6.1f} s")
            listener = await OnionTransport(a, NodeKey()).listen(echo)
            t = time.monotonic()
            await listener.wait_published(30, 2)
            print(f"published             {time.monotonic() - t:6.2f} s")
            t = time.monotonic()
            stream = await OnionTransport(b).connect(listener.address)
            print(f"first connect         {time.monotonic() - t:6.2f} s")
            onion = statistics.median(await rtts(stream, rounds))
            reader, writer = await asyncio.open_unix_connection(str(listener.service.target))
            plain = SocketStream(reader, writer, "direct")
            direct = statistics.median(await rtts(plain, rounds))
            await plain.close()
            print(f"RTT direct unix       {direct:6.3f} ms (baseline)")
            print(f"RTT onion stream      {onion:6.3f} ms  = {onion / direct:.0f}x baseline")
            await stream.close()
            await listener.close()
            await a.stop()
            await b.stop()
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 50))
