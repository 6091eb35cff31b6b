"""The sidebar: channels, then contacts with presence dots and unread counts."""

from __future__ import annotations

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

    def show(self, model: ChatModel) -> None:
        """Rebuild from ``model``, keeping the open conversation highlighted."""
        options: list[Option | None] = []
        kinds_seen: set[str] = set()
        for n, conv in enumerate(model.ordered()):
            if conv.kind not in kinds_seen:
                kinds_seen.add(conv.kind)
                title = _("Channels") if conv.kind == "channel" else _("Contacts")
                options.append(Option(Text(title, style="bold dim"), disabled=True))
            options.append(Option(self._prompt(conv, n), id=conv.id))
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
    def _prompt(conv: Conversation, n: int) -> Text:
        mark = "#" if conv.kind == "channel" else PRESENCE_MARKS.get(conv.presence, "○")
        key = f"{n + 1} " if n < 9 else "  "
        text = Text.assemble((key, "dim"), (mark + " ", _presence_style(conv)), conv.label)
        if conv.state == "requested":
            text.append(" ?", style="italic")
        if conv.unread:
            text.append(f" ({conv.unread})", style="bold reverse")
        text.truncate(26, overflow="ellipsis")
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
