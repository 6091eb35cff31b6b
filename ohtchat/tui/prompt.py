"""The input line: commands and messages, Tab completion through the backend, input history."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from textual.binding import Binding, BindingType
from textual.widgets import Input

from ohtchat.commands.complete import apply_completion, common_prefix, completion_context
from ohtchat.tui.messages import Completions, LineEntered

Completer = Callable[[str, int], Awaitable[list[str]]]
#: The characters Textual reports for Alt-1…9 in terminals that send them macOS-style.
ALT_DIGIT_CHARACTERS = "¡™£¢∞§¶•ª"


@dataclass
class Cycle:
    """Several candidates for the word at ``cursor`` of ``line``; a repeated Tab puts
    ``words[index]`` in place while the input still shows ``value`` (what the last Tab left)."""

    line: str
    cursor: int
    words: list[str]
    index: int
    value: str


class Prompt(Input):
    """Enter posts :class:`LineEntered`; Tab completes, again cycles through the candidates
    (Shift-Tab back); Up/Down walk the lines sent before."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("tab", "complete", show=False),
        Binding("shift+tab", "cycle(-1)", show=False),
        Binding("up", "history(-1)", show=False),
        Binding("down", "history(1)", show=False),
    ]

    def check_consume_key(self, key: str, character: str | None) -> bool:
        """Let Alt-1…9 reach the screen's bindings when they arrive as the characters some
        terminals (tmux, macOS) send for them — unless a message is being typed."""
        if character is not None and character in ALT_DIGIT_CHARACTERS and not self.value:
            return False
        return bool(super().check_consume_key(key, character))

    def __init__(self, completer: Completer | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.completer = completer
        self.sent: list[str] = []
        self._walk = 0
        self.candidates: list[str] = []  # the last Tab's choices, shown by the screen
        self.cycle: Cycle | None = None

    async def action_submit(self) -> None:
        """Post the line and clear the input."""
        line = self.value
        if not line.strip():
            return
        if not self.sent or self.sent[-1] != line:
            self.sent.append(line)
        self._walk = len(self.sent)
        self.value = ""
        self.post_message(LineEntered(line))

    def action_history(self, step: int) -> None:
        """Recall an earlier (or later) line."""
        if not self.sent:
            return
        self._walk = max(0, min(len(self.sent), self._walk + step))
        self.value = self.sent[self._walk] if self._walk < len(self.sent) else ""
        self.cursor_position = len(self.value)

    def action_complete(self) -> None:
        """Ask the backend for candidates in a worker (the UI never waits on it); a Tab right
        after one that found several candidates puts the next candidate in instead."""
        if self._cycling():
            self.action_cycle(1)
        elif self.completer is not None:
            self.run_worker(self._complete(self.value, self.cursor_position), exclusive=True)

    def _cycling(self) -> bool:
        return self.cycle is not None and self.cycle.value == self.value

    def action_cycle(self, step: int) -> None:
        """Put the next (``step`` 1) or previous (-1) candidate in place of the word; without
        candidates to cycle through, Shift-Tab moves the focus back as usual."""
        cycle = self.cycle
        if cycle is None or not self._cycling():
            self.screen.focus_previous()
            return
        n = len(cycle.words)
        cycle.index = (0 if step > 0 else n - 1) if cycle.index < 0 else (cycle.index + step) % n
        self.value, self.cursor_position = apply_completion(
            cycle.line, cycle.cursor, cycle.words[cycle.index]
        )
        cycle.value = self.value
        self.post_message(Completions(cycle.words, cycle.index))

    async def _complete(self, line: str, cursor: int) -> None:
        assert self.completer is not None
        words = await self.completer(line, cursor)
        if self.value != line or self.cursor_position != cursor:
            return  # the user typed on meanwhile: the answer is stale
        self.candidates = words
        self.cycle = None
        if len(words) == 1:
            self.value, self.cursor_position = apply_completion(line, cursor, words[0])
        elif words:
            ctx = completion_context(line, cursor)
            prefix = common_prefix(words)
            if ctx is not None and len(prefix) > len(ctx.prefix) and " " not in prefix:
                self.value = line[: ctx.start] + prefix + line[cursor:]
                self.cursor_position = ctx.start + len(prefix)
            self.cycle = Cycle(line, cursor, words, -1, self.value)
        self.post_message(Completions(words))
