"""The console commands: one parser shared by the TUI, the line console and the control socket."""

from ohtchat.commands.complete import (
    CompletionContext,
    CompletionSource,
    StaticCompletions,
    apply_completion,
    common_prefix,
    complete,
    completion_context,
)
from ohtchat.commands.errors import (
    CommandError,
    CommandFailed,
    NotFound,
    Unavailable,
    UnknownCommand,
    UsageError,
)
from ohtchat.commands.helptext import describe
from ohtchat.commands.parser import Command, PlainText, help_text, parse, usage
from ohtchat.commands.spec import (
    COMMANDS,
    ArgKind,
    ArgSpec,
    CommandSpec,
    Completion,
    Group,
    command_names,
    get_spec,
)
from ohtchat.commands.suggest import suggest

__all__ = [
    "COMMANDS",
    "ArgKind",
    "ArgSpec",
    "Command",
    "CommandError",
    "CommandFailed",
    "CommandSpec",
    "Completion",
    "CompletionContext",
    "CompletionSource",
    "Group",
    "NotFound",
    "PlainText",
    "StaticCompletions",
    "Unavailable",
    "UnknownCommand",
    "UsageError",
    "apply_completion",
    "command_names",
    "common_prefix",
    "complete",
    "completion_context",
    "describe",
    "get_spec",
    "help_text",
    "parse",
    "suggest",
    "usage",
]
