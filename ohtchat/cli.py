"""The ``ohtchat`` command line: the TUI by default, ``--serve``, ``testnet`` and friends."""

from __future__ import annotations

import argparse
import sys

from ohtchat import __version__


def build_parser() -> argparse.ArgumentParser:
    """The top-level argument parser (sub-commands are added by their own modules)."""
    parser = argparse.ArgumentParser(
        prog="ohtchat",
        description="Anonymous peer-to-peer chat over Tor onion services on a Chord ring.",
    )
    parser.add_argument("--version", action="version", version=f"ohtchat {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("demo", help="start a private Tor network, a few bots and the chat client")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "demo":
        # Until the TUI and the private network land, the demo explains itself.
        parser.print_help()
        print("\nThe demo (private Tor network + bots + TUI) is not built yet.", file=sys.stderr)
        return 0
    parser.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
