"""The ``ohtchat`` command line: the TUI by default, ``--serve``, ``--attach``, ``console``,
``cmd``, ``testnet`` and ``demo``."""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import sys
from typing import Any

from ohtchat import __version__
from ohtchat.serve.logs import FORMATS, LEVELS
from ohtchat.serve.options import (
    NodeSettings,
    OptionError,
    add_data_dir_options,
    add_node_options,
    control_socket_path,
)


def build_parser() -> argparse.ArgumentParser:
    """The top-level argument parser (sub-commands are added by their own modules)."""
    parser = argparse.ArgumentParser(
        prog="ohtchat",
        description="Anonymous peer-to-peer chat over Tor onion services on a Chord ring.",
        allow_abbrev=False,  # "--passphrase x" must not pass for "--passphrase-file x"
    )
    parser.add_argument("--version", action="version", version=f"ohtchat {__version__}")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--serve", action="store_true", help="run a node without UI (a daemon)")
    mode.add_argument(
        "--attach", action="store_true", help="open the TUI on a running --serve node"
    )
    add_node_options(parser)
    parser.add_argument("--log-format", choices=FORMATS, default="human", help="--serve log")
    parser.add_argument("--log-level", choices=LEVELS, default="info", help="--serve log level")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("demo", help="start a private Tor network, a few bots and the chat client")
    _add_console(sub)
    _add_cmd(sub)
    _add_testnet(sub)
    return parser


def _add_console(sub: Any) -> None:
    p = sub.add_parser("console", help="the line console (ohtchat> prompt)", allow_abbrev=False)
    p.add_argument("--attach", action="store_true", help="use a running --serve node")
    _suppress_defaults(p, add_node_options)


def _add_cmd(sub: Any) -> None:
    p = sub.add_parser(
        "cmd", help="send one console command to the running node", allow_abbrev=False
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--conversation", default=None, help="where plain text goes")
    p.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for the answer")
    _suppress_defaults(p, add_data_dir_options)
    p.add_argument("line", nargs="+", metavar="COMMAND", help='e.g. "/status"')


def _add_testnet(sub: Any) -> None:
    if importlib.util.find_spec("ohtchat.tor.cli") is None:
        return
    from ohtchat.tor.cli import add_testnet_parser

    add_testnet_parser(sub)


def _suppress_defaults(parser: argparse.ArgumentParser, adder: Any) -> None:
    """Add options whose absence keeps the value given before the sub-command."""
    before = len(parser._actions)
    adder(parser)
    for action in parser._actions[before:]:
        action.default = argparse.SUPPRESS


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "demo":
            from ohtchat.demo import main as demo_main

            return demo_main(args)
        if args.command == "cmd":
            from ohtchat.serve.oneshot import main_cmd

            sock = control_socket_path(args.data_dir, args.control_socket)
            line = " ".join(args.line)
            return main_cmd(
                sock, line, as_json=args.json, conversation=args.conversation, timeout=args.timeout
            )
        if args.command == "console":
            return _console(args)
        if getattr(args, "handler", None) is not None:
            return int(args.handler(args))
        if args.serve:
            from ohtchat.serve.daemon import run_serve

            return run_serve(args)
        if args.attach:
            return _attach(args)
        return _tui(args, parser)
    except OptionError as exc:
        parser.error(str(exc))
    except KeyboardInterrupt:
        return 130


def _console(args: argparse.Namespace) -> int:
    from ohtchat.serve.console import run_console

    settings = NodeSettings.from_args(args)
    if args.attach:
        from ohtchat.serve.client import NodeUnreachable, RemoteBackend

        async def attached() -> int:
            async with RemoteBackend(settings.control_socket) as backend:
                return await run_console(backend)

        try:
            return asyncio.run(attached())
        except NodeUnreachable as exc:
            print(f"ohtchat console: {exc}", file=sys.stderr)
            return 2
    return _in_process_console(settings)


def _in_process_console(settings: NodeSettings) -> int:
    from ohtchat.serve.console import run_console
    from ohtchat.serve.daemon import StartupError, start_chat_node
    from ohtchat.serve.passphrase import PassphraseError

    try:
        passphrase = "" if settings.memory else _interactive_passphrase(settings)
    except PassphraseError as exc:
        print(f"ohtchat console: {exc}", file=sys.stderr)
        return 2

    async def in_process() -> int:
        from ohtchat.store.errors import StoreError

        try:
            node = await start_chat_node(settings, passphrase)
        except (StoreError, StartupError, OSError) as exc:
            print(f"ohtchat console: {exc}", file=sys.stderr)
            return 1
        try:
            return await run_console(node)
        finally:
            await node.stop()

    return asyncio.run(in_process())


def _interactive_passphrase(settings: NodeSettings) -> str:
    """The passphrase from the usual sources, or asked on the terminal."""
    import getpass

    from ohtchat.serve.passphrase import PassphraseError, read_passphrase

    try:
        return read_passphrase(settings.passphrase_file)[0]
    except PassphraseError:
        if not sys.stdin.isatty():
            raise
        return getpass.getpass("Passphrase: ")


def _attach(args: argparse.Namespace) -> int:
    """``ohtchat --attach``: the TUI on a served node's control socket."""
    from ohtchat.serve.client import RemoteBackend
    from ohtchat.serve.control import socket_is_live

    settings = NodeSettings.from_args(args)
    if not socket_is_live(settings.control_socket):
        print(
            f"ohtchat --attach: no node serves {settings.control_socket}; "
            "start one with `ohtchat --serve` (same --data-dir)",
            file=sys.stderr,
        )
        return 2
    run_tui = _tui_runner()
    if run_tui is None:
        print("ohtchat --attach: the TUI is not available in this build", file=sys.stderr)
        return 1
    # Connected lazily, inside the TUI's own event loop.
    result = run_tui(RemoteBackend(settings.control_socket))
    if asyncio.iscoroutine(result):
        result = asyncio.run(result)
    return int(result or 0)


def _tui_app(name: str) -> Any:
    """``ohtchat.tui.app.<name>`` when the TUI is there (imported only here: the core never
    imports textual)."""
    if importlib.util.find_spec("ohtchat.tui") is None:
        return None
    if importlib.util.find_spec("ohtchat.tui.app") is None:
        return None
    from ohtchat.tui import app

    return getattr(app, name, None)


def _tui_runner() -> Any:
    """``run_tui(backend)`` of the TUI, or None."""
    return _tui_app("run_tui")


def _tui(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """The default: the full-screen client on an in-process node."""
    settings = NodeSettings.from_args(args)
    main_fn = _tui_app("main")
    if main_fn is None:
        parser.print_help()
        print("\nThe full-screen client is not built yet: try `ohtchat console`.", file=sys.stderr)
        return 0
    return int(main_fn(settings) or 0)


if __name__ == "__main__":
    sys.exit(main())
