"""The ``ohtchat`` command line: the TUI by default, ``--serve``, ``--attach``, ``console``,
``cmd``, ``testnet`` and ``demo``."""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from ohtchat import __version__
from ohtchat.i18n import N_, UnknownLanguage, _, gettext, set_language
from ohtchat.serve.logs import FORMATS, LEVELS
from ohtchat.serve.options import (
    NodeSettings,
    OptionError,
    add_data_dir_options,
    add_node_options,
    control_socket_path,
)

# argparse's own texts (usage line, group titles, -h, parse errors) that users see. argparse
# translates them through the stdlib ``gettext``; marking them here puts them in our
# catalogs, and ``_argparse_in_active_language`` routes argparse to those catalogs.
_ARGPARSE_TEXTS = frozenset(
    (
        N_("usage: "),
        N_("positional arguments"),
        N_("options"),
        N_("show this help message and exit"),
        N_("%(prog)s: error: %(message)s\n"),
        N_("the following arguments are required: %s"),
        N_("unrecognized arguments: %s"),
        N_("invalid choice: %(value)r (choose from %(choices)s)"),
        N_("argument %(argument_name)s: %(message)s"),
        N_("not allowed with argument %s"),
        N_("expected one argument"),
        N_("expected at least one argument"),
        N_("invalid %(type)s value: %(value)r"),
        N_("one of the arguments %s is required"),
    )
)


@contextmanager
def _argparse_in_active_language() -> Iterator[None]:
    """Let argparse's built-in texts follow the active language while the block runs."""
    module: Any = argparse  # ``argparse._`` is not in the type stubs
    original = module._

    def translate(message: str) -> str:
        return gettext(message) if message in _ARGPARSE_TEXTS else str(original(message))

    module._ = translate
    try:
        yield
    finally:
        module._ = original


def requested_language(argv: Sequence[str]) -> str | None:
    """The value of the last ``--lang X`` / ``--lang=X`` in ``argv`` (before a ``--``).

    Read before the parser exists, because the parser's help texts are already translated.
    """
    language = None
    args = iter(argv)
    for arg in args:
        if arg == "--":
            break
        if arg == "--lang":
            language = next(args, None)
        elif arg.startswith("--lang="):
            language = arg.partition("=")[2]
    return language


def activate_language(requested: str | None) -> UnknownLanguage | None:
    """Switch to ``requested`` (``--lang``) or the environment's language.

    Returns the error of an unknown ``--lang`` (the environment's language is then active,
    so the error can be reported in it); None on success.
    """
    try:
        set_language(requested or None, strict=True)
    except UnknownLanguage as exc:
        set_language(None)
        return exc
    return None


