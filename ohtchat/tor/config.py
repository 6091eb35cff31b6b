"""How a tor process of ours is configured: paths, torrc lines, testnet membership.

Everything a client tor listens on is a **unix socket** inside its own data directory
(mode 0700): the control socket and the SOCKS socket. No TCP port is opened, so no other
program on the machine can use our tor.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from ohtchat.tor.errors import TorConfigError

#: Linux limits a unix socket path to 108 bytes including the terminating NUL.
MAX_UNIX_PATH = 107
TESTNET_FILE = "testnet.json"

# Fixed timeouts instead of learned ones: on loopback tor learns 45–81 ms and then abandons
# rendezvous circuits under CPU load (tor-testnet pitfall 2). Harmless on the real network.
CLIENT_OPTIONS: tuple[tuple[str, str], ...] = (
    ("LearnCircuitBuildTimeout", "0"),
    ("CircuitBuildTimeout", "30"),
    ("ShutdownWaitLength", "0"),
    ("ClientOnly", "1"),
    ("AvoidDiskWrites", "1"),
)


def check_socket_path(path: Path) -> Path:
    """``path`` if it can be a unix socket path (length, no whitespace), else TorConfigError."""
    raw = os.fsencode(path)
    if len(raw) > MAX_UNIX_PATH:
        raise TorConfigError(
            f"unix socket path is {len(raw)} bytes, the limit is {MAX_UNIX_PATH}: {path} "
            "(choose a shorter data directory)"
        )
    if any(ch.isspace() or ch == '"' for ch in str(path)):
        raise TorConfigError(f"unix socket path may not contain spaces or quotes: {path!r}")
    return path


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) and force mode 0700 on it; returns it resolved."""
    path = Path(path).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.chmod(0o700)
    return path


@dataclass
class TorConfig:
    """Configuration of a tor we launch (see :class:`ohtchat.tor.process.TorProcess`)."""

    #: tor's DataDirectory; created with mode 0700; holds the sockets and the torrc too.
    data_dir: Path
    #: The tor executable.
    tor_binary: str = "tor"
    #: Extra torrc lines (key, value), e.g. the DirAuthority lines of a private network.
    options: list[tuple[str, str]] = field(default_factory=list)
    #: Tie tor's life to this process (``__OwningControllerProcess`` + parent-death signal).
    owned: bool = True
    #: Start with ``DisableNetwork 1`` (tests that need no network at all).
    disable_network: bool = False
    #: Empty GeoIP files: saves ~35 MB per tor; a chat client needs no country lookup.
    empty_geoip: bool = True

    @classmethod
    def for_testnet(cls, data_dir: Path, testnet_dir: Path, **kwargs: object) -> TorConfig:
        """A client configuration that joins the private network recorded in ``testnet_dir``."""
        return cls(Path(data_dir), options=testnet_client_options(testnet_dir), **kwargs)  # type: ignore[arg-type]

    @property
    def control_socket(self) -> Path:
        """Path of the ControlPort unix socket."""
        return Path(self.data_dir) / "control.sock"

    @property
    def socks_socket(self) -> Path:
        """Path of the SocksPort unix socket."""
        return Path(self.data_dir) / "socks.sock"

    @property
    def torrc_path(self) -> Path:
        """Where the generated torrc is written."""
        return Path(self.data_dir) / "torrc"

    @property
    def empty_file(self) -> Path:
        """An empty file used as defaults-torrc and GeoIP database."""
        return Path(self.data_dir) / "empty"

    def torrc_lines(self, owner_pid: int | None) -> list[str]:
        """The torrc as lines; ``owner_pid`` becomes ``__OwningControllerProcess``."""
        data = Path(self.data_dir)
        control = check_socket_path(self.control_socket)
        socks = check_socket_path(self.socks_socket)
        lines = [
            f"DataDirectory {data}",
            f"ControlPort unix:{control}",
            "CookieAuthentication 1",
            # OnionTrafficOnly: this SOCKS port reaches onion services and nothing else.
            f"SocksPort unix:{socks} OnionTrafficOnly ExtendedErrors",
            "Log notice stdout",
        ]
        lines += [f"{key} {value}" for key, value in CLIENT_OPTIONS]
        if self.empty_geoip:
            lines += [f"GeoIPFile {self.empty_file}", f"GeoIPv6File {self.empty_file}"]
        if self.disable_network:
            lines.append("DisableNetwork 1")
        if owner_pid is not None:
            lines.append(f"__OwningControllerProcess {owner_pid}")
        lines += [f"{key} {value}" for key, value in self.options]
        return lines

    def prepare(self, owner_pid: int | None) -> None:
        """Create the data directory (0700), the empty file and the torrc."""
        self.data_dir = private_dir(Path(self.data_dir))
        self.empty_file.write_bytes(b"")
        self.torrc_path.write_text("\n".join(self.torrc_lines(owner_pid)) + "\n")


def testnet_client_options(testnet_dir: Path) -> list[tuple[str, str]]:
    """The torrc lines a client needs to join the private network in ``testnet_dir``."""
    path = Path(testnet_dir).expanduser() / TESTNET_FILE
    try:
        info = json.loads(path.read_text())
        options = [(str(k), str(v)) for k, v in info["client_options"]]
    except FileNotFoundError as exc:
        raise TorConfigError(
            f"no private network here ({path} missing): run `ohtchat testnet up`"
        ) from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise TorConfigError(f"{path} is not a valid testnet description: {exc}") from exc
    return options
