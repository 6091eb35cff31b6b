"""Pure text helpers of the client: sanitizing, shortening, state marks, cached timestamps.

Nothing here imports Textual, so the formatting rules are testable on their own.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import tzinfo

from ohtchat.i18n import N_, _, format_time

# Control characters from the network must never reach the terminal (escape injection).
_CONTROL = {c: " " for c in (*range(32), 127, *range(0x80, 0xA0))}

STATE_MARKS: dict[str, str] = {
    "sending": "…",
    "delivered": "✓",
    "queued": "◷",
    "failed": "✗",
}
"""The one-cell mark after a message for each delivery state (received messages: none)."""

STATE_NAMES: dict[str, str] = {
    "sending": N_("sending"),
    "delivered": N_("delivered"),
    "queued": N_("queued offline"),
    "failed": N_("failed"),
    "received": N_("received"),
}
"""Translatable words for the delivery states (shown in the status bar)."""

PRESENCE_MARKS: dict[str, str] = {"online": "●", "away": "◐", "offline": "○"}
"""The presence dot of a contact in the sidebar."""


def clean(text: str) -> str:
    """``text`` with every control character (newline, ESC, …) replaced by a space."""
    return text.translate(_CONTROL)


def state_name(state: str) -> str:
    """The localized word of a delivery state (the raw state when unknown)."""
    name = STATE_NAMES.get(state)
    return _(name) if name else clean(state)


def short_onion(onion: str, keep: int = 8) -> str:
    """``abcdefgh…xyz.onion`` → ``abcdefgh….onion``: enough to recognize, short to show."""
    label = onion.removesuffix(".onion")
    if len(label) <= keep + 1:
        return onion
    return f"{label[:keep]}…" + (".onion" if onion.endswith(".onion") else "")


def short_id(value: str, keep: int = 8) -> str:
    """The first ``keep`` characters of a hex id (empty stays empty)."""
    return value[:keep]


class TimeFormatter:
    """Babel-formatted, fixed-width message timestamps, cached per minute.

    Formatting a time with Babel costs tens of microseconds; a 100 000-message log shows a
    screenful at a time but must not format on every frame, so results are cached per
    minute (every time zone offset in use is a whole number of minutes).
    """

    def __init__(self, tz: tzinfo | None = None, fmt: Callable[..., str] = format_time) -> None:
        self.tz = tz
        self._fmt = fmt
        self._cache: dict[int, str] = {}
        samples = [self._raw(t) for t in (0, 36_000, 43_200 + 36_000, 86_340)]
        self.width = max(len(s) for s in samples)

    def _raw(self, timestamp: float) -> str:
        return self._fmt(timestamp, "short", tzinfo=self.tz)

    def __call__(self, timestamp: float) -> str:
        """The time of day of ``timestamp`` (POSIX seconds), padded to :attr:`width`."""
        minute = int(timestamp // 60)
        text = self._cache.get(minute)
        if text is None:
            if len(self._cache) > 10_000:
                self._cache.clear()
            text = self._cache[minute] = self._raw(minute * 60).rjust(self.width)
        return text
