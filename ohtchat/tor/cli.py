"""``ohtchat testnet up|down|status [--dir DIR] [--relays N]``: the private Tor network."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import platformdirs

from ohtchat.i18n import _, format_decimal
from ohtchat.tor.errors import TestnetError
from ohtchat.tor.testnet import DEFAULT_RELAYS, Testnet


def default_testnet_dir() -> Path:
    """Where the network lives unless ``--dir`` says otherwise."""
    return Path(platformdirs.user_data_dir("ohtchat")) / "testnet"


def add_testnet_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``testnet`` sub-command to an ``add_subparsers()`` object; returns its parser."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "testnet",
        help=_("a private Tor network on 127.0.0.1 (up, down, status)"),
        description=_(
            "Start (up), stop (down) or describe (status) a private Tor network on 127.0.0.1."
        ),
    )
    parser.add_argument(
        "action", choices=("up", "down", "status"), help=_("what to do with the network")
    )
    parser.add_argument(
        "--dir",
        type=Path,
        default=None,
        help=_("network directory (default: {path})").format(
            path=str(default_testnet_dir()).replace("%", "%%")  # argparse expands %
        ),
    )
    parser.add_argument(
        "--relays", type=int, default=DEFAULT_RELAYS, help=_("relays besides the authority")
    )
    parser.set_defaults(handler=run_testnet_command)
    return parser


def run_testnet_command(args: argparse.Namespace) -> int:
    """Run ``ohtchat testnet …``; returns the exit status (errors go to stderr)."""
    directory = Path(args.dir) if args.dir is not None else default_testnet_dir()
    try:
        if args.action == "up":
            net = asyncio.run(Testnet.start(directory, relays=args.relays, owned=False))
            seconds = format_decimal(net.timings["consensus"], "0.0")
            print(
                _("private Tor network up in {seconds} s: {dir}").format(
                    seconds=seconds, dir=net.dir
                )
            )
            print(_("join it with: {command}").format(command=f"ohtchat --tor-testnet {net.dir}"))
        elif args.action == "down":
            net = Testnet.load(directory)
            net.stop()
            print(_("stopped every process of {dir} (files kept)").format(dir=net.dir))
        else:
            print(json.dumps(Testnet.load(directory).status(), indent=2))
    except TestnetError as exc:
        print(f"ohtchat testnet {args.action}: {exc}", file=sys.stderr)
        return 1
    return 0
