"""Table screens: the ring views (``/ftable``, ``/peers``), ``/help`` and search results."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from ohtchat.i18n import _, format_datetime, format_number, ngettext
from ohtchat.tui.text import clean, short_id, short_onion


class TableScreen(ModalScreen[str | None]):
    """A titled table; Enter on a row dismisses with its key, Escape with None."""

    DEFAULT_CSS = """
    TableScreen { align: center middle; }
    TableScreen > Vertical { width: 90%; height: 85%; border: round $primary; background: $panel; }
    TableScreen .table-title { text-style: bold; color: $accent; padding: 0 1; }
    TableScreen .table-hint { color: $text-muted; padding: 0 1; }
    TableScreen DataTable { height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q", "close", show=False)]

    def __init__(
        self,
        title: str,
        columns: Sequence[str],
        rows: Sequence[tuple[str | None, Sequence[str | Text]]],
        hint: str = "",
    ) -> None:
        super().__init__()
        self.title_text = title
        self.columns = list(columns)
        self.rows = list(rows)
        self.hint = hint

    def compose(self) -> ComposeResult:
        """Title, table, hint."""
        with Vertical():
            yield Static(self.title_text, classes="table-title")
            yield DataTable(cursor_type="row", zebra_stripes=True)
            yield Static(self.hint or _("Esc closes this view."), classes="table-hint")

    def on_mount(self) -> None:
        """Fill the table."""
        table = self.query_one(DataTable)
        table.add_columns(*self.columns)
        for n, (key, cells) in enumerate(self.rows):
            table.add_row(*cells, key=key or f"row-{n}")
        table.focus()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter on a row: dismiss with its key."""
        key = event.row_key.value
        self.dismiss(key if key and not key.startswith("row-") else None)

    def action_close(self) -> None:
        """Close without choosing."""
        self.dismiss(None)


def _peer_cells(peer: Any) -> list[str]:
    peer = peer if isinstance(peer, dict) else {}
    return [
        short_id(clean(str(peer.get("id") or "")), 16),
        short_onion(clean(str(peer.get("onion") or "")), 16),
        clean(str(peer.get("address") or "")),
    ]


def ftable_screen(data: dict[str, Any]) -> TableScreen:
    """The finger table of a ``/ftable`` result."""
    fingers = [f for f in data.get("fingers") or [] if isinstance(f, dict)]
    rows: list[tuple[str | None, Sequence[str | Text]]] = []
    for f in fingers:
        span = f"{f.get('first')}–{f.get('last')}" if f.get("first") != f.get("last") else ""
        span = span or str(f.get("first", ""))
        rows.append(
            (None, [span, short_id(str(f.get("start") or ""), 16), *_peer_cells(f.get("peer"))])
        )
    title = ngettext("Finger table: {n} entry", "Finger table: {n} entries", len(rows)).format(
        n=format_number(len(rows))
    )
    columns = [_("Fingers"), _("Start"), _("Node id"), _("Onion"), _("Address")]
    return TableScreen(title, columns, rows)


def peers_screen(data: dict[str, Any]) -> TableScreen:
    """The peers of a ``/peers`` result."""
    peers = [p for p in data.get("peers") or [] if isinstance(p, dict)]
    rows: list[tuple[str | None, Sequence[str | Text]]] = [(None, _peer_cells(p)) for p in peers]
    title = ngettext("{n} connected peer", "{n} connected peers", len(rows)).format(
        n=format_number(len(rows))
    )
    return TableScreen(title, [_("Node id"), _("Onion"), _("Address")], rows)


def help_screen(data: dict[str, Any]) -> TableScreen:
    """Every command of a ``/help`` result: group, usage, description."""
    rows: list[tuple[str | None, Sequence[str | Text]]] = []
    for cmd in data.get("commands") or []:
        if not isinstance(cmd, dict):
            continue
        aliases = " ".join(f"/{a}" for a in cmd.get("aliases") or [])
        usage = Text(str(cmd.get("usage", "")), style="bold")
        if aliases:
            usage.append(f"  ({aliases})", style="dim")
        rows.append(
            (
                str(cmd.get("name")),
                [str(cmd.get("group_title", "")), usage, str(cmd.get("help", ""))],
            )
        )
    title = _("Commands")
    hint = _(
        "Text without a leading / is sent to the open conversation. Tab completes; "
        "Enter on a row puts the command in the input line; Esc closes."
    )
    return TableScreen(title, [_("Group"), _("Usage"), _("Description")], rows, hint)


def search_screen(
    text: str, messages: list[dict[str, Any]], names: dict[str, str], tz: tzinfo | None
) -> TableScreen:
    """Search results; Enter opens the message's conversation (key ``conversation msg_id``)."""
    rows: list[tuple[str | None, Sequence[str | Text]]] = []
    for m in messages:
        if not isinstance(m, dict):
            continue
        conv = str(m.get("conversation", ""))
        try:
            when = format_datetime(float(m.get("timestamp") or 0), "short", tzinfo=tz)
        except (TypeError, ValueError):
            when = ""
        body = Text(clean(str(m.get("text", ""))))
        body.highlight_words([text], style="reverse", case_sensitive=False)
        key = f"{conv} {m.get('msg_id', '')}"
        sender = clean(str(m.get("sender_name") or m.get("sender") or ""))
        rows.append((key, [when, clean(names.get(conv, short_id(conv))), sender, body]))
    title = ngettext(
        "{n} message contains “{text}”", "{n} messages contain “{text}”", len(rows)
    ).format(n=format_number(len(rows)), text=clean(text))
    columns = [_("Time"), _("Conversation"), _("From"), _("Message")]
    return TableScreen(title, columns, rows, _("Enter opens the conversation; Esc closes."))
