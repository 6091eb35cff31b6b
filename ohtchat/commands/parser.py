"""Parse one console line into a typed :class:`Command` or :class:`PlainText`.

A line starting with ``/`` is a command (``//text`` sends the literal ``/text``); anything
else is plain text for the current conversation. Wrong input raises :class:`UsageError`
(carrying the usage line) and nothing else.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from ohtchat.commands.errors import UnknownCommand, UsageError
from ohtchat.commands.helptext import help_text, usage
from ohtchat.commands.lexer import LexError, Token, lex, quote
from ohtchat.commands.spec import ArgKind, ArgSpec, CommandSpec, get_spec
from ohtchat.commands.suggest import suggest
from ohtchat.crypto.errors import InvalidOnionAddress
from ohtchat.crypto.onion import ADDRESS_LEN, pubkey_from_onion
from ohtchat.i18n import _, ngettext

__all__ = ["Command", "PlainText", "help_text", "parse", "suggest", "usage"]

_NAME = re.compile(r"/(\S*)")
_INT = re.compile(r"[+-]?[0-9]+")
_FULL_ID = re.compile(r"(?:0[xX])?([0-9a-fA-F]{64})")
_HEX_PREFIX = re.compile(r"0[xX]([0-9a-fA-F]+)")
_HOST_PORT = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})")
_NODE_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_MAX_ID = 200
# When optional arguments could take a word either way, the stricter kind wins:
# "/history 50" means fifty messages, not a conversation called "50".
_SPECIFICITY = {ArgKind.INT: 4, ArgKind.ADDRESS: 3, ArgKind.ID: 2, ArgKind.TEXT: 1}


@dataclass(frozen=True)
class Command:
    """A parsed command: canonical ``name`` (no ``/``) and ``args`` keyed by argument name.

    Every argument of the command is present in ``args``; an omitted optional one holds its
    default (often None). Values are ``str`` or ``int`` only, so ``args`` is JSON-able.
    """

    name: str
    args: dict[str, Any] = field(default_factory=dict)
    raw: str = field(default="", compare=False)

    def to_json(self) -> dict[str, Any]:
        """``{"command": name, "args": {...}}``."""
        return {"command": self.name, "args": dict(self.args)}


@dataclass(frozen=True)
class PlainText:
    """A line that is not a command: text to send to the current conversation."""

    text: str

    @property
    def is_empty(self) -> bool:
        """True for a blank line (nothing to send)."""
        return not self.text.strip()


class _Invalid(Exception):
    """One argument failed its kind's check; ``reason`` is localized."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse(line: str) -> Command | PlainText:
    """Parse one input line; raises :class:`UsageError` (or :class:`UnknownCommand`)."""
    if not line.startswith("/"):
        return PlainText(line)
    if line.startswith("//"):
        return PlainText(line[1:])
    m = _NAME.match(line)
    assert m is not None  # the line starts with "/"
    name = m.group(1)
    if not name:
        raise UsageError("", "/help", _("Empty command."))
    spec = get_spec(name)
    if spec is None:
        raise UnknownCommand(name, suggest(name))
    return Command(spec.name, _bind(spec, line, m.end()), raw=line)


def _fail(spec: CommandSpec, reason: str) -> UsageError:
    return UsageError(spec.name, usage(spec.name), reason)


def _bind(spec: CommandSpec, line: str, pos: int) -> dict[str, Any]:
    rest = spec.rest_index
    try:
        if rest is None:
            tokens, _end = lex(line, pos)
            return _assign(spec, tokens)
        before = spec.args[:rest]
        tokens, end = lex(line, pos, limit=len(before))
    except LexError:
        raise _fail(spec, _("Unterminated quote.")) from None
    if len(tokens) < len(before):
        raise _fail(spec, _missing(before[len(tokens)]))
    return _bind_rest(spec, tokens, line[end:], rest)


def _bind_rest(spec: CommandSpec, tokens: list[Token], tail: str, rest: int) -> dict[str, Any]:
    """Arguments around a rest-of-line one: words before it, verbatim rest, words after it."""
    rest_arg, after = spec.args[rest], spec.args[rest + 1 :]
    # Words after the rest (e.g. /verify's SIGNATURE) are plain words cut from the end.
    parts = tail.rsplit(None, len(after)) if after else [tail]
    words_needed = len(after) + (0 if rest_arg.optional else 1)
    if len(tail.split()) < words_needed:
        raise _fail(spec, _missing(rest_arg))
    middle = parts[0].strip() if len(parts) > len(after) else ""
    args: dict[str, Any] = {}
    try:
        for arg, token in zip(spec.args[:rest], tokens, strict=True):
            args[arg.name] = _convert(arg, token.value)
        args[rest_arg.name] = middle if middle else rest_arg.default
        for arg, word in zip(after, parts[len(parts) - len(after) :], strict=True):
            args[arg.name] = _convert(arg, word)
    except _Invalid as exc:
        raise _fail(spec, exc.reason) from None
    return args


