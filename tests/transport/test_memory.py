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
