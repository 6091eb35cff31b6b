"""Shell-like splitting of a command line into words that remember where they came from.

Rules (a small, predictable subset of POSIX shell): words are separated by whitespace;
``'…'`` is literal; inside ``"…"`` a backslash escapes ``"`` and ``\\``; outside quotes a
backslash escapes the next character. Quotes may join text (``a"b c"`` is ``ab c``).
Every word carries its span so the parser can cut the verbatim rest of the line.
"""

from __future__ import annotations

from dataclasses import dataclass


class LexError(ValueError):
    """An unterminated quote; ``position`` is where the quote opened."""

    def __init__(self, position: int) -> None:
        super().__init__(f"unterminated quote at {position}")
        self.position = position


@dataclass(frozen=True)
class Token:
    """One word: its unquoted ``value`` and the ``[start, end)`` span in the line."""

    value: str
    start: int
    end: int
    #: The quote character still open at the end of the line (tolerant mode only).
    open_quote: str = ""


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    return pos


def _word(text: str, pos: int, tolerant: bool) -> Token:
    """Read one word starting at a non-space ``pos``."""
    start = pos
    out: list[str] = []
    while pos < len(text) and not text[pos].isspace():
        ch = text[pos]
        if ch == "\\":
            # A trailing backslash stands for itself.
            out.append(text[pos + 1] if pos + 1 < len(text) else "\\")
            pos += 2
        elif ch in "'\"":
            close = _closing(text, pos + 1, ch)
            if close < 0:
                if not tolerant:
                    raise LexError(pos)
                out.append(_unquote(text[pos + 1 :], ch))
                return Token("".join(out), start, len(text), open_quote=ch)
            out.append(_unquote(text[pos + 1 : close], ch))
            pos = close + 1
        else:
            out.append(ch)
            pos += 1
    return Token("".join(out), start, min(pos, len(text)))


def _closing(text: str, pos: int, quote: str) -> int:
    """Index of the quote closing one opened before ``pos``, or -1."""
    while pos < len(text):
        ch = text[pos]
        if quote == '"' and ch == "\\":
            pos += 2
            continue
        if ch == quote:
            return pos
        pos += 1
    return -1


def _unquote(inner: str, quote: str) -> str:
    if quote == "'":
        return inner
    out: list[str] = []
    i = 0
    while i < len(inner):
        if inner[i] == "\\" and i + 1 < len(inner) and inner[i + 1] in '"\\':
            out.append(inner[i + 1])
            i += 2
        else:
            out.append(inner[i])
            i += 1
    return "".join(out)


def lex(
    text: str, start: int = 0, limit: int | None = None, *, tolerant: bool = False
) -> tuple[list[Token], int]:
    """Split ``text[start:]`` into at most ``limit`` words; returns them and the end offset.

    Raises :class:`LexError` on an unterminated quote unless ``tolerant`` (used while the
    user is still typing, for completion), which closes it at the end of the line.
    """
    tokens: list[Token] = []
    pos = start
    while limit is None or len(tokens) < limit:
        pos = _skip_space(text, pos)
        if pos >= len(text):
            break
        token = _word(text, pos, tolerant)
        tokens.append(token)
        pos = token.end
    return tokens, pos


def quote(word: str) -> str:
    """``word`` quoted so that :func:`lex` reads it back as one word with the same value."""
    if word and not any(c.isspace() or c in "'\"\\" for c in word):
        return word
    return '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'
