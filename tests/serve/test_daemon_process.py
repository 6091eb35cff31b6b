"""The real ``--serve`` daemon in a subprocess (with the harness node), driven by ``ohtchat cmd``.

Covers signals (SIGTERM/SIGINT clean stop, SIGHUP reload), passphrase sources, JSON logs,
the one-node-per-data-dir lock (two processes) and ``ohtchat cmd`` exit statuses.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ohtchat.serve.control import socket_is_live
from tests.waiting import DEADLINE, eventually_sync

HARNESS = Path(__file__).with_name("harness.py")
PASS = "pw from env"


class Served:
    """A harness daemon process; stderr goes to a file we can poll."""

    def __init__(self, data_dir: Path, *extra: str, env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.log = data_dir.parent / f"{data_dir.name}.{time.monotonic_ns()}.log"
        full_env = {**os.environ, "OHTCHAT_PASSPHRASE": PASS} if env is None else env
        with open(self.log, "wb") as err:
            self.proc = subprocess.Popen(
                [sys.executable, str(HARNESS), "--data-dir", str(data_dir), *extra],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err,
                env=full_env,
            )

    @property
    def stderr(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_ready(self, sock: Path | None = None) -> None:
        path = sock or self.data_dir / "control.sock"

        def live() -> bool:
            if self.proc.poll() is not None:  # fail at once, not at the deadline
                raise RuntimeError(f"daemon exited: {self.stderr}")
            return socket_is_live(path)

        eventually_sync(live, "the daemon's control socket")

    def wait_log(self, text: str) -> None:
        def logged() -> bool:
            log = self.stderr
            assert text in log, f"{text!r} not logged yet: {log}"
            return True

        eventually_sync(logged, f"{text!r} logged")

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(DEADLINE)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture
def served(short_tmp: Path) -> Iterator[list[Served]]:
    started: list[Served] = []
    yield started
    for s in started:
        s.kill()


def cmd(data_dir: Path, *line: str, json_out: bool = True) -> tuple[int, Any, str]:
    argv = [sys.executable, "-m", "ohtchat.cli", "cmd", "--data-dir", str(data_dir)]
    argv += ["--json"] if json_out else []
    proc = subprocess.run([*argv, *line], capture_output=True, text=True, timeout=60)
    out: Any = json.loads(proc.stdout) if json_out and proc.stdout else proc.stdout
    return proc.returncode, out, proc.stderr


def test_serve_cmd_and_clean_sigterm(short_tmp: Path, served: list[Served]) -> None:
    data = short_tmp / "node"
    node = Served(data, "--store", "--log-format", "json")
    served.append(node)
    node.wait_ready()
    sock = data / "control.sock"
    assert (sock.stat().st_mode & 0o777) == 0o600
    # the passphrase reached the node from the environment, and is not in argv
    node.wait_log(f"HARNESS PASSPHRASE {PASS!r}")
    cmdline = Path(f"/proc/{node.proc.pid}/cmdline").read_bytes()
    assert PASS.encode() not in cmdline

    rc, out, _err = cmd(data, "/status")
    assert rc == 0 and out["ok"] is True and out["data"]["name"] == "harness"
    rc, out, _err = cmd(data, "/whisper", "bob", "two  spaces")
    assert rc == 0 and out["ok"]
    rc, out, _err = cmd(data, "/history bob")
    assert out["data"]["messages"][0]["text"] == "two  spaces"
    rc, out, _err = cmd(data, "/ping 127.0.0.1:9")
    assert rc == 1 and out["ok"] is False and out["data"]["error"] == "unavailable"
    rc, out, _err = cmd(data, "/whisper")
    assert rc == 1 and out["data"]["error"] == "usage"
    rc, text, err = cmd(data, "/get nothing", json_out=False)
    assert rc == 1 and text == "" and "no value for nothing" in err
    rc, text, _err = cmd(data, "/status", json_out=False)
    assert rc == 0 and text == "harness is up\n"

    assert node.stop(signal.SIGTERM) == 0
    log = node.stderr
    assert "HARNESS STOPPED CLEANLY" in log
    records = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    messages = [r["message"] for r in records]
    assert "stopping (SIGTERM)" in messages and "node stopped cleanly" in messages
    assert not sock.exists()
    rc, out, _err = cmd(data, "/status")
    assert rc == 2 and out["data"]["error"] == "unreachable"


def test_second_serve_on_the_same_data_dir_is_refused(
    short_tmp: Path, served: list[Served]
) -> None:
    data = short_tmp / "node"
    first = Served(data, "--store")
    served.append(first)
    first.wait_ready()
    # Same socket: refused before touching the store.
    second = Served(data, "--store")
    served.append(second)
    assert second.proc.wait(DEADLINE) == 1
    assert "already serves" in second.stderr
    # Another socket, same data dir: the store's lock refuses, and says what to do.
    third = Served(data, "--store", "--control-socket", str(short_tmp / "other.sock"))
    served.append(third)
    assert third.proc.wait(DEADLINE) == 1
    assert f"in use by another ohtchat process (pid {first.proc.pid})" in third.stderr
    assert "ohtchat cmd --data-dir" in third.stderr
    # The first node is unharmed.
    assert cmd(data, "/status")[0] == 0
    assert first.stop(signal.SIGINT) == 0
    assert "HARNESS STOPPED CLEANLY" in first.stderr


def test_sighup_reloads_config(short_tmp: Path, served: list[Served]) -> None:
    data = short_tmp / "node"
    node = Served(data)
    served.append(node)
    node.wait_ready()
    (data / "config.toml").write_text('[log]\nlevel = "debug"\n')
    node.proc.send_signal(signal.SIGHUP)
    node.wait_log("configuration reloaded from")
    (data / "config.toml").write_text("not = [valid toml\n")
    node.proc.send_signal(signal.SIGHUP)
    node.wait_log("configuration not reloaded")
    assert cmd(data, "/status")[0] == 0  # still serving
    assert node.stop() == 0


@pytest.mark.parametrize("source", ["file", "environment", "credential", "none"])
def test_passphrase_sources(short_tmp: Path, served: list[Served], source: str) -> None:
    data = short_tmp / "node"
    env = {k: v for k, v in os.environ.items() if k != "OHTCHAT_PASSPHRASE"}
    extra: list[str] = []
    if source == "file":
        (short_tmp / "pw").write_text("from file\n")
        extra = ["--passphrase-file", str(short_tmp / "pw")]
    elif source == "environment":
        env["OHTCHAT_PASSPHRASE"] = "from the environment"
    elif source == "credential":
        creds = short_tmp / "creds"
        creds.mkdir()
        (creds / "ohtchat-passphrase").write_text("from systemd")
        env["CREDENTIALS_DIRECTORY"] = str(creds)
    node = Served(data, "--store", *extra, env=env)
    served.append(node)
    if source == "none":
        assert node.proc.wait(DEADLINE) == 2
        assert "no passphrase" in node.stderr and "OHTCHAT_PASSPHRASE" in node.stderr
        return
    node.wait_ready()
    expected = {"file": "from file", "environment": "from the environment"}.get(
        source, "from systemd"
    )
    node.wait_log(f"HARNESS PASSPHRASE {expected!r}")
    # Read, used, and gone from what other processes of this user can see.
    assert expected.encode() not in Path(f"/proc/{node.proc.pid}/environ").read_bytes()
    assert node.stop() == 0


def test_cmd_without_node_and_bad_options(short_tmp: Path) -> None:
    rc, out, _ = cmd(short_tmp / "nothing", "/status")
    assert rc == 2 and out["ok"] is False and out["data"]["error"] == "unreachable"
    rc, _text, err = cmd(short_tmp / "nothing", "/status", json_out=False)
    assert rc == 2 and "is `ohtchat --serve` running?" in err
    proc = subprocess.run(
        [sys.executable, str(HARNESS), "--data-dir", str(short_tmp), "--listen", "x"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and "--listen 'x': expected HOST:PORT" in proc.stderr
