"""Tor package logic that needs no tor binary: config, SOCKS, publication tracking, monitor."""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path

import pytest

from ohtchat.crypto.keys import NodeKey
from ohtchat.tor import config as torconfig
from ohtchat.tor.config import TorConfig
from ohtchat.tor.control import TorState, TorStatus, parse_bootstrap, parse_control_spec
from ohtchat.tor.errors import (
    OnionServiceError,
    SocksError,
    TorConfigError,
    TorError,
    TorStartError,
)
from ohtchat.tor.monitor import TorMonitor
from ohtchat.tor.onion_service import OnionService
from ohtchat.tor.socks import socks5_connect
from ohtchat.tor.testnet_files import parse_consensus
from ohtchat.transport.base import ConnectFailed
from ohtchat.transport.onion import OHTCHAT_ONION_PORT, OnionTransport


def test_client_torrc_opens_unix_sockets_only(tmp_path: Path):
    lines = TorConfig(tmp_path).torrc_lines(owner_pid=4242)
    ports = [ln for ln in lines if "Port " in ln.split("#")[0] and not ln.startswith("__")]
    assert ports and all("unix:" in ln for ln in ports), ports
    assert f"SocksPort unix:{tmp_path}/socks.sock OnionTrafficOnly ExtendedErrors" in lines
    assert "__OwningControllerProcess 4242" in lines
    assert "LearnCircuitBuildTimeout 0" in lines and "CircuitBuildTimeout 30" in lines


def test_too_long_socket_paths_are_refused(tmp_path: Path):
    with pytest.raises(TorConfigError, match="limit is 107"):
        TorConfig(tmp_path / ("d" * 120)).torrc_lines(None)


def test_testnet_options_need_a_recorded_network(tmp_path: Path):
    with pytest.raises(TorConfigError, match="testnet up"):
        torconfig.testnet_client_options(tmp_path)
    (tmp_path / "testnet.json").write_text("{not json")
    with pytest.raises(TorConfigError, match="not a valid"):
        torconfig.testnet_client_options(tmp_path)
    (tmp_path / "testnet.json").write_text(json.dumps({"client_options": [["A", "b"]]}))
    assert torconfig.testnet_client_options(tmp_path) == [("A", "b")]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("/run/tor/control", Path("/run/tor/control")),
        ("unix:/x/c.sock", Path("/x/c.sock")),
        ("127.0.0.1:9051", ("127.0.0.1", 9051)),
        ("[::1]:9051", ("::1", 9051)),
        ("9051", ("127.0.0.1", 9051)),
    ],
)
def test_parse_control_spec(spec: str, expected: object):
    assert parse_control_spec(spec) == expected


@pytest.mark.parametrize("spec", ["", "host:", "host:99999", "nonsense"])
def test_parse_control_spec_rejects(spec: str):
    with pytest.raises(TorStartError):
        parse_control_spec(spec)


def test_parse_bootstrap():
    line = (
        "NOTICE BOOTSTRAP PROGRESS=85 TAG=ap_conn_done "
        'SUMMARY="Connected to a relay to build circuits"'
    )
    assert parse_bootstrap(line) == (85, "Connected to a relay to build circuits")
    assert parse_bootstrap("NOTICE CIRCUIT_ESTABLISHED") is None
    assert parse_bootstrap("BOOTSTRAP PROGRESS=x") is None


def test_parse_consensus_counts_running_valid_routers():
    text = "r a X\ns Running Valid HSDir\nr b Y\ns Valid\nr c Z\ns Guard Running Valid\n"
    assert parse_consensus(text) == ["a", "c"]


def make_service() -> OnionService:
    key = NodeKey()
    return OnionService(key.onion, key.add_onion_blob, OHTCHAT_ONION_PORT, Path("/x"))


def test_published_only_when_every_upload_answered():
    svc = make_service()
    for hsdir in ("A", "B", "A"):  # A receives two descriptors
        svc.on_hs_desc("UPLOAD", hsdir)
    svc.on_hs_desc("UPLOADED", "A")
    svc.on_hs_desc("UPLOADED", "B")
    assert not svc.published  # A's second descriptor still pending
    svc.on_hs_desc("FAILED", "A")
    assert svc.published and svc.upload_counts == (0, 2, 1)
    svc.reset()
    assert not svc.published and svc.upload_counts == (0, 0, 0)


def test_all_uploads_failed_is_not_published():
    svc = make_service()
    svc.on_hs_desc("UPLOAD", "A")
    svc.on_hs_desc("FAILED", "A")
    assert not svc.published


async def test_wait_published_readds_after_each_timeout():
    svc = make_service()
    calls = 0

    async def readd() -> None:
        nonlocal calls
        calls += 1

    svc.readd = readd
    with pytest.raises(OnionServiceError, match="not published after 3"):
        await svc.wait_published(timeout=0.01, attempts=3)
    assert calls == 2