def build_parser() -> argparse.ArgumentParser:
    """The top-level argument parser (sub-commands are added by their own modules).

    Its texts are translated into the language active when it is built.
    """
    parser = argparse.ArgumentParser(
        prog="ohtchat",
        description=_("Anonymous peer-to-peer chat over Tor onion services on a Chord ring."),
        allow_abbrev=False,  # "--passphrase x" must not pass for "--passphrase-file x"
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"ohtchat {__version__}",
        help=_("show the version and exit"),
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--serve", action="store_true", help=_("run a node without UI (a daemon)"))
    mode.add_argument(
        "--attach", action="store_true", help=_("open the TUI on a running --serve node")
    )
    add_node_options(parser)
    parser.add_argument(
        "--log-format", choices=FORMATS, default="human", help=_("log format of --serve")
    )
    parser.add_argument(
        "--log-level", choices=LEVELS, default="info", help=_("log level of --serve")
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser(
        "demo",
        help=_("start a private Tor network, a few bots and the chat client"),
        description=_("Start a private Tor network, a few bots and the chat client."),
    )
    _add_console(sub)
    _add_cmd(sub)
    _add_link(sub)
    _add_testnet(sub)
    return parser


def _add_console(sub: Any) -> None:
    p = sub.add_parser(
        "console",
        help=_("the line console (ohtchat> prompt)"),
        description=_("The line console: type /help at the ohtchat> prompt."),
        allow_abbrev=False,
    )
    p.add_argument("--attach", action="store_true", help=_("use a running --serve node"))
    _suppress_defaults(p, add_node_options)


def _add_cmd(sub: Any) -> None:
    p = sub.add_parser(
        "cmd",
        help=_("send one console command to the running node"),
        description=_("Send one console command to the node started with --serve."),
        allow_abbrev=False,
    )
    p.add_argument("--json", action="store_true", help=_("print one JSON object"))
    p.add_argument("--conversation", default=None, help=_("where plain text goes"))
    p.add_argument("--timeout", type=float, default=300.0, help=_("seconds to wait for the answer"))
    _suppress_defaults(p, add_data_dir_options)
    p.add_argument("line", nargs="+", metavar="COMMAND", help=_('for example "/status"'))


def _add_link(sub: Any) -> None:
    p = sub.add_parser(
        "link",
        help=_("make a new data directory a device of an account you have elsewhere"),
        description=_(
            "Link this device to your account: run /link on a device that has it, then "
            "`ohtchat link CODE --data-dir NEW_DIR` here (--name names this device) and "
            "confirm the digits this device shows with /link confirm DIGITS over there."
        ),
        allow_abbrev=False,
    )
    p.add_argument("code", metavar="CODE", help=_("the code /link showed (ohtchat-link:…)"))
    _suppress_defaults(p, add_node_options)


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


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit status."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    # The language comes first: the parser's help texts are translated as it is built.
    unknown = activate_language(requested_language(arguments))
    with _argparse_in_active_language():
        parser = build_parser()
        if unknown is not None:
            parser.error(
                _("--lang {language}: no such language; choose one of {available}").format(
                    language=unknown.language, available=", ".join(unknown.available)
                )
            )
        args = parser.parse_args(arguments)
        try:
            return _run(args, parser)
        except OptionError as exc:
            parser.error(str(exc))
        except KeyboardInterrupt:
            return 130


def _run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Dispatch the parsed command line."""
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
    if args.command == "link":
        return _link(args)
    if getattr(args, "handler", None) is not None:
        return int(args.handler(args))
    if args.serve:
        from ohtchat.serve.daemon import run_serve

        return run_serve(args)
    if args.attach:
        return _attach(args)
    return _tui(args, parser)


def _fail(prefix: str, message: object) -> None:
    """``<prefix>: <message>`` on stderr (the prefix names the command, never translated)."""
    print(f"{prefix}: {message}", file=sys.stderr)


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
            _fail("ohtchat console", exc)
            return 2
    return _in_process_console(settings)


def _in_process_console(settings: NodeSettings) -> int:
    from ohtchat.serve.console import run_console
    from ohtchat.serve.daemon import StartupError, start_chat_node
    from ohtchat.serve.passphrase import PassphraseError

    try:
        passphrase = "" if settings.memory else _interactive_passphrase(settings)
    except PassphraseError as exc:
        _fail("ohtchat console", exc)
        return 2

    async def in_process() -> int:
        from ohtchat.store.errors import StoreError

        try:
            node = await start_chat_node(settings, passphrase)
        except (StoreError, StartupError, OSError) as exc:
            _fail("ohtchat console", exc)
            return 1
        try:
            return await run_console(node)
        finally:
            await node.stop()

    return asyncio.run(in_process())


def _link(args: argparse.Namespace) -> int:
    """``ohtchat link CODE``: start a node with a throwaway account, link it, stop."""
    from ohtchat.serve.passphrase import PassphraseError

    settings = NodeSettings.from_args(args)
    try:
        passphrase = "" if settings.memory else _interactive_passphrase(settings)
    except PassphraseError as exc:
        _fail("ohtchat link", exc)
        return 2
    import dataclasses
    import os
    import socket

    from ohtchat.app.linking_run import run_link

    device = settings.name or socket.gethostname() or "device"
    # The node starts as a throwaway account (replaced by the linked one); a distinct name
    # keeps it from clashing with anything.
    temporary = dataclasses.replace(settings, name=f"linking-{os.urandom(4).hex()}")
    options = temporary.node_options(create_if_missing=True)
    return asyncio.run(run_link(options, passphrase, args.code, device))


def _interactive_passphrase(settings: NodeSettings) -> str:
    """The passphrase from the usual sources, or asked on the terminal."""
    import getpass

    from ohtchat.serve.passphrase import PassphraseError, read_passphrase

    try:
        return read_passphrase(settings.passphrase_file)[0]
    except PassphraseError:
        if not sys.stdin.isatty():
            raise
        return getpass.getpass(_("Passphrase: "))


def _attach(args: argparse.Namespace) -> int:
    """``ohtchat --attach``: the TUI on a served node's control socket."""
    from ohtchat.serve.client import RemoteBackend
    from ohtchat.serve.control import socket_is_live

    settings = NodeSettings.from_args(args)
    if not socket_is_live(settings.control_socket):
        _fail(
            "ohtchat --attach",
            _("no node serves {socket}; start one with `ohtchat --serve` (same --data-dir)").format(
                socket=settings.control_socket
            ),
        )
        return 2
    run_tui = _tui_runner()
    if run_tui is None:
        _fail("ohtchat --attach", _("the TUI is not available in this build"))
        return 1
    # Connected lazily, inside the TUI's own event loop.
    result = run_tui(RemoteBackend(settings.control_socket))
    if asyncio.iscoroutine(result):
        result = asyncio.run(result)
    return int(result or 0)


def _tui_entry(module: str, name: str) -> Any:
    """``<module>.<name>`` of the TUI package when it is installed, else None (imported only
    here and only on demand: the core never imports textual)."""
    if importlib.util.find_spec("ohtchat.tui") is None or importlib.util.find_spec(module) is None:
        return None
    return getattr(importlib.import_module(module), name, None)


def _tui_runner() -> Any:
    """``run_tui(backend)`` of the TUI, or None."""
    return _tui_entry("ohtchat.tui.app", "run_tui")


def _tui(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """The default: first run or unlock, then the full-screen client on an in-process node."""
    settings = NodeSettings.from_args(args)
    main_fn = _tui_entry("ohtchat.tui.local", "main")
    if main_fn is None:
        parser.print_help()
        hint = _("The full-screen client is not installed: try `ohtchat console`.")
        print(f"\n{hint}", file=sys.stderr)
        return 1
    return int(main_fn(settings) or 0)


if __name__ == "__main__":
    sys.exit(main())
