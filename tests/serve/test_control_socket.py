"""The control socket and RemoteBackend against the harness backend (real Dispatcher+EventBus)."""

from __future__ import annotations

import asyncio
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from ohtchat.serve.client import NodeUnreachable, RemoteBackend
from ohtchat.serve.control import ControlServer, ControlSocketInUse
from ohtchat.serve.protocol import MAX_LINE
from tests.events import publish
from tests.waiting import DEADLINE, eventually


async def _raw(path: Path) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_unix_connection(str(path), limit=4 * MAX_LINE)


async def _ask(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, line: bytes
) -> dict[str, Any]:
    writer.write(line)
    await writer.drain()
    reply = json.loads(await asyncio.wait_for(reader.readline(), DEADLINE))
    assert isinstance(reply, dict)
    return reply


async def test_command_over_socket(backend: Any, short_tmp: Path) -> None:
    sock = short_tmp / "control.sock"
    async with ControlServer(backend, sock):
        assert stat.S_IMODE(os.stat(sock).st_mode) == 0o600
        r, w = await _raw(sock)
        reply = await _ask(r, w, b'{"id": 7, "cmd": "/status", "conversation": null}\n')
        assert reply == {
            "id": 7,
            "ok": True,
            "text": "harness is up",
            "data": {"name": "harness", "node_id": "ab" * 32},
        }
        reply = await _ask(r, w, b'{"id": "x", "cmd": "/whisper"}\n')
        assert reply["id"] == "x" and reply["ok"] is False
        assert reply["data"]["error"] == "usage"
        assert reply["data"]["usage"] == "/whisper ID MESSAGE"
        reply = await _ask(r, w, b'{"id": 8, "cmd": "/ping 127.0.0.1:1"}\n')
        assert (reply["ok"], reply["data"]["error"]) == (False, "unavailable")
        w.close()
    assert not sock.exists()


@pytest.mark.parametrize(
    ("line", "rid", "fragment"),
    [
        (b"not json\n", None, "not a JSON line"),
        (b"[1, 2]\n", None, "expected a JSON object"),
        (b'{"id": 3}\n', 3, "unknown request"),
        (b'{"id": 4, "cmd": 5}\n', 4, "'cmd' must be a string"),
        (b'{"id": 5, "cmd": "/status", "conversation": 1}\n', 5, "conversation"),
        (b'{"id": 6, "complete": "/st", "cursor": 99}\n', 6, "cursor"),
        (b'{"id": 7, "subscribe": "yes"}\n', 7, "subscribe"),
        (b'{"id": [1], "cmd": "/status"}\n', None, "'id' must be"),
        (b"\xff\xfe\n", None, "not a JSON line"),
        (b"[" * 100_000 + b"\n", None, ""),
    ],
)
async def test_malformed_lines_get_errors(
    backend: Any, short_tmp: Path, line: bytes, rid: Any, fragment: str
) -> None:
    sock = short_tmp / "c.sock"
    async with ControlServer(backend, sock):
        r, w = await _raw(sock)
        reply = await _ask(r, w, line)
        assert reply["ok"] is False and reply["id"] == rid
        assert reply["data"]["error"] == "bad_request"
        assert fragment in reply["text"]
        # the connection survives and still serves requests
        assert (await _ask(r, w, b'{"id": 1, "cmd": "/status"}\n'))["ok"] is True
        w.close()


async def test_overlong_line_is_refused_and_connection_recovers(
    backend: Any, short_tmp: Path
) -> None:
    sock = short_tmp / "c.sock"
    async with ControlServer(backend, sock):
        r, w = await _raw(sock)
        huge = b'{"id": 1, "cmd": "/put k ' + b"v" * (MAX_LINE + 10) + b'"}\n'
        reply = await _ask(r, w, huge)
        assert reply["ok"] is False and "longer than" in reply["text"]
        assert backend.kv == {}
        assert (await _ask(r, w, b'{"id": 2, "cmd": "/put k v"}\n'))["ok"] is True
        assert backend.kv == {"k": "v"}
        w.close()


async def test_remote_backend_is_a_backend(backend: Any, short_tmp: Path) -> None:
    sock = short_tmp / "c.sock"
    async with ControlServer(backend, sock), RemoteBackend(sock) as remote:
        result = await remote.execute("/status")
        assert result.ok and result.data["name"] == "harness"
        bad = await remote.execute("/whipser bob hi")
        assert not bad.ok and bad.data["error"] == "unknown_command"
        assert "whisper" in bad.data["suggestions"]
        # plain text goes to the conversation given with it
        sent = await remote.execute("hello there", conversation="bob")
        assert sent.ok and backend.history[-1] == {
            "conversation": "bob",
            "text": "hello there",
            "outgoing": True,
        }
        assert await remote.complete("/wh", 3) == ["/whisper"]
        assert await remote.complete("/whisper al", 11) == ["alice", "albert"]
        assert await remote.complete("/nothing ", 9) == []


async def test_events_stream_to_every_subscriber(backend: Any, short_tmp: Path) -> None:
    sock = short_tmp / "c.sock"
    async with ControlServer(backend, sock):
        remotes = [await RemoteBackend(sock).connect() for _ in range(3)]
        streams = [r.events() for r in remotes]
        firsts = [asyncio.ensure_future(anext(s)) for s in streams]
        await eventually(lambda: backend.bus.subscribers == 3, "every connection subscribed")
        result = await remotes[0].execute("/whisper carol see you")
        assert result.ok
        for first in firsts:
            event = await asyncio.wait_for(first, DEADLINE)
            assert event.kind == "message"
            assert event.data["conversation"] == "carol" and event.data["text"] == "see you"
        for remote in remotes:
            await remote.close()
        await eventually(lambda: backend.bus.subscribers == 0, "every subscription ended")


