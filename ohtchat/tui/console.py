"""The console pane: command output and node notices, re-wrapped to its width, some supersedable.

Each line is kept with an optional *topic* (``JOIN_TOPIC`` of :mod:`ohtchat.api.constants` for
failures to join the ring): when the state a line describes has ended, :meth:`Console.supersede`
removes every line of that topic, so an old error does not stay on screen after the thing it
complained about worked.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from rich.text import Text
from textual.events import Resize
from textual.widgets import RichLog

MAX_LINES = 1000
"""Entries the console keeps (older ones scroll away)."""


class Console(RichLog):
    """A :class:`RichLog` that wraps at its own width (not at 78 columns) and re-wraps on
    resize, so nothing it shows is cut off at the right edge."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(wrap=True, markup=False, max_lines=MAX_LINES, min_width=1, **kwargs)
        self.entries: deque[tuple[Text, str | None]] = deque(maxlen=MAX_LINES)
        self._wrapped_at = 0

    def say(self, text: Text, topic: str | None = None) -> None:
        """Show ``text`` (wrapped at the pane's width), remembering its ``topic``."""
        self.entries.append((text, topic))
        self.write(text)

    def supersede(self, topic: str) -> int:
        """Remove every line of ``topic``; the number removed."""
        kept = [(text, t) for text, t in self.entries if t != topic]
        removed = len(self.entries) - len(kept)
        if removed:
            self.entries = deque(kept, maxlen=MAX_LINES)
            self._rewrite()
        return removed

    def has_topic(self, topic: str) -> bool:
        """True while a line of ``topic`` is shown."""
        return any(t == topic for _text, t in self.entries)

    def on_resize(self, event: Resize) -> None:
        """Re-wrap everything when the width changed (the sidebar opened or closed).

        RichLog's own handler runs too (Textual dispatches along the MRO): it renders the
        lines written before the first size was known."""
        width = self.scrollable_content_region.width
        if width and width != self._wrapped_at:
            first = not self._wrapped_at
            self._wrapped_at = width
            if not first:
                self._rewrite()

    def _rewrite(self) -> None:
        self.clear()
        for text, _topic in self.entries:
            self.write(text, scroll_end=True)
