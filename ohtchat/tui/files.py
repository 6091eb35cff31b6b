"""File transfers in the client: progress bars with rate and ETA, accept and cancel by key.

:class:`Transfers` keeps the latest view of every transfer the client heard of (from ``/files``
and from ``file`` events) with its rate, measured from the events' own times (so it is the
node's clock, also for a remote node). :class:`FilesScreen` shows them as a table that follows
the events while it is open: ``a`` accepts the offer under the cursor, ``c`` cancels the
transfer, Enter on a received file closes the view and shows where the file is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import DataTable

from ohtchat.api.ops import AcceptFile, CancelFile, Operation
from ohtchat.api.views import FileView
from ohtchat.app.handlers.files import state_text
from ohtchat.i18n import _, format_size
from ohtchat.tui.screens.tables import TableScreen
from ohtchat.tui.text import clean, short_id

#: Cells of a progress bar.
BAR_WIDTH = 16
#: Weight of the newest sample in the smoothed rate.
SMOOTHING = 0.3


def bar(done: int, size: int, width: int = BAR_WIDTH) -> Text:
    """A progress bar with its percentage."""
    part = 1.0 if size <= 0 else min(max(done / size, 0.0), 1.0)
    full = round(part * width)
    text = Text("█" * full, style="green")
    text.append("░" * (width - full), style="dim")
    text.append(f" {int(part * 100):3d}%")
    return text


def eta_text(seconds: float | None) -> str:
    """A remaining time for people (``1:05``, ``2:03:00``), ``""`` when unknown."""
    if seconds is None:
        return ""
    s = int(seconds + 0.5)
    if s >= 3600:
        return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"
    return f"{s // 60}:{s % 60:02d}"


@dataclass
class Tracked:
    """One transfer as last seen, with its smoothed rate (bytes per second)."""

    view: FileView
    at: float
    rate: float = 0.0

    @property
    def eta(self) -> float | None:
        """Seconds left at the current rate (None when not moving)."""
        if self.view.state not in ("receiving", "sending") or self.rate <= 0:
            return None
        return max(self.view.size - self.view.done, 0) / self.rate


class Transfers:
    """Every transfer the client knows of, newest first (sans-IO: times come with the views)."""

    def __init__(self) -> None:
        self.items: dict[str, Tracked] = {}

    def update(self, view: FileView, at: float) -> Tracked:
        """Take a newer view of a transfer seen at node time ``at``."""
        old = self.items.get(view.id)
        tracked = Tracked(view, at)
        if old is not None:
            tracked.rate = old.rate
            dt, moved = at - old.at, view.done - old.view.done
            if dt > 0 and moved >= 0 and view.state in ("receiving", "sending"):
                sample = moved / dt
                tracked.rate = (
                    sample if old.rate == 0 else (SMOOTHING * sample + (1 - SMOOTHING) * old.rate)
                )
            elif dt <= 0:
                tracked.at = old.at  # several views at one instant: keep measuring from the first
        if view.state not in ("receiving", "sending"):
            tracked.rate = 0.0
        self.items[view.id] = tracked
        return tracked

    def rows(self, name_of: Callable[[str], str]) -> list[tuple[str | None, Sequence[str | Text]]]:
        """The table rows: key = transfer id."""
        rows: list[tuple[str | None, Sequence[str | Text]]] = []
        for t in self.items.values():
            v = t.view
            arrow = "→" if v.direction == "out" else "←"
            rate = f"{format_size(t.rate)}/s" if t.rate > 0 else ""
            where = v.path if v.direction == "in" and v.state == "done" else ""
            rows.append(
                (
                    v.id,
                    [
                        short_id(clean(v.id)),
                        f"{arrow} {clean(name_of(v.peer))}",
                        clean(v.name),
                        format_size(v.size),
                        bar(v.done, v.size),
                        rate,
                        eta_text(t.eta),
                        state_text(v),
                        clean(where),
                    ],
                )
            )
        return rows


def columns() -> list[str]:
    """The column titles of the transfers table."""
    return [
        _("Id"),
        _("With"),
        _("File"),
        _("Size"),
        _("Progress"),
        _("Rate"),
        _("ETA"),
        _("State"),
        _("Saved as"),
    ]


class FilesScreen(TableScreen):
    """The transfers, following the node's events while open."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", show=False),
        Binding("a", "accept", _("Accept")),
        Binding("c", "cancel", _("Cancel")),
    ]

    def __init__(
        self,
        transfers: Transfers,
        name_of: Callable[[str], str],
        act: Callable[[Operation], None],
    ) -> None:
        hint = _("a accepts an offer, c cancels, Enter shows where a received file is; Esc closes.")
        super().__init__(_("File transfers"), columns(), transfers.rows(name_of), hint)
        self.transfers = transfers
        self.name_of = name_of
        self.act = act

    def refresh_rows(self) -> None:
        """Redraw the rows from the transfers (the cursor stays on its row)."""
        if not self.is_mounted:
            return
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear()
        for key, cells in self.transfers.rows(self.name_of):
            table.add_row(*cells, key=key)
        if table.row_count:
            table.move_cursor(row=min(row, table.row_count - 1))

    def _current(self) -> str | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return key if key in self.transfers.items else None

    def action_accept(self) -> None:
        """Accept the offer under the cursor."""
        key = self._current()
        if key is not None:
            self.act(AcceptFile(key))

    def action_cancel(self) -> None:
        """Cancel the transfer under the cursor."""
        key = self._current()
        if key is not None:
            self.act(CancelFile(key))
