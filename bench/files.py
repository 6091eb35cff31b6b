"""File transfer throughput over loopback TCP against a raw TCP stream of the same bytes in the
same run, and the recipient's memory (RSS) during the transfer.

Two real ``ohtchat --serve`` nodes (memory stores, tcp transport) are driven over their control
sockets: alice offers a file to bob, bob accepts, and the time from the accept to ``done``
(verified and renamed) is measured while bob's RSS is sampled from /proc. The baseline is a
separate process writing the same file into one TCP connection that this process reads to the
end (no framing, no encryption, no hashing, nothing written).

With ``--tor`` the same comparison runs over the private Tor network (1 authority + 4 relays on
127.0.0.1): three in-process nodes with their own tor and onion service (a hub, alice, bob),
against a raw onion stream between two other client tors of the same network, same run.

Run: .venv/bin/python bench/files.py [MiB]          (loopback TCP; default 100)
     .venv/bin/python bench/files.py --tor [MiB]    (private Tor network; default 20)
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ohtchat.api.ops import AcceptFile, GetStatus, ListFiles, SendFile
from ohtchat.api.views import FileList, StatusView
from ohtchat.serve.client import RemoteBackend

CONFIG = """\
[chord]
stabilize_interval = 0.5
fix_fingers_interval = 0.5
rpc_timeout = 5.0

[node]
heartbeat_interval = 5.0
mailbox_interval = 5.0
join_retry = 0.5

