"""``ohtchat testnet up|down|status [--dir DIR] [--relays N]``: the private Tor network."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import platformdirs

from ohtchat.tor.errors import TestnetError
from ohtchat.tor.testnet import DEFAULT_RELAYS, Testnet


def default_testnet_dir() -> Path:
    """Where the network lives unless ``--dir`` says otherwise."""
    return Path(platformdirs.user_data_dir("ohtchat")) / "testnet"


def add_testnet_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``testnet`` sub-command to an ``add_subparsers()`` object; returns its parser."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "testnet", help="a private Tor network on 127.0.0.1 (up, down, status)"
    )
    parser.add_argument("action", choices=("up", "down", "status"))
    parser.add_argument("--dir", type=Path, default=None, help="network directory")
    parser.add_argument(
        "--relays", type=int, default=DEFAULT_RELAYS, help="relays besides the authority"
    )
    parser.set_defaults(handler=run_testnet_command)
    return parser


def run_testnet_command(args: argparse.Namespace) -> int:
    """Run ``ohtchat testnet …``; returns the exit status (errors go to stderr)."""
    directory = Path(args.dir) if args.dir is not None else default_testnet_dir()
    try:
        if args.action == "up":
            net = asyncio.run(Testnet.start(directory, relays=args.relays, owned=False))
            print(f"private Tor network up in {net.timings['consensus']:.1f} s: {net.dir}")
            print(f"join it with: ohtchat --tor-testnet {net.dir}")
        elif args.action == "down":
            net = Testnet.load(directory)
            net.stop()
            print(f"stopped every process of {net.dir} (files kept)")
        else:
            print(json.dumps(Testnet.load(directory).status(), indent=2))
    except TestnetError as exc:
        print(f"ohtchat testnet {args.action}: {exc}", file=sys.stderr)
        return 1
    return 0
