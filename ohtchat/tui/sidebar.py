"""The sidebar: channels, then contacts with presence dots and unread counts."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option, OptionDoesNotExist

from ohtchat.i18n import _
from ohtchat.tui.messages import ConversationChosen
from ohtchat.tui.model import ChatModel, Conversation
from ohtchat.tui.text import PRESENCE_MARKS


class Sidebar(OptionList):
    """The conversation list; choosing one posts :class:`ConversationChosen`."""

    DEFAULT_CSS = """
    Sidebar {
        width: 28; height: 1fr; border: none; border-right: tall $primary 30%; background: $panel;
    }
    /* OptionList draws a border when focused: the rows would move down one line between the
       mouse-down that focuses the sidebar and the click, which would then open the row above. */
    Sidebar:focus { border: none; border-right: tall $primary; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.model: ChatModel | None = None
        self.columns = 28

    def fit(self, columns: int) -> None:
        """Take ``columns`` cells (0 hides the sidebar); entries are shortened to fit."""
        self.display = columns > 0
        if columns and columns != self.columns:
            self.columns = columns
            self.styles.width = columns
            if self.model is not None:
                self.show(self.model)

    def show(self, model: ChatModel) -> None:
        """Rebuild from ``model``, keeping the open conversation highlighted."""
        self.model = model
        options: list[Option | None] = []
        kinds_seen: set[str] = set()
        for conv in model.ordered():
            if conv.kind not in kinds_seen:
                kinds_seen.add(conv.kind)
                title = _("Channels") if conv.kind == "channel" else _("Contacts")
                options.append(Option(Text(title, style="bold dim"), disabled=True))
            prompt = self._prompt(conv, model.number(conv.id), self.columns - 2)
            options.append(Option(prompt, id=conv.id))
        if not options:
            options.append(Option(Text(_("No conversations yet"), style="dim"), disabled=True))
        self.clear_options()
        self.add_options(options)
        if model.current is not None:
            try:
                self.highlighted = self.get_option_index(model.current)
            except OptionDoesNotExist:  # the open conversation vanished (left, removed)
                self.highlighted = None

    @staticmethod
    def _prompt(conv: Conversation, number: int | None, cells: int) -> Text:
        """``n ● name ? (3)`` in at most ``cells``: the name is shortened (with …), never the
        request mark or the unread count."""
        mark = "#" if conv.kind == "channel" else PRESENCE_MARKS.get(conv.presence, "○")
        key = f"{number} " if number is not None and number <= 9 else "  "
        suffix = Text()
        if conv.state == "requested":
            suffix.append(" ?", style="italic")
        if conv.unread:
            suffix.append(f" ({conv.unread})", style="bold reverse")
        label = Text(conv.label)
        label.truncate(max(1, cells - len(key) - 2 - suffix.cell_len), overflow="ellipsis")
        text = Text.assemble((key, "dim"), (mark + " ", _presence_style(conv)), label, suffix)
        text.truncate(max(4, cells), overflow="ellipsis")
        return text

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Mouse click or Enter on an entry opens that conversation."""
        event.stop()
        if event.option.id:
            self.post_message(ConversationChosen(event.option.id))


def _presence_style(conv: Conversation) -> str:
    if conv.kind == "channel":
        return "dim"
    return {"online": "green", "away": "yellow"}.get(conv.presence, "dim")