async def test_raw_subscribe_and_unsubscribe(backend: Any, short_tmp: Path) -> None:
    sock = short_tmp / "c.sock"
    async with ControlServer(backend, sock):
        r, w = await _raw(sock)
        reply = await _ask(r, w, b'{"id": 1, "subscribe": true}\n')
        assert reply == {"id": 1, "ok": True, "text": "", "data": {"subscribed": True}}
        publish(backend.bus, "presence", account_id="aa", name="al", presence="online")
        event = json.loads(await asyncio.wait_for(r.readline(), DEADLINE))
        assert event["event"] == "presence" and event["data"]["name"] == "al"
        assert isinstance(event["at"], float)
        reply = await _ask(r, w, b'{"id": 2, "subscribe": false}\n')
        assert reply["data"] == {"subscribed": False}
        publish(backend.bus, "presence", account_id="aa", name="al", presence="away")
        # no event now: the next line is the answer to the next request
        assert (await _ask(r, w, b'{"id": 3, "cmd": "/status"}\n'))["id"] == 3
        w.close()


async def test_concurrent_requests_are_matched_by_id(backend: Any, short_tmp: Path) -> None:
    sock = short_tmp / "c.sock"
    async with ControlServer(backend, sock), RemoteBackend(sock) as remote:
        results = await asyncio.gather(*(remote.execute(f"/put k{i} v{i}") for i in range(50)))
        assert all(r.ok for r in results)
        gets = await asyncio.gather(*(remote.execute(f"/get k{i}") for i in range(50)))
        assert [g.data["value"] for g in gets] == [f"v{i}" for i in range(50)]


async def test_second_server_on_a_live_socket_is_refused(backend: Any, short_tmp: Path) -> None:
    sock = short_tmp / "c.sock"
    async with ControlServer(backend, sock):
        with pytest.raises(ControlSocketInUse, match="already serves"):
            await ControlServer(backend, sock).start()
        assert (await RemoteBackend(sock).connect()).connected


async def test_stale_socket_file_is_replaced(backend: Any, short_tmp: Path) -> None:
    import socket

    sock = short_tmp / "c.sock"
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(sock))  # bound but never listening: like a node that crashed
    s.close()
    async with ControlServer(backend, sock), RemoteBackend(sock) as remote:
        assert (await remote.execute("/status")).ok


async def test_regular_file_in_the_way_is_not_deleted(backend: Any, short_tmp: Path) -> None:
    sock = short_tmp / "c.sock"
    sock.write_text("precious")
    with pytest.raises(ControlSocketInUse):
        await ControlServer(backend, sock).start()
    assert sock.read_text() == "precious"


async def test_long_socket_path(backend: Any, short_tmp: Path) -> None:
    deep = short_tmp / ("d" * 60) / ("e" * 60)
    sock = deep / "control.sock"
    assert len(str(sock)) > 108
    async with ControlServer(backend, sock), RemoteBackend(sock) as remote:
        assert sock.exists()
        assert (await remote.execute("/status")).ok


async def test_unreachable_and_lost_node(backend: Any, short_tmp: Path) -> None:
    sock = short_tmp / "c.sock"
    with pytest.raises(NodeUnreachable, match="is `ohtchat --serve` running"):
        await RemoteBackend(sock).connect()
    lazy = RemoteBackend(sock)  # never connected: fails softly on use
    assert (await lazy.execute("/status")).data["error"] == "disconnected"
    server = ControlServer(backend, sock)
    await server.start()
    remote = await RemoteBackend(sock).connect()
    stream = remote.events()
    first = asyncio.ensure_future(anext(stream))
    await eventually(lambda: backend.bus.subscribers == 1, "the connection subscribed")
    await server.stop()
    event = await asyncio.wait_for(first, DEADLINE)
    assert event.kind == "log" and "lost" in event.data["text"]
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(anext(stream), DEADLINE)
    result = await remote.execute("/status")
    assert not result.ok and result.data["error"] == "disconnected"
    assert await remote.complete("/st", 3) == []
    await remote.close()


async def test_many_clients(backend: Any, short_tmp: Path) -> None:
    sock = short_tmp / "c.sock"
    async with ControlServer(backend, sock, max_clients=4) as server:
        remotes = [await RemoteBackend(sock).connect() for _ in range(4)]
        results = await asyncio.gather(*(r.execute("/status") for r in remotes))
        assert all(r.ok for r in results) and server.clients == 4
        r, _w = await _raw(sock)
        reply = json.loads(await asyncio.wait_for(r.readline(), DEADLINE))
        assert reply["data"]["error"] == "busy"
        for remote in remotes:
            await remote.close()


async def test_an_answer_over_the_line_limit_is_a_clear_too_large(
    backend: Any, short_tmp: Path
) -> None:
    # Twelve whispers of 100 KB make a /history answer over the 1 MiB line limit. The client
    # gets a prompt too_large error for that request (it used to drop the line and wait for
    # its timeout), and the connection keeps working.
    sock = short_tmp / "c.sock"
    async with ControlServer(backend, sock), RemoteBackend(sock) as remote:
        for _ in range(12):
            assert (await remote.execute("/whisper bob " + "x" * 100_000)).ok
        big = await asyncio.wait_for(remote.execute("/history"), DEADLINE)
        assert not big.ok and big.data["error"] == "too_large"
        assert "/history ID 50" in big.text
        assert (await remote.execute("/status")).ok
