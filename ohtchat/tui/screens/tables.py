"""Table screens of typed views: the ring (finger table, peers), the commands, search results."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from ohtchat.api.views import FingerTable, HelpIndex, MessageList, MessageView, PeerList, PeerView
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


def _peer_cells(peer: PeerView | None) -> list[str]:
    if peer is None:
        return ["", "", ""]
    return [
        short_id(clean(peer.id), 16),
        short_onion(clean(peer.onion), 16),
        clean(peer.address),
    ]


def ftable_screen(view: FingerTable) -> TableScreen:
    """The finger table."""
    rows: list[tuple[str | None, Sequence[str | Text]]] = []
    for f in view.fingers:
        span = f"{f.first}–{f.last}" if f.first != f.last else str(f.first)
        rows.append((None, [span, short_id(clean(f.start), 16), *_peer_cells(f.peer)]))
    title = ngettext("Finger table: {n} entry", "Finger table: {n} entries", len(rows)).format(
        n=format_number(len(rows))
    )
    columns = [_("Fingers"), _("Start"), _("Node id"), _("Onion"), _("Address")]
    return TableScreen(title, columns, rows)


def peers_screen(view: PeerList) -> TableScreen:
    """The peers of the node."""
    rows: list[tuple[str | None, Sequence[str | Text]]] = [
        (None, _peer_cells(p)) for p in view.peers
    ]
    title = ngettext("{n} connected peer", "{n} connected peers", len(rows)).format(
        n=format_number(len(rows))
    )
    return TableScreen(title, [_("Node id"), _("Onion"), _("Address")], rows)


def help_screen(view: HelpIndex) -> TableScreen:
    """Every command: group, usage, description; a row's key is the command's name."""
    rows: list[tuple[str | None, Sequence[str | Text]]] = []
    for cmd in view.commands:
        aliases = " ".join(f"/{a}" for a in cmd.aliases)
        usage = Text(cmd.usage, style="bold")
        if aliases:
            usage.append(f"  ({aliases})", style="dim")
        rows.append((cmd.name, [cmd.group_title, usage, cmd.help]))
    title = _("Commands")
    hint = _(
        "Text without a leading / is sent to the open conversation. Tab completes; "
        "Enter on a row puts the command in the input line; Esc closes."
    )
    return TableScreen(title, [_("Group"), _("Usage"), _("Description")], rows, hint)


def search_key(message: MessageView) -> str:
    """The row key of a search result: ``conversation msg_id``."""
    return f"{message.conversation} {message.msg_id}"


def search_screen(view: MessageList, names: dict[str, str], tz: tzinfo | None) -> TableScreen:
    """Search results (``view.query`` found in ``view.messages``); Enter opens the message's
    conversation (the row's key is :func:`search_key`)."""
    rows: list[tuple[str | None, Sequence[str | Text]]] = []
    for m in view.messages:
        conv = m.conversation
        when = format_datetime(m.timestamp, "short", tzinfo=tz)
        body = Text(clean(m.text))
        body.highlight_words([view.query], style="reverse", case_sensitive=False)
        sender = clean(m.sender_name or m.sender)
        rows.append((search_key(m), [when, clean(names.get(conv, short_id(conv))), sender, body]))
    title = ngettext(
        "{n} message contains “{text}”", "{n} messages contain “{text}”", len(rows)
    ).format(n=format_number(len(rows)), text=clean(view.query))
    columns = [_("Time"), _("Conversation"), _("From"), _("Message")]
    return TableScreen(title, columns, rows, _("Enter opens the conversation; Esc closes."))
