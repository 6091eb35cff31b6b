"""Onion services end to end on the shared private Tor network."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import stat
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from ohtchat.crypto.keys import NodeKey
from ohtchat.tor.config import TorConfig
from ohtchat.tor.monitor import TorMonitor
from ohtchat.tor.process import TorProcess
from ohtchat.tor.testnet import Testnet
from ohtchat.transport.base import ByteStream, ConnectFailed
from ohtchat.transport.onion import OnionTransport
from tests.waiting import eventually, eventually_sync

pytestmark = [pytest.mark.tor, pytest.mark.filterwarnings("ignore:setDaemon:DeprecationWarning")]

ClientTor = Callable[[str], Awaitable[TorProcess]]


def tcp_listeners_of(pid: int) -> list[str]:
    """Local addresses of the TCP sockets in LISTEN state that process ``pid`` holds."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            cols = line.split()
            if cols[3] == "0A" and cols[9] in inodes:  # 0A = LISTEN
                found.append(cols[1])
    return found


async def echo(stream: ByteStream) -> None:
    while data := await stream.read(4096):
        await stream.write(data)


async def round_trip(stream: ByteStream, payload: bytes) -> bytes:
    await stream.write(payload)
    return await stream.readexactly(len(payload))


def test_testnet_records_what_clients_need(testnet: Testnet):
    info = json.loads((testnet.dir / "testnet.json").read_text())
    assert ["TestingTorNetwork", "1"] in info["client_options"]
    assert ["DirAuthority", testnet.dir_authority] in info["client_options"]

    # status() fetches the consensus over HTTP with a short timeout: a slow answer reads as 0.
    def full_consensus() -> dict[str, object] | None:
        status = testnet.status()
        return status if status["relays_in_consensus"] == 5 else None

    status = eventually_sync(full_consensus, "a consensus listing all 5 relays", timeout=60)
    assert status["relays_in_consensus"] == len(testnet.nodes) == 5
    assert all(pid is not None for pid in status["processes"].values())
    loaded = Testnet.load(testnet.dir)
    assert [n.pid for n in loaded.nodes] == [n.pid for n in testnet.nodes]
    assert TorConfig.for_testnet(Path("/x"), testnet.dir).options == testnet.client_options()


async def test_onion_round_trip_between_two_client_tors(client_tor: ClientTor):
    host, client = await asyncio.gather(client_tor("a"), client_tor("b"))
    # Our client tors listen on unix sockets only.
    for tor in (host, client):
        assert tor.pid is not None and tcp_listeners_of(tor.pid) == []
        assert stat.S_ISSOCK(Path(tor.socks_address).stat().st_mode)  # type: ignore[arg-type]
    key = NodeKey()
    listener = await OnionTransport(host, key).listen(echo)
    assert listener.address == key.onion  # known at once, before publication
    await listener.wait_published(timeout=60, attempts=2)
    assert listener.published
    transport = OnionTransport(client)
    stream = await transport.connect(key.onion)
    try:
        for size in (1, 1000, 100_000):
            payload = os.urandom(size)
            assert await round_trip(stream, payload) == payload
    finally:
        await stream.close()
    # Many streams at once through the circuit cap.
    streams = await asyncio.gather(*(transport.connect(key.onion) for _ in range(20)))
    replies = await asyncio.gather(*(round_trip(s, b"x%d" % i) for i, s in enumerate(streams)))
    assert replies == [b"x%d" % i for i in range(20)]
    for s in streams:
        await s.close()
    await listener.close()


async def test_connecting_to_an_absent_onion_fails_clearly(client_tor: ClientTor):
    tor = await client_tor("c")
    transport = OnionTransport(tor, attempts=1)
    with pytest.raises(ConnectFailed, match="descriptor not found"):
        await transport.connect(NodeKey().onion, timeout=90)
    with pytest.raises(ConnectFailed, match="invalid onion address"):
        await transport.connect("example.com")


async def test_monitor_restarts_a_killed_tor_and_republishes(client_tor: ClientTor):
    host, client = await asyncio.gather(client_tor("h"), client_tor("k"))
    key = NodeKey()
    listener = await OnionTransport(host, key).listen(echo)
    await listener.wait_published(timeout=60, attempts=2)
    restarted = asyncio.Event()

    async def on_restart() -> None:
        restarted.set()

    monitor = TorMonitor(host, on_restart, interval=1.0, backoff=0.5)
    monitor.start()
    try:
        old_pid = host.pid
        assert old_pid is not None
        os.kill(old_pid, signal.SIGKILL)
        await asyncio.wait_for(restarted.wait(), 90)
        assert monitor.restarts == 1 and host.pid not in (None, old_pid)
        await listener.wait_published(timeout=60, attempts=2)

        # The client may still hold the descriptor of before the restart (dead introduction
        # points) until it fetches the new one: reachable again is reached asynchronously.
        async def reconnect() -> ByteStream:
            try:
                return await OnionTransport(client).connect(key.onion)
            except ConnectFailed as exc:
                raise AssertionError(f"not reachable yet: {exc}") from exc

        stream = await eventually(reconnect, "the republished service is reachable", timeout=120)
        assert await round_trip(stream, b"after restart") == b"after restart"
        await stream.close()
    finally:
        await monitor.stop()
        await listener.close()