[files]
dir = "{folder}"
max_size = {max_size}
"""

RAW_SENDER = """
import socket, sys
path, port = sys.argv[1], int(sys.argv[2])
with socket.create_connection(("127.0.0.1", port)) as s, open(path, "rb") as f:
    while block := f.read(1 << 20):
        s.sendall(block)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mib(pid: int) -> float:
    """The resident set of process ``pid``, MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def serve(
    base: Path, name: str, bootstrap: str | None, size: int
) -> tuple[subprocess.Popen[bytes], Path, str]:
    data = base / name
    data.mkdir()
    (data / "config.toml").write_text(CONFIG.format(folder=base / f"{name}-in", max_size=2 * size))
    addr = f"127.0.0.1:{free_port()}"
    argv = [sys.executable, "-m", "ohtchat.cli", "--serve", "--memory", "--transport", "tcp"]
    argv += ["--listen", addr, "--data-dir", str(data), "--name", name]
    argv += ["--bootstrap", bootstrap] if bootstrap else []
    log = open(base / f"{name}.log", "wb")  # noqa: SIM115 - kept open for the child's life
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log)
    return proc, data / "control.sock", addr


async def backend(sock: Path) -> RemoteBackend:
    deadline = time.monotonic() + 60
    while True:
        try:
            b = await RemoteBackend(sock).connect()
            status = (await b.call(GetStatus())).view
            if isinstance(status, StatusView) and status.member:
                return b
            await b.close()
        except Exception:
            if time.monotonic() > deadline:
                raise
        await asyncio.sleep(0.2)


async def transfer(base: Path, src: Path, size: int) -> tuple[float, float, float]:
    """``(seconds, RSS before, peak RSS during)`` of one transfer between two served nodes."""
    alice_p, alice_sock, alice_addr = serve(base, "alice", None, size)
    procs = [alice_p]
    try:
        alice = await backend(alice_sock)
        bob_p, bob_sock, _ = serve(base, "bob", alice_addr, size)
        procs.append(bob_p)
        bob = await backend(bob_sock)
        status = (await bob.call(GetStatus())).view
        assert isinstance(status, StatusView)
        while not (await alice.call(SendFile(status.account_id, str(src)))).ok:
            await asyncio.sleep(0.5)  # until bob's presence is in the DHT
        while True:
            files = (await bob.call(ListFiles())).view
            assert isinstance(files, FileList)
            if files.files:
                offer = files.files[0]
                break
            await asyncio.sleep(0.05)
        before = rss_mib(bob_p.pid)
        peak = before
        t = time.perf_counter()
        assert (await bob.call(AcceptFile(offer.id))).ok
        while True:
            peak = max(peak, rss_mib(bob_p.pid))
            files = (await bob.call(ListFiles())).view
            assert isinstance(files, FileList)
            state = files.files[0]
            if state.state in ("done", "failed"):
                break
            await asyncio.sleep(0.02)
        seconds = time.perf_counter() - t
        assert state.state == "done", state
        assert Path(state.path).stat().st_size == size
        await alice.close()
        await bob.close()
        return seconds, before, peak
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(30)


async def raw(src: Path) -> float:
    """Seconds to read the file from a raw TCP stream written by another process."""
    got = 0
    done = asyncio.Event()

    async def reader(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        nonlocal got
        while block := await r.read(1 << 20):
            got += len(block)
        w.close()
        done.set()

    server = await asyncio.start_server(reader, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    t = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", RAW_SENDER, str(src), str(port)
    )
    await done.wait()
    seconds = time.perf_counter() - t
    await proc.wait()
    server.close()
    assert got == src.stat().st_size
    return seconds


async def main(mib: int) -> None:
    base = Path(tempfile.mkdtemp(prefix="oht-files-bench-"))
    try:
        size = mib * 1024 * 1024
        src = base / "payload.bin"
        with open(src, "wb") as f:
            for _ in range(mib):
                f.write(os.urandom(1024 * 1024))
        raw_s = await raw(src)
        seconds, before, peak = await transfer(base, src, size)
        raw_again = await raw(src)
        raw_best = min(raw_s, raw_again)
        print(f"file size                 {mib} MiB")
        print(f"raw TCP stream            {raw_best:7.2f} s  {mib / raw_best:8.1f} MiB/s")
        print(
            f"ohtchat /send → done      {seconds:7.2f} s  {mib / seconds:8.1f} MiB/s"
            f"  ({mib / seconds / (mib / raw_best):.3f}× raw)"
        )
        print(
            f"recipient RSS             {before:7.1f} MiB before, {peak:.1f} MiB peak "
            f"(+{peak - before:.1f} MiB)"
        )
    finally:
        shutil.rmtree(base, ignore_errors=True)


async def tor_main(mib: int) -> None:
    """The comparison over the private Tor network."""
    from ohtchat.app.node import ChatNode, NodeOptions
    from ohtchat.chord.config import ChordConfig
    from ohtchat.crypto.keys import NodeKey
    from ohtchat.tor.process import TorProcess
    from ohtchat.tor.testnet import Testnet
    from ohtchat.transport.base import ByteStream
    from ohtchat.transport.onion import OnionTransport

    base = Path(tempfile.mkdtemp(prefix="oht-files-tor-"))
    size = mib * 1024 * 1024
    src = base / "payload.bin"
    with open(src, "wb") as f:
        for _ in range(mib):
            f.write(os.urandom(1024 * 1024))
    try:
        async with Testnet.up(base / "net") as net:
            # Raw: b writes the file into one onion stream to a sink on a's onion service.
            a = TorProcess.launch(net.client_config(base / "a"))
            b = TorProcess.launch(net.client_config(base / "b"))
            await asyncio.gather(a.start(), b.start())
            await asyncio.gather(a.wait_ready(90), b.wait_ready(90))
            got = 0
            sunk = asyncio.Event()

            async def sink(stream: ByteStream) -> None:
                nonlocal got
                while data := await stream.read(1 << 16):
                    got += len(data)
                    if got >= size:
                        sunk.set()

            listener = await OnionTransport(a, NodeKey()).listen(sink)
            await listener.wait_published(30, 2)
            stream = await OnionTransport(b).connect(listener.address)
            t = time.perf_counter()
            with open(src, "rb") as fh:
                while block := fh.read(1 << 16):
                    await stream.write(block)
            await sunk.wait()
            raw_s = time.perf_counter() - t
            await stream.close()
            await listener.close()
            await a.stop()
            await b.stop()

            chord = ChordConfig(rpc_timeout=20.0, lookup_timeout=60.0, stabilize_interval=1.0)

            def opts(name: str, boot: list[str]) -> NodeOptions:
                return NodeOptions(
                    memory=True, transport="onion", tor_testnet=net.dir, bootstrap=boot,
                    name=name, chord=chord, heartbeat_interval=5.0, mailbox_interval=3.0,
                    join_retry=2.0, deliver_timeout=30.0,
                )  # fmt: skip

            hub = await ChatNode.start(opts("hub", []), "")
            await hub.ready(120)
            alice, bob = await asyncio.gather(
                ChatNode.start(opts("alice", [hub.identity.onion]), ""),
                ChatNode.start(opts("bob", [hub.identity.onion]), ""),
            )
            await asyncio.gather(alice.ready(180), bob.ready(180))
            bob.config.set("files.dir", str(base / "bob-in"))
            for n in (alice, bob):
                n.config.set("files.max_size", 2 * size)
            while not (await alice.call(SendFile(bob.account.account_id, str(src)))).ok:
                await asyncio.sleep(1.0)
            while True:
                view = (await bob.call(ListFiles())).view
                assert isinstance(view, FileList)
                if view.files:
                    offer = view.files[0]
                    break
                await asyncio.sleep(0.2)
            t = time.perf_counter()
            assert (await bob.call(AcceptFile(offer.id))).ok
            while True:
                view = (await bob.call(ListFiles())).view
                assert isinstance(view, FileList)
                if view.files[0].state in ("done", "failed"):
                    break
                await asyncio.sleep(0.05)
            seconds = time.perf_counter() - t
            assert view.files[0].state == "done", view.files[0]
            await asyncio.gather(*(n.stop() for n in (alice, bob, hub)))
        print(f"file size                 {mib} MiB (private Tor network)")
        print(f"raw onion stream          {raw_s:7.2f} s  {mib / raw_s:8.2f} MiB/s")
        print(
            f"ohtchat /send → done      {seconds:7.2f} s  {mib / seconds:8.2f} MiB/s"
            f"  ({raw_s / seconds:.2f}× raw)"
        )
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["--tor"]:
        asyncio.run(tor_main(int(args[1]) if len(args) > 1 else 20))
    else:
        asyncio.run(main(int(args[0]) if args else 100))
