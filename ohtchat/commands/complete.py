"""Tab completion of command names and, by argument kind, of ids, names and keys.

The UI asks :func:`complete` for the words that fit the word under the cursor, then
:func:`apply_completion` to put one into the line. Values come from a
:class:`CompletionSource` the chat layer implements (accounts, contacts, channels, …).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from ohtchat.commands.lexer import lex, quote
from ohtchat.commands.spec import ArgKind, Completion, command_names, get_spec


class CompletionSource(Protocol):
    """Supplies the values Tab may offer for an argument of a given :class:`Completion`."""

    def candidates(self, kind: Completion) -> Iterable[str]:
        """Every value of ``kind`` (ids or names); filtering by prefix is done by the caller."""
        ...


@dataclass
class StaticCompletions:
    """A :class:`CompletionSource` over fixed lists (tests, the line console's snapshot)."""

    values: Mapping[Completion, Sequence[str]] = field(default_factory=dict)

    def candidates(self, kind: Completion) -> Iterable[str]:
        """The fixed values of ``kind``."""
        return self.values.get(kind, ())


@dataclass(frozen=True)
class CompletionContext:
    """The word being completed: its span in the line, typed prefix, and what it is."""

    start: int
    prefix: str
    kind: Completion
    choices: tuple[str, ...] = ()


def completion_context(line: str, cursor: int) -> CompletionContext | None:
    """What the word ending at ``cursor`` is, or None where nothing can be completed."""
    head = line[: max(0, min(cursor, len(line)))]
    if not head.startswith("/") or head.startswith("//"):
        return None
    name_end = next((i for i, c in enumerate(head) if c.isspace()), None)
    if name_end is None:
        return CompletionContext(0, head, Completion.COMMAND)
    spec = get_spec(head[1:name_end])
    if spec is None:
        return None
    tokens, _end = lex(head, name_end, tolerant=True)
    at_new_word = head[-1].isspace() and not (tokens and tokens[-1].open_quote)
    index = len(tokens) if at_new_word else len(tokens) - 1
    start = len(head) if at_new_word else tokens[-1].start
    prefix = "" if at_new_word else tokens[-1].value
    rest = spec.rest_index
    if index >= len(spec.args) or (rest is not None and index >= rest):
        return None  # beyond the arguments, or inside free text
    arg = spec.args[index]
    if arg.kind is ArgKind.REST:
        return None
    return CompletionContext(start, prefix, arg.completion, arg.choices)


def complete(line: str, cursor: int, candidates: CompletionSource) -> list[str]:
    """The words that may replace the word ending at ``cursor`` (prefix match, no case).

    Command names come back with their ``/``; argument values as the source gives them
    (unquoted: :func:`apply_completion` quotes when needed). Order: table order for
    command names and choices, the source's order otherwise; no duplicates.
    """
    ctx = completion_context(line, cursor)
    if ctx is None:
        return []
    if ctx.kind is Completion.COMMAND and ctx.start == 0:
        pool: Iterable[str] = (f"/{n}" for n in command_names())
    elif ctx.choices:
        pool = ctx.choices
    elif ctx.kind is Completion.COMMAND:
        pool = command_names()
    elif ctx.kind is Completion.NONE:
        return []
    else:
        pool = candidates.candidates(ctx.kind)
    wanted = ctx.prefix.casefold()
    return list(dict.fromkeys(w for w in pool if w and w.casefold().startswith(wanted)))


def apply_completion(line: str, cursor: int, word: str) -> tuple[str, int]:
    """Put ``word`` in place of the word ending at ``cursor``; returns (line, new cursor).

    A space follows the inserted word unless one is already there, so typing continues
    with the next argument.
    """
    ctx = completion_context(line, cursor)
    start = cursor if ctx is None else ctx.start
    text = word if word.startswith("/") and start == 0 else quote(word)
    tail = line[cursor:]
    if not tail[:1].isspace():
        text += " "
    new_line = line[:start] + text + tail
    return new_line, start + len(text)


def common_prefix(words: Sequence[str]) -> str:
    """The longest prefix shared by all ``words`` (what a first Tab may insert)."""
    if not words:
        return ""
    first, last = min(words), max(words)  # the common prefix of all is that of these two
    n = 0
    while n < min(len(first), len(last)) and first[n] == last[n]:
        n += 1
    return first[:n]
