"""The message log: a Line-API scroll view rendering only the visible lines of any history.

A 100 000-message history costs one small record per message and a prefix sum of line
offsets (rebuilt on resize); drawing a frame formats only the messages on screen, with an
LRU cache of rendered messages so scrolling back and forth formats nothing twice.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import accumulate
from typing import Any, ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ohtchat.api.views import MessageView
from ohtchat.tui.text import STATE_MARKS, TimeFormatter, clean

_CACHE_SIZE = 512


@dataclass(slots=True)
class LogEntry:
    """One message as the log keeps it: sanitized name and text, their cell widths."""

    msg_id: str
    name: str
    text: str
    timestamp: float
    state: str
    outgoing: bool
    cells: int  # name + ": " + text, in terminal cells

    @classmethod
    def from_message(cls, msg: MessageView) -> LogEntry:
        """Build from a stored message (a message event or an entry of a message list)."""
        name = clean(msg.sender_name or msg.sender or "?")[:32]
        text = clean(msg.text)
        cells = _cells(name) + 2 + _cells(text)
        return cls(msg.msg_id, name, text, msg.timestamp, msg.state, msg.outgoing, cells)


def _cells(text: str) -> int:
    # len() is exact for ASCII and far cheaper than cell_len; most chat text is ASCII.
    return len(text) if text.isascii() else cell_len(text)


class MessageLog(ScrollView, can_focus=True):
    """The open conversation's messages, newest last; follows the end while scrolled there."""

    DEFAULT_CSS = """
    MessageLog { background: $surface; }
    MessageLog > .message-log--time { color: $text-muted; }
    MessageLog > .message-log--self { color: $accent; text-style: bold; }
    MessageLog > .message-log--peer { color: $primary; text-style: bold; }
    MessageLog > .message-log--state { color: $text-muted; }
    MessageLog > .message-log--failed { color: $error; }
    MessageLog > .message-log--hit { background: $warning 30%; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "message-log--time",
        "message-log--self",
        "message-log--peer",
        "message-log--state",
        "message-log--failed",
        "message-log--hit",
    }

    @dataclass
    class ReachedTop(Message):
        """The user scrolled to the oldest message shown (time to fetch older ones)."""

    def __init__(self, *, times: TimeFormatter | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.times = times or TimeFormatter()
        self.entries: list[LogEntry] = []
        self._index: dict[str, int] = {}
        self._offsets: list[int] = [0]  # first line of each entry, plus the total at the end
        self._width = 0
        self._strips: OrderedDict[int, Strip] = OrderedDict()
        self.highlight: str = ""

    # ---- content -------------------------------------------------------------------------

    def set_messages(self, messages: Iterable[MessageView]) -> None:
        """Replace the content (oldest first) and scroll to the end."""
        self.entries = [LogEntry.from_message(m) for m in messages]
        self._index = {e.msg_id: i for i, e in enumerate(self.entries) if e.msg_id}
        self._reflow()
        # After the next layout: only then does max_scroll_y know the new height.
        self.scroll_end(animate=False)

    def append(self, message: MessageView) -> None:
        """Add a message at the end (replacing one with the same id); follows if at the end."""
        entry = LogEntry.from_message(message)
        if entry.msg_id in self._index:
            self.update_state(entry.msg_id, entry.state)
            return
        follow = self.is_vertical_scroll_end or self.max_scroll_y == 0
        self.entries.append(entry)
        if entry.msg_id:
            self._index[entry.msg_id] = len(self.entries) - 1
        width = self._line_width()
        self._offsets.append(self._offsets[-1] + self._lines(entry, width))
        self._resize_virtual()
        if follow:
            self.scroll_end(animate=False)
        self.refresh()

    def update_state(self, msg_id: str, state: str) -> bool:
        """Change the delivery mark of a message; False when it is not in the log."""
        i = self._index.get(msg_id)
        if i is None:
            return False
        self.entries[i].state = state
        self._strips.pop(i, None)
        self.refresh()
        return True

    def set_highlight(self, text: str) -> None:
        """Mark messages containing ``text`` (case-insensitive); empty clears."""
        self.highlight = text.casefold()
        self._strips.clear()
        self.refresh()

    def scroll_to_message(self, msg_id: str) -> bool:
        """Scroll so the message is at the top; False when it is not in the log."""
        i = self._index.get(msg_id)
        if i is None:
            return False
        # Deferred like set_messages' scroll to the end, so it runs after (and wins).
        self.scroll_to(y=self._offsets[i], animate=False)
        return True

    @property
    def line_count(self) -> int:
        """Display lines of the whole log at the current width."""
        return self._offsets[-1]

    # ---- layout --------------------------------------------------------------------------

    def _line_width(self) -> int:
        return max(10, self.scrollable_content_region.width or self.size.width or 80)

    def _prefix_cells(self) -> int:
        return self.times.width + 1  # "12:34 "

    def _lines(self, entry: LogEntry, width: int) -> int:
        total = self._prefix_cells() + entry.cells + 2  # + " ✓"
        return max(1, -(-total // width))

    def _reflow(self) -> None:
        width = self._width = self._line_width()
        prefix = self._prefix_cells() + 2
        # Inlined _lines(): this runs over every message on each resize.
        counts = (max(1, -(-(prefix + e.cells) // width)) for e in self.entries)
        self._offsets = [0, *accumulate(counts)]
        self._strips.clear()
        self._resize_virtual()

    def _resize_virtual(self) -> None:
        self.virtual_size = Size(self._width, self._offsets[-1])

    def on_resize(self) -> None:
        """Re-wrap when the width changed."""
        if self._line_width() != self._width:
            at_end = self.is_vertical_scroll_end
            self._reflow()
            if at_end:
                self.scroll_end(animate=False)
        self.refresh()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        """Post :class:`ReachedTop` when scrolling arrives at the top."""
        super().watch_scroll_y(old_value, new_value)
        if new_value <= 0 < old_value:
            self.post_message(self.ReachedTop())

    def notify_style_update(self) -> None:
        """A theme change: drop the rendered lines (their colours changed)."""
        super().notify_style_update()
        self._strips.clear()

    # ---- rendering -----------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        """The display line ``y`` of the viewport (Line API)."""
        width = self.scrollable_content_region.width
        base = self.rich_style
        line = self.scroll_offset.y + y
        if width <= 0 or line >= self._offsets[-1] or not self.entries:
            return Strip.blank(max(width, 0), base)
        i = bisect_right(self._offsets, line) - 1
        part = line - self._offsets[i]
        strip = self._strip(i)
        w = self._width
        return strip.crop(part * w, (part + 1) * w).extend_cell_length(width, base)

    def _strip(self, i: int) -> Strip:
        strip = self._strips.get(i)
        if strip is not None:
            self._strips.move_to_end(i)
            return strip
        strip = self._strips[i] = self._render_entry(self.entries[i])
        if len(self._strips) > _CACHE_SIZE:
            self._strips.popitem(last=False)
        return strip

    def _render_entry(self, e: LogEntry) -> Strip:
        base = self.rich_style
        style = self.get_component_rich_style
        hit = bool(self.highlight) and self.highlight in e.text.casefold()
        body = base + style("message-log--hit") if hit else base
        name_style = style("message-log--self" if e.outgoing else "message-log--peer")
        mark = STATE_MARKS.get(e.state, " ") if e.outgoing else " "
        mark_style = style("message-log--failed" if e.state == "failed" else "message-log--state")
        segments = [
            Segment(self.times(e.timestamp) + " ", base + style("message-log--time")),
            Segment(e.name, base + name_style),
            Segment(": ", base),
            Segment(e.text, body),
            Segment(" " + mark, base + mark_style),
        ]
        return Strip(segments)

    def style_for(self, name: str) -> Style:
        """The rich style of a component class (for tests of the theme)."""
        return self.get_component_rich_style(name)
