"""Full handshakes per second per core, next to the raw cost of the primitives (the crypto bound).

Run: ``.venv/bin/python bench/handshake.py [--seconds S]``

Both sides of each handshake run in this one process on one core, so "handshakes/s per core"
counts complete handshakes (initiator + responder work). The *crypto bound* is the rate if a
handshake cost nothing but its primitives, measured in the same run: per side one hybrid KEM
key generation, one encapsulation, one decapsulation, one ed25519 signature, and two ed25519
verifications (transcript signature and account certificate). Goal: ratio ≥ 50%.
Also reports handshakes over TCP loopback (sockets, framing and asyncio included).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from collections.abc import Callable

from ohtchat.crypto import kem
from ohtchat.crypto.keys import AccountKey, NodeKey, verify_signature
from ohtchat.session.handshake import Initiator, Responder
from ohtchat.session.identity import NodeIdentity
from ohtchat.session.session import accept, initiate
from ohtchat.transport.tcp import TcpTransport


def rate(fn: Callable[[], object], seconds: float) -> float:
    """Calls per second of ``fn``: the median of five timed slices."""
    fn()
    slices = []
    for _ in range(5):
        n, t0 = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - t0) < seconds / 5:
            fn()
            n += 1
        slices.append(n / elapsed)
    return statistics.median(slices)


def primitives_once() -> None:
    """One side's primitive work, done twice (both sides)."""
    for _ in range(2):
        kp = kem.KemKeyPair.generate()
        ct, _ = kem.encapsulate(kp.public)
        kem.decapsulate(kp.secret, ct)
        sig = SIGNER.sign(MSG)
        verify_signature(SIGNER.public, MSG, sig)
        verify_signature(SIGNER.public, MSG, sig)


SIGNER = NodeKey()
MSG = os.urandom(120)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=5.0)
    args = ap.parse_args()
    now = int(time.time())
    a = NodeIdentity.create(AccountKey(), now)
    b = NodeIdentity.create(AccountKey(), now)

    full = rate(_full(a, b), args.seconds)
    bound = rate(primitives_once, args.seconds)
    tcp = asyncio.run(_tcp_rate(a, b, args.seconds))
    print(f"crypto bound (primitives only)   {bound:8.1f} handshakes/s")
    print(f"full handshake, in memory        {full:8.1f} handshakes/s  ratio {full / bound:6.1%}")
    print(f"full handshake, TCP loopback     {tcp:8.1f} handshakes/s  ratio {tcp / bound:6.1%}")


def _full(a: NodeIdentity, b: NodeIdentity) -> Callable[[], object]:
    def run() -> None:
        i, r = Initiator(a, b.onion, time.time), Responder(b, time.time)
        hs3 = i.receive(r.receive(i.start()))
        assert hs3 is not None
        hs4 = r.receive(hs3)
        assert hs4 is not None
        i.receive(hs4)
        assert i.result is not None

    return run


async def _tcp_rate(a: NodeIdentity, b: NodeIdentity, seconds: float) -> float:
    tcp = TcpTransport()

    async def on_stream(stream):  # type: ignore[no-untyped-def]
        await accept(stream, b)

    listener = await tcp.listen(on_stream, "127.0.0.1:0")
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        stream = await tcp.connect(listener.address)
        session = await initiate(stream, a, b.onion)
        await session.close()
        n += 1
    await listener.close()
    return n / (time.perf_counter() - t0)


if __name__ == "__main__":
    main()
