"""Typed errors of the console commands: wrong input, unknown commands, failed handlers."""

from __future__ import annotations

from ohtchat.i18n import _


class CommandError(Exception):
    """Base class of every error the command layer reports to the user."""

    #: A stable machine-readable code, reported as ``data["error"]`` in JSON results.
    code = "error"


class UsageError(CommandError):
    """A command line did not fit its command's arguments.

    ``command`` is the command name (without ``/``), ``usage_line`` the localized usage
    (``/whisper ID MESSAGE``) and ``reason`` a localized sentence naming what was wrong.
    """

    code = "usage"

    def __init__(self, command: str, usage_line: str, reason: str) -> None:
        # Not inside an f-string: the extractor would not see the _() call there.
        label = _("Usage:")
        super().__init__(f"{reason}\n{label} {usage_line}" if usage_line else reason)
        self.command = command
        self.usage_line = usage_line
        self.reason = reason


class UnknownCommand(UsageError):
    """The name after ``/`` is no command; ``suggestions`` are close names (without ``/``)."""

    code = "unknown_command"

    def __init__(self, command: str, suggestions: list[str]) -> None:
        if suggestions:
            hint = _("Did you mean {commands}?").format(
                commands=", ".join(f"/{s}" for s in suggestions)
            )
        else:
            hint = _("Type /help for the list of commands.")
        reason = _("Unknown command /{name}.").format(name=command) + " " + hint
        super().__init__(command, "", reason)
        self.suggestions = suggestions


class CommandFailed(CommandError):
    """A handler could not do what was asked; ``message`` is shown to the user as is.

    Handlers raise this (or a subclass) with a localized message; ``code`` overrides the
    machine-readable error code and ``data`` adds JSON-able details to the result.
    """

    def __init__(
        self, message: str, *, code: str = "failed", data: dict[str, object] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.data = dict(data or {})


class NotFound(CommandFailed):
    """An id, name or key given to a command matches nothing (or more than one thing)."""

    def __init__(self, message: str, *, data: dict[str, object] | None = None) -> None:
        super().__init__(message, code="not_found", data=data)


class Unavailable(CommandFailed):
    """The command exists but cannot run now (no handler, tor not running, no ring yet)."""

    def __init__(self, message: str, *, data: dict[str, object] | None = None) -> None:
        super().__init__(message, code="unavailable", data=data)
