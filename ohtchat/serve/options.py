"""Command-line options shared by ``--serve``, the TUI, ``console``, ``cmd`` and ``--attach``."""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ohtchat.config import resolve_data_dir
from ohtchat.i18n import _, available_languages
from ohtchat.serve.protocol import SOCKET_NAME

if TYPE_CHECKING:
    from ohtchat.app.node import NodeOptions

_HOST_PORT = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})")


class OptionError(ValueError):
    """An option value the argument parser could not check by itself."""


def add_data_dir_options(parser: argparse.ArgumentParser) -> None:
    """``--data-dir`` and ``--control-socket``: where a node keeps its files and socket."""
    # Help texts are translated here, when the parser is built (the language is set by then).
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help=_("data directory (default: the user data directory)"),
    )
    parser.add_argument(
        "--control-socket",
        type=Path,
        default=None,
        help=_("control socket path (default: DATA_DIR/{name})").format(name=SOCKET_NAME),
    )


def add_node_options(parser: argparse.ArgumentParser) -> None:
    """The options that start a node: shared by ``--serve``, the TUI and ``console``."""
    add_data_dir_options(parser)
    parser.add_argument(
        "--transport",
        choices=("onion", "tcp"),
        default="onion",
        help=_("how nodes reach each other"),
    )
    parser.add_argument("--listen", metavar="HOST:PORT", default=None, help=_("tcp listen address"))
    parser.add_argument(
        "--bootstrap",
        metavar="ADDR",
        action="append",
        default=[],
        help=_("a node of the ring to join (repeatable)"),
    )
    parser.add_argument(
        "--tor-testnet",
        metavar="DIR",
        type=Path,
        default=None,
        help=_("use the private Tor network in DIR (see `ohtchat testnet`)"),
    )
    parser.add_argument(
        "--tor-control",
        metavar="HOST:PORT|PATH",
        default=None,
        help=_("use a running tor at this control port or socket instead of starting one"),
    )
    parser.add_argument(
        "--memory", action="store_true", help=_("keep everything in memory (nothing on disk)")
    )
    parser.add_argument(
        "--lang",
        metavar="LANG",
        default=None,
        help=_("user interface language ({languages})").format(
            languages=", ".join(available_languages())
        ),
    )
    parser.add_argument("--name", default="", help=_("display name when creating the account"))
    parser.add_argument(
        "--passphrase-file",
        type=Path,
        default=None,
        help=_("read the store passphrase from this file (never pass it on the command line)"),
    )


@dataclass(frozen=True)
class NodeSettings:
    """The node options of one invocation, checked."""

    data_dir: Path
    control_socket: Path
    memory: bool = False
    transport: str = "onion"
    listen: str | None = None
    bootstrap: tuple[str, ...] = ()
    name: str = ""
    tor_testnet: Path | None = None
    tor_control: str | None = None
    lang: str | None = None
    passphrase_file: Path | None = None

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> NodeSettings:
        """Build from parsed options; ``OptionError`` for a malformed value."""
        data_dir = resolve_data_dir(getattr(args, "data_dir", None))
        listen = getattr(args, "listen", None)
        if listen is not None and not _HOST_PORT.fullmatch(listen):
            raise OptionError(_("--listen {value}: expected HOST:PORT").format(value=repr(listen)))
        if listen is not None and not 0 < int(listen.rpartition(":")[2]) < 65536:
            raise OptionError(
                _("--listen {value}: the port must be between 1 and 65535").format(
                    value=repr(listen)
                )
            )
        bootstrap = tuple(getattr(args, "bootstrap", None) or ())
        for addr in bootstrap:
            if not addr or any(c.isspace() for c in addr):
                raise OptionError(
                    _("--bootstrap {value}: expected an address").format(value=repr(addr))
                )
        return cls(
            data_dir=data_dir,
            control_socket=control_socket_path(data_dir, getattr(args, "control_socket", None)),
            memory=bool(getattr(args, "memory", False)),
            transport=getattr(args, "transport", "onion"),
            listen=listen,
            bootstrap=bootstrap,
            name=getattr(args, "name", "") or "",
            tor_testnet=getattr(args, "tor_testnet", None),
            tor_control=getattr(args, "tor_control", None),
            lang=getattr(args, "lang", None),
            passphrase_file=getattr(args, "passphrase_file", None),
        )

    def node_options(self, *, create_if_missing: bool = True) -> NodeOptions:
        """The chat layer's ``NodeOptions`` for these settings."""
        from ohtchat.app.node import NodeOptions  # the chat node is only needed to run one
        from ohtchat.config import Config, ConfigError
        from ohtchat.serve.tuning import TuningError, tuning_overrides

        try:
            tuning = tuning_overrides(Config.load(self.data_dir))
        except (ConfigError, TuningError) as exc:
            raise OptionError(str(exc)) from None
        return NodeOptions(
            data_dir=None if self.memory else self.data_dir,
            memory=self.memory,
            transport=self.transport,
            listen=self.listen,
            bootstrap=list(self.bootstrap),
            name=self.name,
            tor_testnet=self.tor_testnet,
            tor_control=self.tor_control,
            lang=self.lang,
            create_if_missing=create_if_missing,
            **tuning,
        )


def control_socket_path(data_dir: Path | None, override: Path | None = None) -> Path:
    """``override`` if given, else ``<data_dir>/control.sock``."""
    if override is not None:
        return Path(override).expanduser()
    return resolve_data_dir(data_dir) / SOCKET_NAME
