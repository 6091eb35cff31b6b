"""Files of the private network: free ports, authority keys, torrc lines, consensus parsing."""

from __future__ import annotations

import socket
import subprocess
import tempfile
from pathlib import Path
from typing import Protocol

from ohtchat.tor.config import private_dir
from ohtchat.tor.errors import TestnetError

# Voting every 20 s with 4 s delays: 10 s voting was flaky (pitfall 5).
AUTHORITY_OPTIONS = (
    "AuthoritativeDirectory 1",
    "V3AuthoritativeDirectory 1",
    "V3AuthVotingInterval 20",
    "V3AuthVoteDelay 4",
    "V3AuthDistDelay 4",
    "TestingV3AuthInitialVotingInterval 20",
    "TestingV3AuthInitialVoteDelay 4",
    "TestingV3AuthInitialDistDelay 4",
    # Without these the relays got no Guard / HSDir flags in so small a network.
    "TestingDirAuthVoteGuard *",
    "TestingDirAuthVoteHSDir *",
)
# AssumeReachable: the full consensus in ~20 s instead of ~100 s (pitfall 4).
RELAY_OPTIONS = ("AssumeReachable 1",)


class NodeLike(Protocol):
    """What torrc generation needs to know about a node."""

    name: str
    or_port: int
    dir_port: int | None


def free_ports(n: int) -> list[int]:
    """``n`` distinct TCP ports free on 127.0.0.1 right now."""
    socks: list[socket.socket] = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _run(cmd: list[str], stdin: str = "") -> str:
    try:
        done = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise TestnetError(f"{cmd[0]} failed: {exc}") from exc
    if done.returncode != 0:
        raise TestnetError(f"{cmd[0]} failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return done.stdout


def gencert(keys: Path, address: str) -> str:
    """Create the authority identity, signing key and certificate; the cert fingerprint."""
    keys = private_dir(keys)
    _run(
        [
            "tor-gencert", "--create-identity-key", "--passphrase-fd", "0",
            "-i", str(keys / "authority_identity_key"),
            "-s", str(keys / "authority_signing_key"),
            "-c", str(keys / "authority_certificate"),
            "-m", "12", "-a", address,
        ],
        stdin="\n",
    )  # fmt: skip
    for line in (keys / "authority_certificate").read_text().splitlines():
        if line.startswith("fingerprint "):
            return line.split()[1]
    raise TestnetError("tor-gencert wrote no fingerprint")


def relay_fingerprint(data_dir: Path) -> str:
    """Create the relay identity in ``data_dir`` and return its RSA fingerprint."""
    with tempfile.TemporaryDirectory() as tmp:
        _run(
            [
                "tor", "--list-fingerprint", "--datadirectory", str(data_dir),
                "--orport", "1", "--ignore-missing-torrc", "-f", str(Path(tmp) / "none"),
            ]
        )  # fmt: skip
    try:
        return (data_dir / "fingerprint").read_text().split()[1]
    except (OSError, IndexError) as exc:
        raise TestnetError(f"tor wrote no fingerprint in {data_dir}") from exc


def torrc_lines(node: NodeLike, d: Path, dir_authority: str, owner: int | None) -> list[str]:
    """torrc of the authority (``node.dir_port`` set) or of a relay."""
    lines = [
        "TestingTorNetwork 1",
        f"DataDirectory {d}",
        f"Nickname {node.name}",
        "RunAsDaemon 0",
        f"Log notice file {d / 'notice.log'}",
        "SocksPort 0",
        f"ORPort 127.0.0.1:{node.or_port}",
        "Address 127.0.0.1",
        "ExitRelay 0",
        "ExitPolicy reject *:*",
        "ShutdownWaitLength 0",
        f"GeoIPFile {d / 'empty'}",
        f"GeoIPv6File {d / 'empty'}",
        f"DirAuthority {dir_authority}",
    ]
    if node.dir_port is not None:
        lines.append(f"DirPort 127.0.0.1:{node.dir_port}")
        lines += AUTHORITY_OPTIONS
    else:
        lines += RELAY_OPTIONS
    if owner is not None:
        lines.append(f"__OwningControllerProcess {owner}")
    return lines


def parse_consensus(text: str) -> list[str]:
    """Nicknames of the routers the consensus lists as Running and Valid."""
    usable: list[str] = []
    name: str | None = None
    for line in text.splitlines():
        if line.startswith("r "):
            parts = line.split()
            name = parts[1] if len(parts) > 1 else None
        elif line.startswith("s ") and name is not None:
            flags = set(line.split()[1:])
            if {"Running", "Valid"} <= flags:
                usable.append(name)
            name = None
    return usable
