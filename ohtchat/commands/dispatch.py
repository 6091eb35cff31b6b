"""Run parsed commands: handlers registered by name, results as text plus JSON-able data.

The TUI, the line console and the control socket all hold a :class:`Dispatcher`; the chat
and serve layers register the handlers. Nothing here knows about any UI.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from ohtchat.api.codec import from_data
from ohtchat.api.results import CommandResult
from ohtchat.api.views import CommandHelp, HelpIndex
from ohtchat.commands.errors import CommandError, CommandFailed, UnknownCommand, UsageError
from ohtchat.commands.helptext import describe, help_text
from ohtchat.commands.parser import Command, PlainText, parse
from ohtchat.commands.spec import COMMANDS, CommandSpec, get_spec
from ohtchat.i18n import _

_log = logging.getLogger(__name__)


Handler = Callable[[Command], Awaitable[CommandResult]]
"""An async function running one command."""

PlainTextHandler = Callable[[PlainText], Awaitable[CommandResult]]
"""An async function sending a plain-text line to the open conversation."""


class Dispatcher:
    """Maps each command name to a handler and turns every failure into a result.

    Errors of the command layer (:class:`CommandError`) and of the types passed as
    ``known_errors`` become failed results with their message; any other exception is a
    bug: it is logged with its traceback and reported as ``internal`` (or re-raised with
    ``reraise_unexpected``, for tests). ``/help`` has a built-in handler.
    """

    def __init__(
        self,
        *,
        known_errors: Iterable[type[Exception]] = (),
        reraise_unexpected: bool = False,
    ) -> None:
        self._handlers: dict[str, Handler] = {"help": self._help}
        self._plain: PlainTextHandler | None = None
        self._known: dict[type[Exception], str] = {t: "failed" for t in known_errors}
        self._reraise = reraise_unexpected

    def register(self, name: str, handler: Handler, *, replace: bool = False) -> None:
        """Install ``handler`` for command ``name`` (an alias also works).

        Raises ``KeyError`` for a name not in the command table and ``ValueError`` when a
        handler is already installed (unless ``replace``), so two layers never fight.
        """
        spec = get_spec(name)
        if spec is None:
            raise KeyError(f"no console command /{name}")
        if spec.name in self._handlers and not replace and spec.name != "help":
            raise ValueError(f"/{spec.name} already has a handler")
        self._handlers[spec.name] = handler

    def handles(self, name: str) -> Callable[[Handler], Handler]:
        """Decorator form of :meth:`register`."""

        def deco(handler: Handler) -> Handler:
            self.register(name, handler)
            return handler

        return deco

    def unregister(self, name: str) -> None:
        """Remove the handler of ``name`` (no error if none)."""
        spec = get_spec(name)
        if spec is not None:
            self._handlers.pop(spec.name, None)

    def has_handler(self, name: str) -> bool:
        """True when ``name`` (or its alias) has a handler."""
        spec = get_spec(name)
        return spec is not None and spec.name in self._handlers

    def missing_handlers(self) -> list[str]:
        """Commands of the table without a handler yet."""
        return [s.name for s in COMMANDS if s.name not in self._handlers]

    def set_plain_text_handler(self, handler: PlainTextHandler | None) -> None:
        """Install the handler of lines that are not commands."""
        self._plain = handler

    def add_known_error(self, error_type: type[Exception], code: str = "failed") -> None:
        """Report exceptions of ``error_type`` (from a lower layer) as ``code`` results."""
        self._known[error_type] = code

    async def execute(self, line: str) -> CommandResult:
        """Parse and run one input line."""
        try:
            parsed = parse(line)
        except UsageError as exc:
            return self._usage_result(exc)
        return await self.dispatch(parsed)

    async def dispatch(self, item: Command | PlainText) -> CommandResult:
        """Run a parsed command (or send plain text) and return its result."""
        if isinstance(item, PlainText):
            if item.is_empty:
                return CommandResult.success()
            if self._plain is None:
                return CommandResult.failure(
                    _("No conversation is open: use /whisper or /channelcast."), "no_conversation"
                )
            return await self._guarded(lambda: self._plain(item), None)  # type: ignore[misc]
        handler = self._handlers.get(item.name)
        if handler is None:
            return CommandResult.failure(
                _("/{name} is not available here yet.").format(name=item.name),
                "no_handler",
                command=item.name,
            )
        return await self._guarded(lambda: handler(item), item.name)

    async def _guarded(
        self, call: Callable[[], Awaitable[CommandResult]], name: str | None
    ) -> CommandResult:
        where = {"command": name} if name else {}
        try:
            return await call()
        except UsageError as exc:
            return self._usage_result(exc)
        except CommandFailed as exc:
            return CommandResult.failure(exc.message, exc.code, **where, **exc.data)
        except CommandError as exc:
            return CommandResult.failure(str(exc), exc.code, **where)
        except Exception as exc:
            code = self._known_code(exc)
            if code is not None:
                return CommandResult.failure(str(exc) or type(exc).__name__, code, **where)
            if self._reraise:
                raise
            _log.exception("handler of /%s failed", name)
            return CommandResult.failure(
                _("Internal error: {error}").format(error=type(exc).__name__), "internal", **where
            )

    def _known_code(self, exc: Exception) -> str | None:
        for error_type, code in self._known.items():
            if isinstance(exc, error_type):
                return code
        return None

    @staticmethod
    def _usage_result(exc: UsageError) -> CommandResult:
        data: dict[str, Any] = {"usage": exc.usage_line, "reason": exc.reason}
        if exc.command:
            data["command"] = exc.command
        if isinstance(exc, UnknownCommand):
            data["suggestions"] = exc.suggestions
        return CommandResult.failure(str(exc), exc.code, **data)

    @staticmethod
    async def _help(command: Command) -> CommandResult:
        name = command.args.get("command")
        if name:
            spec = get_spec(str(name))
            text = help_text(str(name))  # raises UnknownCommand: reported as usage
            assert spec is not None
            return CommandResult.success(text, _help_index([spec]))
        return CommandResult.success(help_text(), _help_index(COMMANDS))


def _help_index(specs: Iterable[CommandSpec]) -> HelpIndex:
    return HelpIndex(tuple(from_data(CommandHelp, describe(s)) for s in specs))
