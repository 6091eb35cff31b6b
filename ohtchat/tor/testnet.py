"""A private Tor network on 127.0.0.1: one directory authority and N relays.

Layout of the network directory::

    DIR/testnet.json      what clients need (DirAuthority line, options) + pids and ports
    DIR/auth/             the authority: torrc, notice.log, keys/ (tor-gencert output)
    DIR/relay1 … relayN/  the relays: torrc, notice.log

See docs/tor.md for the measured facts behind each option.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ohtchat.tor.config import TESTNET_FILE, TorConfig, private_dir
from ohtchat.tor.errors import TestnetError
from ohtchat.tor.testnet_files import (
    free_ports,
    gencert,
    parse_consensus,
    relay_fingerprint,
    torrc_lines,
)

DEFAULT_RELAYS = 4


@dataclass
class NodeInfo:
    """One authority or relay process of the network."""

    name: str
    or_port: int
    dir_port: int | None = None
    pid: int | None = None


@dataclass
class Testnet:
    """A running (or recorded) private network; see :meth:`up` and :meth:`start`."""

    __test__ = False  # not a pytest test class, despite the name

    dir: Path
    nodes: list[NodeInfo]
    dir_authority: str
    owned: bool = True
    timings: dict[str, float] = field(default_factory=dict)
    #: Processes this Python process started (None for a network loaded from its file).
    _procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict, repr=False)

    # -- construction -----------------------------------------------------------------

    @classmethod
    @contextlib.asynccontextmanager
    async def up(
        cls, dir: Path, relays: int = DEFAULT_RELAYS, timeout: float = 120.0
    ) -> AsyncIterator[Testnet]:
        """``async with Testnet.up(dir) as net:`` — a network that dies with this process."""
        net = await cls.start(dir, relays=relays, owned=True, timeout=timeout)
        try:
            yield net
        finally:
            await asyncio.to_thread(net.stop)

    @classmethod
    async def start(
        cls, dir: Path, relays: int = DEFAULT_RELAYS, owned: bool = True, timeout: float = 120.0
    ) -> Testnet:
        """Generate keys and torrcs, start every process, wait for a full consensus.

        ``owned``: the processes die with this Python process (within 15 s; tests, demo);
        otherwise they outlive it (``ohtchat testnet up``) and ``down`` stops them by pid.
        """
        if relays < 3:
            raise TestnetError("onion circuits need 4 distinct relays: use --relays 3 or more")
        base = private_dir(Path(dir))
        if (base / TESTNET_FILE).exists():
            raise TestnetError(
                f"{base} already holds a network: stop it (`ohtchat testnet down --dir {base}`) "
                "and choose an empty directory"
            )
        t0 = time.monotonic()
        ports = free_ports(relays + 2)
        auth = NodeInfo("auth", ports[0], ports[1])
        nodes = [auth] + [NodeInfo(f"relay{i}", ports[i + 1]) for i in range(1, relays + 1)]
        line = await asyncio.to_thread(_make_authority, base, auth)
        net = cls(base, nodes, line, owned)
        try:
            for node in nodes:
                net._write_torrc(node)
            net.timings["keys"] = time.monotonic() - t0
            for node in nodes:
                net._procs[node.name] = net._spawn(node)
                node.pid = net._procs[node.name].pid
            net.save()
            await net.wait_consensus(timeout)
        except BaseException:
            await asyncio.to_thread(net.stop)
            raise
        net.timings["consensus"] = time.monotonic() - t0
        # Relays sit in download back-off after missing the first consensus: make them
        # fetch the complete one now (pitfall 4).
        for node in nodes[1:]:
            net._signal(node, signal.SIGHUP)
        return net

    @classmethod
    def load(cls, dir: Path) -> Testnet:
        """The network recorded in ``dir/testnet.json``."""
        path = Path(dir).expanduser() / TESTNET_FILE
        try:
            info = json.loads(path.read_text())
            nodes = [NodeInfo(**n) for n in info["nodes"]]
            return cls(
                path.parent.resolve(), nodes, str(info["dir_authority"]), bool(info["owned"])
            )
        except FileNotFoundError as exc:
            raise TestnetError(f"no network recorded in {path.parent}") from exc
        except (ValueError, KeyError, TypeError) as exc:
            raise TestnetError(f"{path} is damaged: {exc}") from exc

    # -- files and processes ----------------------------------------------------------

    def _node_dir(self, node: NodeInfo) -> Path:
        return self.dir / node.name

    def _write_torrc(self, node: NodeInfo) -> None:
        d = private_dir(self._node_dir(node))
        (d / "empty").write_bytes(b"")
        owner = os.getpid() if self.owned else None
        (d / "torrc").write_text("\n".join(torrc_lines(node, d, self.dir_authority, owner)) + "\n")

    def _spawn(self, node: NodeInfo) -> subprocess.Popen[bytes]:
        d = self._node_dir(node)
        try:
            proc = subprocess.Popen(
                ["tor", "-f", str(d / "torrc"), "--defaults-torrc", str(d / "empty")],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                # No parent-death signal here: it would fire when the *thread* that forked
                # exits. tor's __OwningControllerProcess watch (15 s poll) is enough.
                start_new_session=True,
            )
        except OSError as exc:
            raise TestnetError(f"cannot run tor: {exc}") from exc
        return proc

    def client_options(self) -> list[tuple[str, str]]:
        """The torrc lines a client needs to join this network."""
        return [("TestingTorNetwork", "1"), ("DirAuthority", self.dir_authority)]

    def client_config(self, data_dir: Path, **kwargs: object) -> TorConfig:
        """A :class:`TorConfig` for a client tor of this network."""
        return TorConfig(Path(data_dir), options=self.client_options(), **kwargs)  # type: ignore[arg-type]

    def save(self) -> None:
        """Write ``testnet.json``."""
        info = {
            "dir_authority": self.dir_authority,
            "client_options": self.client_options(),
            "owned": self.owned,
            "nodes": [asdict(n) for n in self.nodes],
        }
        (self.dir / TESTNET_FILE).write_text(json.dumps(info, indent=2) + "\n")

    def alive(self, node: NodeInfo) -> bool:
        """True when ``node``'s recorded pid is still *our* tor (not a reused pid)."""
        proc = self._procs.get(node.name)
        if proc is not None:
            # Our child: poll() is exact (just after Popen the child may still be in execve,
            # its /proc cmdline empty).
            return proc.poll() is None
        if node.pid is None:
            return False
        try:
            cmdline = Path(f"/proc/{node.pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return False
        return str(self._node_dir(node) / "torrc").encode() in cmdline

    def _signal(self, node: NodeInfo, sig: signal.Signals) -> None:
        if self.alive(node) and node.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(node.pid, sig)

    def stop(self, grace: float = 5.0) -> None:
        """SIGTERM every process we started (SIGKILL after ``grace``); removes no file."""
        for node in self.nodes:
            self._signal(node, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for node in self.nodes:
            while self.alive(node) and time.monotonic() < deadline:
                time.sleep(0.05)
            self._signal(node, signal.SIGKILL)
            proc = self._procs.get(node.name)
            if proc is not None:
                proc.wait()  # reap our child

    # -- consensus --------------------------------------------------------------------

    def fetch_consensus(self, timeout: float = 5.0) -> str | None:
        """The authority's current consensus text, or None if it serves none yet."""
        auth = self.nodes[0]
        url = f"http://127.0.0.1:{auth.dir_port}/tor/status-vote/current/consensus"
        try:
            with urllib.request.urlopen(url, timeout=timeout) as reply:
                return str(reply.read().decode("utf-8", "replace"))
        except (urllib.error.URLError, OSError, ValueError):
            return None

    async def wait_consensus(self, timeout: float = 120.0, poll: float = 1.0) -> None:
        """Wait until a valid consensus lists every node as Running and Valid."""
        deadline = time.monotonic() + timeout
        while True:
            dead = [n for n in self.nodes if not self.alive(n)]
            if dead:
                raise TestnetError(
                    f"tor exited: {', '.join(n.name for n in dead)}; "
                    f"{dead[0].name}/notice.log ends:\n{self._log_tail(dead[0])}"
                )
            text = await asyncio.to_thread(self.fetch_consensus)
            if text is not None and len(parse_consensus(text)) >= len(self.nodes):
                return
            if time.monotonic() > deadline:
                raise TestnetError(
                    f"no consensus listing all {len(self.nodes)} nodes after {timeout} s"
                )
            await asyncio.sleep(poll)

    def _log_tail(self, node: NodeInfo, lines: int = 8) -> str:
        try:
            text = (self._node_dir(node) / "notice.log").read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def status(self) -> dict[str, object]:
        """Which processes run and how many usable relays the consensus lists."""
        text = self.fetch_consensus(timeout=2.0)
        return {
            "dir": str(self.dir),
            "processes": {n.name: (n.pid if self.alive(n) else None) for n in self.nodes},
            "relays_in_consensus": len(parse_consensus(text)) if text else 0,
            "dir_authority": self.dir_authority,
        }


def _make_authority(base: Path, auth: NodeInfo) -> str:
    """Keys for the authority; its ``DirAuthority`` line."""
    d = private_dir(base / auth.name)
    cert_fp = gencert(d / "keys", f"127.0.0.1:{auth.dir_port}")
    rsa_fp = relay_fingerprint(d)
    where = f"127.0.0.1:{auth.dir_port}"
    return f"{auth.name} orport={auth.or_port} no-v2 v3ident={cert_fp} {where} {rsa_fp}"
