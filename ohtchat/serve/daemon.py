"""``ohtchat --serve``: a node without a user interface, driven through its control socket.

Starts the node (creating the account on an empty data directory), serves the control
socket, and runs until SIGTERM or SIGINT, then shuts down cleanly (control socket closed,
node stopped: store flushed, ring left, tor stopped). SIGHUP reloads ``config.toml``.
The data directory's lock lets only one node use it at a time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import inspect
import logging
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Protocol

from ohtchat.api.events import NodeEvent
from ohtchat.api.ops import Operation
from ohtchat.api.results import CommandResult
from ohtchat.app.dispatch import OperationRegistry
from ohtchat.config import Config, ConfigError
from ohtchat.i18n import UnknownLanguage, _, set_language
from ohtchat.serve.control import ControlServer, ControlSocketInUse, socket_is_live
from ohtchat.serve.logs import set_level, setup_logging
from ohtchat.serve.options import NodeSettings, OptionError
from ohtchat.serve.passphrase import PassphraseError, read_passphrase

_log = logging.getLogger(__name__)

STOP_TIMEOUT = 60.0
"""Longest wait for a graceful node stop before giving up (the process then exits)."""


class ServedNode(Protocol):
    """What the daemon needs of a running node: the Backend calls, its dispatcher, stop."""

    @property
    def dispatcher(self) -> OperationRegistry:
        """Where ``/webui`` installs its handler."""
        ...

    async def execute(self, line: str, conversation: str | None = None) -> CommandResult:
        """Run one console line."""
        ...

    async def call(self, op: Operation) -> CommandResult:
        """Run one typed operation."""
        ...

    def events(self) -> AsyncIterator[NodeEvent]:
        """The node's events from now on."""
        ...

    async def complete(self, line: str, cursor: int) -> list[str]:
        """Tab completions."""
        ...

    async def stop(self) -> None:
        """Shut down cleanly."""
        ...


NodeFactory = Callable[[NodeSettings, str], Awaitable[ServedNode]]
"""Starts a node for the settings and passphrase (creating the account if the dir is empty)."""


class StartupError(Exception):
    """The node could not start; the message says why and what to do."""


async def start_chat_node(settings: NodeSettings, passphrase: str) -> ServedNode:
    """The real node: :class:`ohtchat.app.node.ChatNode`."""
    from ohtchat.app.node import ChatNode

    node: ServedNode = await ChatNode.start(
        settings.node_options(create_if_missing=True), passphrase
    )
    return node


