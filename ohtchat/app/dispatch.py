"""One typed dispatcher: each operation type has one handler, and every failure is a result.

A handler is ``async def whisper(ctx, args: ops.Whisper) -> CommandResult``: ``ctx`` is what
the caller passes along (the node's :class:`~ohtchat.app.handlers.context.Context`, made for
each call; test doubles pass what they like) and ``args`` the operation. Handlers are kept in
:class:`HandlerTable` s (one per command group) and merged into a :class:`Dispatcher`.

Console lines are parsed only at the edge (:func:`line_operation`): a command becomes its
operation, plain text a :class:`~ohtchat.api.ops.SendText` to the open conversation. ``/help``
is built in. Errors become failed results: usage errors with their usage line, a
:class:`~ohtchat.commands.errors.CommandFailed` with its message and code, the lower layers'
typed errors (:data:`ERROR_CODES`) with their message under their layer's code, and anything
else, a bug, is logged and reported as ``internal``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from typing import Any, Generic, Protocol, TypeVar

from ohtchat.api.codec import from_data
from ohtchat.api.ops import OPERATIONS, Help, Operation, SendText, operation
from ohtchat.api.results import CommandResult
from ohtchat.api.views import CommandHelp, HelpIndex
from ohtchat.chat.accounts import AccountError
from ohtchat.chat.channels import ChannelError
from ohtchat.chat.presence import PresenceError
from ohtchat.chat.service import ChatError
from ohtchat.chord.errors import ChordError
from ohtchat.commands.errors import CommandError, CommandFailed, UnknownCommand, UsageError
from ohtchat.commands.helptext import describe, help_text
from ohtchat.commands.parser import PlainText, parse
from ohtchat.commands.spec import COMMANDS, CommandSpec, get_spec
from ohtchat.config import ConfigError
from ohtchat.dht.errors import DhtError
from ohtchat.i18n import _
from ohtchat.store import StoreError

_log = logging.getLogger(__name__)

#: What a dispatcher passes to its handlers (the node's Context; test doubles pick their own).
Ctx = TypeVar("Ctx")
#: One operation type.
OpT = TypeVar("OpT", bound=Operation)

Handler = Callable[[Ctx, OpT], Awaitable[CommandResult]]
"""Runs one operation of type ``OpT`` with a context ``Ctx``."""

#: The lower layers' typed errors and the code a failed result reports them with.
ERROR_CODES: Mapping[type[Exception], str] = {
    ChordError: "ring",
    DhtError: "dht",
    ChatError: "chat",
    ChannelError: "channel",
    AccountError: "account",
    PresenceError: "presence",
    ConfigError: "config",
    StoreError: "store",
    TimeoutError: "timeout",
}


class HandlerTable(Generic[Ctx]):
    """Handlers by operation type (one table per command group; a dispatcher merges them)."""

    def __init__(self) -> None:
        # Each value handles exactly its key's type (what add() checks); stored erased.
        self._handlers: dict[type[Operation], Handler[Ctx, Any]] = {}

    def add(self, op_type: type[OpT], handler: Handler[Ctx, OpT], *, replace: bool = False) -> None:
        """Install ``handler`` for ``op_type``; ``ValueError`` if one is there (unless
        ``replace``), so two layers never fight over an operation."""
        if op_type in self._handlers and not replace:
            raise ValueError(f"{op_type.__name__} already has a handler")
        self._handlers[op_type] = handler

    def handles(self, op_type: type[OpT]) -> Callable[[Handler[Ctx, OpT]], Handler[Ctx, OpT]]:
        """Decorator form of :meth:`add`."""

        def deco(handler: Handler[Ctx, OpT]) -> Handler[Ctx, OpT]:
            self.add(op_type, handler)
            return handler

        return deco

    def get(self, op_type: type[OpT]) -> Handler[Ctx, OpT] | None:
        """The handler of ``op_type``, if any."""
        return self._handlers.get(op_type)

    def remove(self, op_type: type[Operation]) -> None:
        """Forget the handler of ``op_type`` (no error if none)."""
        self._handlers.pop(op_type, None)

    def update(self, other: HandlerTable[Ctx]) -> None:
        """Add every handler of ``other`` (``ValueError`` on an operation handled twice)."""
        for op_type, handler in other._handlers.items():
            self.add(op_type, handler)

    def __contains__(self, op_type: object) -> bool:
        return op_type in self._handlers

    def __iter__(self) -> Iterator[type[Operation]]:
        return iter(self._handlers)

    def __len__(self) -> int:
        return len(self._handlers)


class OperationRegistry(Protocol):
    """Where a layer above the node installs a handler that needs no context (``/webui``)."""

    def register(
        self, op_type: type[OpT], handler: Handler[object, OpT], *, replace: bool = False
    ) -> None:
        """Install ``handler`` for ``op_type``."""
        ...


class Dispatcher(Generic[Ctx]):
    """Runs operations through their handlers; every failure becomes a failed result.

    ``known_errors`` maps exception types of lower layers to result codes (default
    :data:`ERROR_CODES`); ``reraise_unexpected`` lets a bug's exception through (for tests).
    """

    def __init__(
        self,
        *tables: HandlerTable[Ctx],
        known_errors: Mapping[type[Exception], str] = ERROR_CODES,
        reraise_unexpected: bool = False,
    ) -> None:
        self.handlers: HandlerTable[Ctx] = HandlerTable()
        self.handlers.add(Help, help_handler)
        for table in tables:
            self.handlers.update(table)
        self._known = dict(known_errors)
        self._reraise = reraise_unexpected

    def register(
        self, op_type: type[OpT], handler: Handler[Ctx, OpT], *, replace: bool = False
    ) -> None:
        """Install ``handler`` for ``op_type`` (``/help`` may always be replaced)."""
        self.handlers.add(op_type, handler, replace=replace or op_type is Help)

    def unregister(self, op_type: type[Operation]) -> None:
        """Remove the handler of ``op_type``."""
        self.handlers.remove(op_type)

    def has_handler(self, op_type: type[Operation]) -> bool:
        """True when ``op_type`` has a handler."""
        return op_type in self.handlers

    def missing_handlers(self) -> list[str]:
        """Console commands without a handler yet."""
        return [s.name for s in COMMANDS if OPERATIONS[s.name] not in self.handlers]

    def add_known_error(self, error_type: type[Exception], code: str = "failed") -> None:
        """Report exceptions of ``error_type`` (from a lower layer) as ``code`` results."""
        self._known[error_type] = code

    async def execute(self, ctx: Ctx, line: str, conversation: str | None = None) -> CommandResult:
        """Parse one console line and run it; plain text goes to ``conversation``."""
        try:
            op = line_operation(line, conversation)
        except UsageError as exc:
            return usage_result(exc)
        except CommandFailed as exc:
            return CommandResult.failure(exc.message, exc.code, **exc.data)
        except ValueError as exc:  # the parser checked the arguments: a bug
            if self._reraise:
                raise
            _log.exception("no operation for %r", line)
            return CommandResult.failure(
                _("Internal error: {error}").format(error=type(exc).__name__), "internal"
            )
        if op is None:
            return CommandResult.success()
        return await self.call(ctx, op)

    async def call(self, ctx: Ctx, op: Operation) -> CommandResult:
        """Run one operation and return its result (never raises, but for
        ``reraise_unexpected``)."""
        name = op.command_name
        where = {"command": name} if name else {}
        handler = self.handlers.get(type(op))
        if handler is None and isinstance(op, SendText):
            return CommandResult.failure(no_conversation_text(), "no_conversation")
        if handler is None:
            return CommandResult.failure(
                _("/{name} is not available here yet.").format(name=name),
                "no_handler",
                command=name,
            )
        try:
            return await handler(ctx, op)
        except UsageError as exc:
            return usage_result(exc)
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
            _log.exception("handler of /%s failed", name or "(plain text)")
            return CommandResult.failure(
                _("Internal error: {error}").format(error=type(exc).__name__), "internal", **where
            )

    def _known_code(self, exc: Exception) -> str | None:
        for error_type, code in self._known.items():
            if isinstance(exc, error_type):
                return code
        return None


def line_operation(line: str, conversation: str | None) -> Operation | None:
    """The operation one console line asks for: a command's operation, or plain text sent to
    ``conversation``; ``None`` for a blank line. Raises
    :class:`~ohtchat.commands.errors.UsageError` for a wrong line and
    :class:`~ohtchat.commands.errors.CommandFailed` (``no_conversation``) for text when no
    conversation is open (``ValueError`` if a parsed command does not fit its operation:
    a bug)."""
    parsed = parse(line)
    if isinstance(parsed, PlainText):
        if parsed.is_empty:
            return None
        if not conversation:
            raise CommandFailed(no_conversation_text(), code="no_conversation")
        return SendText(conversation, parsed.text)
    return operation(parsed.name, parsed.args)


def no_conversation_text() -> str:
    """Why plain text cannot be sent: no conversation is open."""
    return _("No conversation is open: use /whisper or /channelcast.")


def usage_result(exc: UsageError) -> CommandResult:
    """The failed result of a wrong line: usage line, reason, command and suggestions."""
    data: dict[str, Any] = {"usage": exc.usage_line, "reason": exc.reason}
    if exc.command:
        data["command"] = exc.command
    if isinstance(exc, UnknownCommand):
        data["suggestions"] = exc.suggestions
    return CommandResult.failure(str(exc), exc.code, **data)


async def help_handler(ctx: object, args: Help) -> CommandResult:
    """``/help [COMMAND]``: every command by group, or one command's details (built in)."""
    if args.command:
        text = help_text(args.command)  # raises UnknownCommand: reported as usage
        spec = get_spec(args.command)
        assert spec is not None
        return CommandResult.success(text, _help_index([spec]))
    return CommandResult.success(help_text(), _help_index(COMMANDS))


def _help_index(specs: Iterable[CommandSpec]) -> HelpIndex:
    return HelpIndex(tuple(from_data(CommandHelp, describe(s)) for s in specs))
