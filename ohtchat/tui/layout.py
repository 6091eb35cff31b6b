"""How the main screen fits a terminal: sidebar width, compact classes, key hints per width.

Pure functions (no widgets): the screen applies them on every resize.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text

from ohtchat.i18n import N_, _

WIDE_SIDEBAR = 28
"""Sidebar columns on a wide terminal."""

NARROW_SIDEBAR = 20
"""Sidebar columns on a narrow terminal (80 columns)."""

NARROW_BELOW = 100
"""Terminals narrower than this get the narrow sidebar and a compact status bar."""

COLLAPSE_BELOW = 70
"""Terminals narrower than this hide the sidebar until F2 opens it."""

SHORT_BELOW = 28
"""Terminals shorter than this get a small console pane and a one-line input."""

KEY_HINTS = (
    ("Ctrl-Q", N_("quit")),
    ("F1", N_("help")),
    ("F2", N_("sidebar")),
    ("Ctrl-N/P", N_("next/previous")),
    ("Alt-1…9", N_("open")),
    ("Ctrl-F", N_("search")),
    ("Ctrl-R", N_("ring")),
    ("Ctrl-T", N_("theme")),
)

_GAP = "  "
_MORE = " …"


def sidebar_width(width: int, choice: bool | None) -> int:
    """Columns of the sidebar at terminal ``width``; 0 when hidden.

    ``choice`` is the user's F2 toggle: None follows the width (hidden below
    :data:`COLLAPSE_BELOW`), True/False shows/hides it whatever the width.
    """
    shown = width >= COLLAPSE_BELOW if choice is None else choice
    if not shown:
        return 0
    return WIDE_SIDEBAR if width >= NARROW_BELOW else NARROW_SIDEBAR


def layout_classes(width: int, height: int) -> dict[str, bool]:
    """The screen's size classes: ``-narrow`` and ``-short``, each on or off."""
    return {"-narrow": width < NARROW_BELOW, "-short": height < SHORT_BELOW}


def key_hints(width: int) -> Text:
    """As many whole key hints as fit in ``width`` cells (padding included); ``…`` when some
    had to be left out (F1 lists them all)."""
    room = max(0, width - 2)
    text = Text(no_wrap=True, overflow="ellipsis")
    for n, (key, what) in enumerate(KEY_HINTS):
        piece = (_GAP if n else "") + key + " " + _(what)
        rest = n + 1 < len(KEY_HINTS)
        if cell_len(text.plain + piece) + (cell_len(_MORE) if rest else 0) > room:
            text.append(_MORE, style="dim")
            break
        text.append((_GAP if n else "") + key, style="bold")
        text.append(" " + _(what))
    return text