class Daemon:
    """One ``--serve`` run: node + control socket + signal handling."""

    def __init__(
        self,
        settings: NodeSettings,
        passphrase: str,
        factory: NodeFactory = start_chat_node,
    ) -> None:
        self.settings = settings
        self._passphrase = passphrase
        self.factory = factory
        self.node: ServedNode | None = None
        self.control: ControlServer | None = None
        self._stop = asyncio.Event()
        self._reloads: set[asyncio.Task[None]] = set()

    def request_stop(self, reason: str = "") -> None:
        """Ask the daemon to shut down (what SIGTERM does)."""
        if not self._stop.is_set():
            _log.info("stopping%s", f" ({reason})" if reason else "")
        self._stop.set()

    async def run(self) -> None:
        """Start, serve until asked to stop, shut down. ``StartupError`` if it cannot start."""
        sock = self.settings.control_socket
        # Cheap early refusal; the store lock (disk) and the bind below remain the real guards.
        if socket_is_live(sock):
            raise StartupError(str(ControlSocketInUse(sock)))
        self._install_signals()
        try:
            self.node = await self._start_node()
            self.control = ControlServer(self.node, sock)
            try:
                await self.control.start()
            except ControlSocketInUse as exc:
                raise StartupError(str(exc)) from None
            except OSError as exc:
                raise StartupError(
                    _("cannot create the control socket {path}: {reason}").format(
                        path=sock, reason=exc
                    )
                ) from None
            _attach_webui(self.node, sock)
            _log.info("node running; control socket %s", sock)
            await self._stop.wait()
        finally:
            await self._shutdown()
            self._remove_signals()

    async def _start_node(self) -> ServedNode:
        from ohtchat.store.errors import StoreError, StoreLocked

        passphrase, self._passphrase = self._passphrase, ""
        try:
            return await self.factory(self.settings, passphrase)
        except StoreLocked as exc:
            raise StartupError(
                _(
                    "{reason}. Only one node may use a data directory; "
                    "`{command}` talks to the running one"
                ).format(
                    reason=exc,
                    command=f"ohtchat cmd --data-dir {self.settings.data_dir} /status",
                )
            ) from None
        except (StoreError, OptionError) as exc:
            raise StartupError(str(exc)) from None
        except OSError as exc:  # e.g. the --listen port is taken
            raise StartupError(_("cannot start the node: {reason}").format(reason=exc)) from None
        except Exception as exc:
            if type(exc).__name__ == "NodeError":  # chat.node's typed start-up error
                raise StartupError(str(exc)) from None
            raise

    async def _shutdown(self) -> None:
        for task in list(self._reloads):
            task.cancel()
        if self.control is not None:
            await self.control.stop()
            self.control = None
        if self.node is not None:
            node, self.node = self.node, None
            try:
                await asyncio.wait_for(node.stop(), STOP_TIMEOUT)
                _log.info("node stopped cleanly")
            except TimeoutError:
                _log.error("node did not stop within %.0f s", STOP_TIMEOUT)
            except Exception:
                _log.exception("error while stopping the node")

    async def reload_config(self) -> None:
        """Re-read ``config.toml`` (what SIGHUP does): log level, then the node's own settings."""
        try:
            config = Config.load(self.settings.data_dir)
        except ConfigError as exc:
            _log.error("configuration not reloaded: %s", exc)
            return
        level = config.get("log.level")
        if isinstance(level, str):
            try:
                set_level(level)
            except ValueError as exc:
                _log.error("config log.level: %s", exc)
        hook = getattr(self.node, "reload_config", None)
        if callable(hook):
            try:
                outcome = hook()
                if inspect.isawaitable(outcome):
                    await outcome
            except Exception:
                _log.exception("the node failed to reload its configuration")
                return
        _log.info("configuration reloaded from %s", config.path)

    def _on_hup(self) -> None:
        task = asyncio.create_task(self.reload_config())
        self._reloads.add(task)
        task.add_done_callback(self._reloads.discard)

    def _install_signals(self) -> None:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, self.request_stop, "SIGTERM")
        loop.add_signal_handler(signal.SIGINT, self.request_stop, "SIGINT")
        loop.add_signal_handler(signal.SIGHUP, self._on_hup)

    def _remove_signals(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(sig)


def _attach_webui(node: ServedNode, sock: object) -> None:
    """Give the node's ``/webui`` a web UI attached to this control socket."""
    from pathlib import Path

    from ohtchat.serve.webui import register_webui

    register_webui(node.dispatcher, control_socket=Path(str(sock)), replace=True)


def run_serve(args: argparse.Namespace, factory: NodeFactory = start_chat_node) -> int:
    """``ohtchat --serve``: returns the exit status (0 after a clean shutdown)."""
    setup_logging(args.log_format, args.log_level)
    try:
        settings = NodeSettings.from_args(args)
        if settings.lang:
            set_language(settings.lang, strict=True)
        passphrase = "" if settings.memory else read_passphrase(settings.passphrase_file)[0]
    except (OptionError, PassphraseError, UnknownLanguage) as exc:
        _log.error("%s", exc)
        return 2
    try:
        asyncio.run(Daemon(settings, passphrase, factory).run())
    except StartupError as exc:
        _log.error("%s", exc)
        return 1
    return 0
