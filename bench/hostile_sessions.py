"""Honest handshakes under session exhaustion attacks (issue 19, item 1), over real TCP.

    .venv/bin/python -m bench.hostile_sessions [--loris 20] [--flood 300]

One node (a :class:`SessionPool` with default limits) on 127.0.0.1. First ``--loris``
slow-loris connections (a frame header, then one byte per second) are opened and an honest
peer's fresh handshake + one request is timed. Then ``--flood`` authenticated sessions from
fresh identities are opened (more than the node's 256) and a new honest peer's handshake +
request is timed again, and whether a peer that was talking before the flood kept its session.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
from typing import Any

from ohtchat.crypto.keys import AccountKey
from ohtchat.session.identity import NodeIdentity
from ohtchat.session.pool import SessionPool
from ohtchat.session.session import Session, initiate
from ohtchat.transport.base import ByteStream
from ohtchat.transport.tcp import TcpTransport
from ohtchat.wire.frames import HEADER


def make_identity() -> NodeIdentity:
    """A fresh account and node identity: free, which is what the attacks rely on."""
    return NodeIdentity.create(AccountKey(), int(time.time()))


async def _echo(peer: Any, method: str, params: Any) -> dict[str, Any]:
    return {}


async def _loris(stream: ByteStream) -> None:
    with contextlib.suppress(Exception):
        await stream.write(HEADER.pack(4000))
        while not stream.closed:
            await asyncio.sleep(1.0)
            await stream.write(b"\x00")


async def _honest(address: str, onion: str) -> tuple[float, str]:
    pool = SessionPool(TcpTransport(), make_identity(), _echo, handshake_timeout=60)
    start = time.perf_counter()
    try:
        await pool.request(address, onion, "echo", {}, timeout=60)
        return time.perf_counter() - start, "ok"
    except Exception as exc:
        return time.perf_counter() - start, f"failed: {exc}"
    finally:
        await pool.close()


async def _fresh_session(address: str, onion: str) -> Session | None:
    stream = await TcpTransport().connect(address)
    try:
        return await initiate(stream, make_identity(), onion, timeout=30)
    except Exception:
        return None


async def main(loris: int, flood: int) -> None:
    """Run both attacks against one node and print the honest peers' figures."""
    me = make_identity()
    node = SessionPool(TcpTransport(), me, _echo)
    await node.listen("127.0.0.1:0")
    address = node.listen_address
    assert address is not None
    base, status = await _honest(address, me.onion)
    print(f"honest handshake+request, no attack: {base:.3f} s ({status})")

    streams = [await TcpTransport().connect(address) for _ in range(loris)]
    drips = [asyncio.ensure_future(_loris(s)) for s in streams]
    await asyncio.sleep(0.5)  # let the node accept them (this is a measurement, not a test)
    took, status = await _honest(address, me.onion)
    print(f"honest handshake+request, {loris} slow-loris pending: {took:.3f} s ({status})")
    for task in drips:
        task.cancel()
    for s in streams:
        await s.close()

    talking = SessionPool(TcpTransport(), make_identity(), _echo)
    await talking.request(address, me.onion, "echo", {}, timeout=30)
    start = time.perf_counter()
    sessions = [await _fresh_session(address, me.onion) for _ in range(flood)]
    opened = sum(s is not None for s in sessions)
    spent = time.perf_counter() - start
    print(f"flood: {opened}/{flood} sessions from fresh identities opened in {spent:.1f} s")
    took, status = await _honest(address, me.onion)
    print(f"new honest peer after the flood: {took:.3f} s ({status})")
    kept = talking.sessions() and not talking.sessions()[0].closed
    print(f"peer talking before the flood kept its session: {bool(kept)}")
    evicted = getattr(node, "evicted", "n/a")  # the pool before issue 19 did not evict
    print(f"node: sessions {len(node.sessions())}, evicted {evicted}, refused {node.refused}")
    for session in sessions:
        if session is not None:
            await session.close()
    await talking.close()
    await node.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loris", type=int, default=20)
    parser.add_argument("--flood", type=int, default=300)
    args = parser.parse_args()
    asyncio.run(main(args.loris, args.flood))
