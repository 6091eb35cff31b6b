"""Opening stem controllers without stem's ownership trap, and parsing tor status replies.

stem sends ``TAKEOWNERSHIP`` whenever ``__OwningControllerProcess`` equals the pid of the
Python process that connects (tor-testnet pitfall 1); tor then exits as soon as *that one
control connection* closes. We want tor to die with our process, not with a connection, so
after authenticating we hand ownership back (``DROPOWNERSHIP``) and restore the pid watch.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import stem
import stem.connection
import stem.control

from ohtchat.tor.errors import TorStartError

_KV = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S+)')


class TorState(Enum):
    """Coarse life-cycle state of our tor."""

    STOPPED = "stopped"
    STARTING = "starting"
    BOOTSTRAPPING = "bootstrapping"
    READY = "ready"
    RESTARTING = "restarting"
    FAILED = "failed"


@dataclass(frozen=True)
class TorStatus:
    """One bootstrap / life-cycle update (the TUI draws a progress bar from these)."""

    progress: int
    summary: str
    state: TorState


def parse_bootstrap(line: str) -> tuple[int, str] | None:
    """(progress, summary) from a ``BOOTSTRAP PROGRESS=.. SUMMARY=".."`` status line."""
    if "BOOTSTRAP" not in line:
        return None
    fields = {k: v.strip('"') for k, v in _KV.findall(line)}
    try:
        return int(fields["PROGRESS"]), fields.get("SUMMARY", "")
    except (KeyError, ValueError):
        return None


def parse_control_spec(spec: str) -> Path | tuple[str, int]:
    """``--tor-control`` argument: a unix socket path, or ``HOST:PORT`` for TCP."""
    spec = spec.strip()
    if not spec:
        raise TorStartError("empty --tor-control value")
    if "/" in spec or spec.startswith("unix:"):
        return Path(spec.removeprefix("unix:")).expanduser()
    host, sep, port = spec.rpartition(":")
    if sep and host and port.isdigit() and 0 < int(port) < 65536:
        return host.strip("[]"), int(port)
    if spec.isdigit() and 0 < int(spec) < 65536:
        return "127.0.0.1", int(spec)
    raise TorStartError(f"--tor-control must be a socket path or HOST:PORT, got {spec!r}")


def open_controller(
    where: Path | tuple[str, int], password: str | None = None
) -> stem.control.Controller:
    """Connect and authenticate (blocking: call through ``asyncio.to_thread``).

    If stem took ownership of tor on this connection, give it back so that closing the
    connection does not stop tor; tor keeps watching our pid instead.
    """
    try:
        if isinstance(where, Path):
            controller = stem.control.Controller.from_socket_file(str(where))
        else:
            controller = stem.control.Controller.from_port(where[0], where[1])
    except stem.SocketError as exc:
        raise TorStartError(f"cannot reach tor's control port at {where}: {exc}") from exc
    try:
        controller.authenticate(password=password)
        owner = controller.get_conf("__OwningControllerProcess", None)
        if owner is None and _launched_by_us(controller):
            # stem sent TAKEOWNERSHIP and cleared the pid watch: undo both.
            controller.msg("DROPOWNERSHIP")
            controller.set_conf("__OwningControllerProcess", str(os.getpid()))
    except (stem.connection.AuthenticationFailure, stem.ControllerError) as exc:
        controller.close()
        raise TorStartError(f"cannot authenticate to tor at {where}: {exc}") from exc
    return controller


def _launched_by_us(controller: stem.control.Controller) -> bool:
    # stem only clears __OwningControllerProcess after its TAKEOWNERSHIP, which it sends
    # only when the option named our pid, i.e. for a tor we launched as owner.
    try:
        pid = controller.get_pid(None)
    except Exception:  # stem raises various errors for remote tors
        return False
    return pid is not None and pid in _OWNED_PIDS


#: pids of tor processes this Python process launched with itself as owner.
_OWNED_PIDS: set[int] = set()


def register_owned_pid(pid: int) -> None:
    """Remember that we launched tor ``pid`` owned by this process."""
    _OWNED_PIDS.add(pid)


def forget_owned_pid(pid: int) -> None:
    """Forget a tor pid (it exited)."""
    _OWNED_PIDS.discard(pid)