def _assign(spec: CommandSpec, tokens: list[Token]) -> dict[str, Any]:
    """Bind words to a command without a rest argument, choosing which optionals get one."""
    required = [a for a in spec.args if not a.optional]
    optional = [a for a in spec.args if a.optional]
    if len(tokens) < len(required):
        raise _fail(spec, _missing(required[len(tokens)]))
    if len(tokens) > len(spec.args):
        if not spec.args:
            raise _fail(spec, _("/{name} takes no arguments.").format(name=spec.name))
        n = len(spec.args)
        most = ngettext(
            "/{name} takes at most {n} argument.", "/{name} takes at most {n} arguments.", n
        ).format(name=spec.name, n=n)
        unexpected = _("Unexpected: {word}").format(word=quote(tokens[n].value))
        raise _fail(spec, f"{most} {unexpected}")
    best: tuple[int, dict[str, Any]] | None = None
    first_error: _Invalid | None = None
    for chosen in itertools.combinations(optional, len(tokens) - len(required)):
        filled = [a for a in spec.args if not a.optional or a in chosen]
        try:
            args = {a.name: _convert(a, t.value) for a, t in zip(filled, tokens, strict=True)}
        except _Invalid as exc:
            first_error = first_error or exc
            continue
        score = sum(_SPECIFICITY.get(a.kind, 0) + (2 if a.choices else 0) for a in chosen)
        if best is None or score > best[0]:
            best = (score, args)
    if best is None:
        assert first_error is not None  # some combination was tried and failed
        raise _fail(spec, first_error.reason)
    return {a.name: best[1].get(a.name, a.default) for a in spec.args}


def _missing(arg: ArgSpec) -> str:
    return _("Missing {arg}.").format(arg=arg.shown)


def _convert(arg: ArgSpec, word: str) -> str | int:
    """Check and normalize one word for its argument kind."""
    shown = arg.shown
    if arg.kind is ArgKind.INT:
        return _to_int(arg, word)
    if not word:
        raise _Invalid(_("{arg} is empty.").format(arg=shown))
    if arg.choices:
        if word.lower() not in arg.choices:
            raise _Invalid(_("Expected one of {choices}.").format(choices=", ".join(arg.choices)))
        return word.lower()
    if arg.kind is ArgKind.ID:
        return _to_id(shown, word)
    if arg.kind is ArgKind.ADDRESS:
        return _to_address(shown, word)
    return word


def _to_int(arg: ArgSpec, word: str) -> int:
    if not _INT.fullmatch(word) or len(word) > 18:
        raise _Invalid(_("{arg} must be a whole number.").format(arg=arg.shown))
    value = int(word)
    if arg.minimum is not None and value < arg.minimum:
        raise _Invalid(_("{arg} must be at least {n}.").format(arg=arg.shown, n=arg.minimum))
    if arg.maximum is not None and value > arg.maximum:
        raise _Invalid(_("{arg} must be at most {n}.").format(arg=arg.shown, n=arg.maximum))
    return value


def _to_id(shown: str, word: str) -> str:
    """An id, hex prefix or name: checked for shape only; handlers resolve it."""
    if len(word) > _MAX_ID or any(unicodedata.category(c)[0] in "CZ" and c != " " for c in word):
        raise _Invalid(_("{arg} is not a valid id or name.").format(arg=shown))
    if m := _FULL_ID.fullmatch(word) or _HEX_PREFIX.fullmatch(word):
        return m.group(1).lower()
    return word


def _to_address(shown: str, word: str) -> str:
    """A v3 onion address (port optional), ``HOST:PORT``, or an in-memory node name."""
    host, _sep, port = word.rpartition(":") if ":" in word else (word, "", "")
    label = host.lower().removesuffix(".onion")
    if host.lower().endswith(".onion") or len(label) == ADDRESS_LEN:
        try:
            pubkey_from_onion(label)
        except InvalidOnionAddress as exc:
            raise _Invalid(
                _("{arg}: invalid onion address ({detail}).").format(arg=shown, detail=exc.reason)
            ) from None
        return f"{label}.onion" + (f":{_port(shown, port)}" if _sep else "")
    if _sep:
        if not _HOST_PORT.fullmatch(word):
            raise _Invalid(_("{arg} must look like HOST:PORT.").format(arg=shown))
        return f"{host.lower()}:{_port(shown, port)}"
    if _NODE_NAME.fullmatch(word):
        return word
    raise _Invalid(_("{arg} must be an onion address or HOST:PORT.").format(arg=shown))


def _port(shown: str, text: str) -> int:
    if not text.isascii() or not text.isdigit() or not 0 < int(text) < 65536:
        raise _Invalid(_("{arg}: port must be between 1 and 65535.").format(arg=shown))
    return int(text)