async def fake_socks_server(tmp_path: Path, reply_code: int, log: list[bytes]):
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        log.append(await reader.readexactly(3))
        writer.write(b"\x05\x00")
        head = await reader.readexactly(5)
        rest = await reader.readexactly(head[4] + 2)
        log.append(head + rest)
        writer.write(bytes([5, reply_code, 0, 1, 0, 0, 0, 0, 0, 0]))
        if reply_code == 0:
            writer.write(await reader.readexactly(4))  # echo one message
        await writer.drain()
        writer.close()

    path = tmp_path / "socks.sock"
    return await asyncio.start_unix_server(handle, path=str(path)), path


async def test_socks5_connect_speaks_rfc1928(tmp_path: Path):
    log: list[bytes] = []
    server, path = await fake_socks_server(tmp_path, 0, log)
    async with server:
        reader, writer = await socks5_connect(path, "abc.onion", 7777)
        writer.write(b"ping")
        assert await reader.readexactly(4) == b"ping"
        writer.close()
    assert log == [b"\x05\x01\x00", b"\x05\x01\x00\x03\x09abc.onion\x1e\x61"]


class FakeTor:
    """Just enough of TorProcess for OnionTransport.connect."""

    def __init__(self, socks: Path) -> None:
        self.socks_address = socks
        self.config = None
        self.attached = True


@pytest.mark.parametrize(
    ("code", "message", "attempts_made"),
    [
        (0xF0, "descriptor not found", 3),
        (0xF6, "invalid onion address", 1),
        (0xF7, "introduction to the onion service timed out", 3),
        (0x05, "connection refused", 1),
    ],
)
async def test_extended_errors_become_clear_connect_failures(
    tmp_path: Path, code: int, message: str, attempts_made: int
):
    log: list[bytes] = []
    server, path = await fake_socks_server(tmp_path, code, log)
    sleeps: list[float] = []

    async def sleep(delay: float) -> None:
        sleeps.append(delay)

    transport = OnionTransport(FakeTor(path), attempts=3, backoff=1.0, sleep=sleep)  # type: ignore[arg-type]
    async with server:
        with pytest.raises(ConnectFailed, match=message):
            await transport.connect(NodeKey().onion)
    assert len(log) == 2 * attempts_made
    assert sleeps == [1.0, 2.0][: attempts_made - 1]


async def test_connect_without_a_socks_listener_fails_clearly(tmp_path: Path):
    transport = OnionTransport(FakeTor(tmp_path / "none.sock"))  # type: ignore[arg-type]
    with pytest.raises(ConnectFailed, match="cannot reach tor's SOCKS"):
        await transport.connect(NodeKey().onion)


async def test_bad_socks_target_is_refused(tmp_path: Path):
    with pytest.raises(SocksError):
        await socks5_connect(tmp_path / "x", "a" * 300, 7777)


async def test_listen_needs_a_node_key(tmp_path: Path):
    with pytest.raises(Exception, match="needs a node key"):
        await OnionTransport(FakeTor(tmp_path)).listen(lambda s: asyncio.sleep(0))  # type: ignore[arg-type]


class FlakyTor:
    """A fake TorProcess whose restarts fail ``failures`` times."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.restart_calls = 0
        self.running = True
        self.status = TorStatus(100, "Done", TorState.READY)
        self.died = asyncio.Event()

    async def wait_died(self) -> None:
        await self.died.wait()

    async def circuit_established(self) -> bool:
        return True

    async def restart(self) -> None:
        self.restart_calls += 1
        if self.restart_calls <= self.failures:
            raise TorStartError("no tor today")
        self.running = True
        self.died.clear()

    async def wait_ready(self, timeout: float | None = None) -> None:
        return None


async def test_monitor_restarts_with_backoff_and_calls_back():
    tor = FlakyTor(failures=2)
    sleeps: list[float] = []
    called = asyncio.Event()

    async def on_restart() -> None:
        called.set()

    async def sleep(delay: float) -> None:
        sleeps.append(delay)
        await asyncio.sleep(0)

    monitor = TorMonitor(tor, on_restart, interval=3600, backoff=1.0, sleep=sleep)  # type: ignore[arg-type]
    monitor.start()
    tor.running = False
    tor.died.set()
    await asyncio.wait_for(called.wait(), 30)
    await monitor.stop()
    assert tor.restart_calls == 3 and monitor.restarts == 1
    assert [s for s in sleeps if s != 3600] == [1.0, 2.0]


async def test_monitor_restarts_a_stalled_tor():
    now = [0.0]
    tor = FlakyTor(failures=0)

    async def no_circuits() -> bool:
        return False

    tor.circuit_established = no_circuits  # type: ignore[method-assign]
    monitor = TorMonitor(tor, clock=lambda: now[0], stall_after=120)  # type: ignore[arg-type]
    assert await monitor.check_stall() is None
    now[0] = 121.0
    reason = await monitor.check_stall()
    assert reason is not None and "stalled" in reason
    await monitor.recover(reason)
    assert tor.restart_calls == 1 and monitor.restarts == 1


def test_errors_share_a_base():
    assert issubclass(SocksError, TorError) and issubclass(OnionServiceError, TorError)
    with contextlib.suppress(ValueError):
        OnionTransport(FakeTor(Path("/x")), attempts=0)  # type: ignore[arg-type]
        raise AssertionError("attempts=0 accepted")
