"""The in-memory transport: streams, delay on the loop's clock, loss and partitions."""

import asyncio

import pytest

from ohtchat.session.pool import SessionPool
from ohtchat.transport.base import ConnectFailed
from ohtchat.transport.memory import MemoryNetwork


async def echo(stream):
    while data := await stream.read(1024):
        await stream.write(data)


async def test_stream_round_trip_with_delay():
    net = MemoryNetwork(delay=0.05)
    await net.transport("srv").listen(echo)
    client = await net.transport("cli").connect("srv")
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    await client.write(b"ping")
    assert await client.readexactly(4) == b"ping"
    assert loop.time() - t0 >= 0.1  # two one-way delays
    await client.close()
    assert await client.read(10) == b""


async def test_unknown_lossy_and_partitioned_addresses():
    net = MemoryNetwork(loss=1.0, seed=1)
    await net.transport("srv").listen(echo)
    with pytest.raises(ConnectFailed, match="lost"):
        await net.transport("cli").connect("srv")
    with pytest.raises(ConnectFailed, match="no route"):
        await net.transport("cli").connect("nowhere")
    net.loss = 0.0
    client = await net.transport("cli").connect("srv")
    net.partition("srv")
    assert await client.read(10) == b""
    with pytest.raises(ConnectFailed):
        await net.transport("cli").connect("srv")
    net.heal("srv")
    assert await net.transport("cli").connect("srv")


async def test_full_sessions_over_memory(alice, bob):
    net = MemoryNetwork()

    async def handle(peer, method, params):
        return {"n": params.int_("n") + 1}

    pa = SessionPool(net.transport("a"), alice, handle)
    pb = SessionPool(net.transport("b"), bob, handle)
    await pb.listen("b")
    r = await pa.request("b", bob.onion, "inc", {"n": 41}, timeout=5)
    assert r.int_("n") == 42
    await pa.close()
    await pb.close()


def test_writes_due_at_the_same_instant_arrive_in_order():
    # On virtual time many writes share one due time; timers due together may fire in any
    # order, and the stream must still keep its byte order (the session's frame counters
    # depend on it).
    from ohtchat.sim.loop import run_virtual

    async def main() -> bytes:
        net = MemoryNetwork(delay=0.05)
        got = bytearray()
        done = asyncio.Event()

        async def collect(stream):
            while len(got) < 2000:
                got.extend(await stream.read(4096))
            done.set()

        await net.transport("srv").listen(collect)
        client = await net.transport("cli").connect("srv")
        for i in range(1000):
            await client.write(i.to_bytes(2, "big"))
        await done.wait()
        return bytes(got)

    got = run_virtual(main())
    assert [int.from_bytes(got[i : i + 2], "big") for i in range(0, 2000, 2)] == list(range(1000))
