"""The main screen: sidebar, message log, console output, input line, status bar, key hints."""

from __future__ import annotations

from collections.abc import Callable
from datetime import tzinfo
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.events import Resize
from textual.screen import Screen
from textual.widgets import Input, Static

from ohtchat.api.backend import Backend
from ohtchat.api.ops import (
    FingerTableOp,
    GetHistory,
    GetStatus,
    Help,
    ListChannels,
    ListContacts,
    Operation,
    Search,
    SendText,
)
from ohtchat.api.views import MessageList, MessageView
from ohtchat.i18n import _
from ohtchat.tui.console import Console
from ohtchat.tui.layout import key_hints, layout_classes, sidebar_width
from ohtchat.tui.log import MessageLog
from ohtchat.tui.messages import (
    Completions,
    ConversationChosen,
    EventArrived,
    HistoryLoaded,
    LineEntered,
    ResultArrived,
)
from ohtchat.tui.model import ChatModel
from ohtchat.tui.prompt import Prompt
from ohtchat.tui.results import ResultHandler
from ohtchat.tui.screens.tables import TableScreen
from ohtchat.tui.sidebar import Sidebar
from ohtchat.tui.statusbar import StatusBar
from ohtchat.tui.text import PRESENCE_MARKS, TimeFormatter, clean, short_id

HISTORY_PAGE = 2000
"""Messages fetched when a conversation opens; scrolling to the top fetches more."""

MAX_HISTORY = 100_000
"""The most a history request returns (the operation's maximum)."""

#: What Textual reports for ESC+digit (Alt-1…9) in some terminals, tmux among them: the
#: characters a macOS keyboard types with Option-1…9. Bound too, so Alt-digits always work.
ALT_DIGIT_ALIASES = (
    "inverted_exclamation_mark",
    "trade_mark_sign",
    "pound_sign",
    "cent_sign",
    "infinity",
    "section_sign",
    "pilcrow_sign",
    "bullet",
    "ª",
)


class MainScreen(Screen[None]):
    """The chat. What the client does of its own accord (loading lists, history, search, text
    typed into the open conversation, key bindings) is a typed operation (``backend.call``);
    only a command line the user typed (``/…``) goes through ``backend.execute``. Both run in
    workers; results come back as :class:`ResultArrived`, rendered by their typed view."""

    DEFAULT_CSS = """
    #chat { width: 1fr; }
    #conv-title { height: 1; background: $boost; text-style: bold; padding: 0 1; }
    #log { height: 1fr; }
    #console { height: 7; border-top: solid $primary 30%; background: $surface; }
    #search { display: none; }
    #search.-open { display: block; }
    #candidates { height: auto; max-height: 3; color: $text-muted; padding: 0 1; display: none; }
    #candidates.-open { display: block; }
    #keys { height: 1; color: $text-muted; background: $panel; padding: 0 1; }
    MainScreen.-short #console { height: 4; }
    MainScreen.-narrow StatusBar > ProgressBar { width: 12; }
    MainScreen.-narrow StatusBar > ProgressBar Bar { width: 6; }
    MainScreen.-short #prompt { height: 1; border: none; padding: 0 1; background: $boost; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+n", "cycle(1)", priority=True, show=False),
        Binding("ctrl+p", "cycle(-1)", priority=True, show=False),
        *(
            Binding(f"alt+{i},{alias}", f"open_nth({i - 1})", priority=True, show=False)
            for i, alias in enumerate(ALT_DIGIT_ALIASES, start=1)
        ),
        Binding("ctrl+f", "search_box", priority=True, show=False),
        Binding("f1", "show_help", priority=True, show=False),
        Binding("f2", "toggle_sidebar", priority=True, show=False),
        Binding("ctrl+r", "show_fingers", priority=True, show=False),
        Binding("ctrl+t", "toggle_theme", priority=True, show=False),
        Binding("escape", "escape", show=False),
    ]

    def __init__(self, backend: Backend, *, tz: tzinfo | None = None, notify: str = "bell") -> None:
        super().__init__()
        self.backend = backend
        self.model = ChatModel()
        self.tz = tz
        self.notify_mode = notify
        self.default_notify = notify
        self.requested: dict[str, int] = {}
        self.pending_scroll: str | None = None
        self.results = ResultHandler(self)
        self.sidebar_choice: bool | None = None  # F2: None follows the terminal's width

    # ---- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        """Sidebar left; title, log, console, search, input right; status and keys below."""
        with Horizontal():
            yield Sidebar(id="sidebar")
            with Vertical(id="chat"):
                yield Static(id="conv-title")
                yield MessageLog(id="log", times=TimeFormatter(self.tz))
                yield Console(id="console")
                yield Input(
                    placeholder=_("Search messages (Enter searches, Esc closes)"), id="search"
                )
                yield Static(id="candidates")
                yield Prompt(
                    self.backend.complete,
                    placeholder=_("Type a message, or /help for commands"),
                    id="prompt",
                )
        yield StatusBar()
        yield Static(key_hints(self.app.size.width), id="keys")

    def on_resize(self, event: Resize) -> None:
        """Fit the terminal: sidebar width, compact console/input, the key hints that fit."""
        self.fit(event.size.width, event.size.height)

    def fit(self, width: int, height: int) -> None:
        """Apply the layout for a ``width`` × ``height`` terminal."""
        for name, wanted in layout_classes(width, height).items():
            self.set_class(wanted, name)
        self.query_one(Sidebar).fit(sidebar_width(width, self.sidebar_choice))
        self.query_one("#keys", Static).update(key_hints(width))

    def on_mount(self) -> None:
        """Greet, load lists and status, follow the node's events."""
        self.console.say(Text(_("Type /help for the commands; Tab completes."), style="dim"))
        self.fit(self.app.size.width, self.app.size.height)
        self.redraw()
        for op in (GetStatus(), ListChannels(), ListContacts()):
            self.call(op, quiet=True)
        self.run_worker(self._pump_events(), group="events", exit_on_error=False)
        self.query_one(Prompt).focus()

    @property
    def log_view(self) -> MessageLog:
        """The message log widget."""
        return self.query_one("#log", MessageLog)

    @property
    def console(self) -> Console:
        """The pane showing command output."""
        return self.query_one("#console", Console)

    def redraw(self) -> None:
        """Sidebar, title and status bar from the model."""
        self.query_one(Sidebar).show(self.model)
        self.query_one(StatusBar).show(self.model)
        self.query_one("#conv-title", Static).update(self._title())

    def _title(self) -> Text:
        conv = self.model.conversations.get(self.model.current or "")
        if conv is None:
            return Text(_("No conversation open: pick one on the left, or /help"), style="dim")
        mark = "#" if conv.kind == "channel" else PRESENCE_MARKS.get(conv.presence, "○")
        text = Text(f"{mark} {conv.label}")
        text.append(f"  {short_id(conv.id, 16)}", style="dim")
        return text

    # ---- backend calls (workers) -----------------------------------------------------------

    def run_line(self, line: str, conversation: str | None = None) -> None:
        """Run a command line the user typed (the console edge) in a worker."""

        async def run() -> None:
            result = await self.backend.execute(line, conversation=conversation)
            self.post_message(ResultArrived(result))

        self.run_worker(run(), group="backend", exit_on_error=False)

    def call(self, op: Operation, *, quiet: bool = False) -> None:
        """Run a typed operation in a worker; ``quiet`` shows nothing unless it fails."""

        async def run() -> None:
            result = await self.backend.call(op)
            self.post_message(ResultArrived(result, op, quiet))

        self.run_worker(run(), group="backend", exit_on_error=False)

    def load_history(self, cid: str, count: int) -> None:
        """Fetch the latest ``count`` messages of ``cid`` in a worker."""
        self.requested[cid] = count

        async def run() -> None:
            op = GetHistory(cid, count)
            result = await self.backend.call(op)
            if result.ok and isinstance(result.view, MessageList):
                self.post_message(HistoryLoaded(cid, result.view.messages, count))
            else:
                self.post_message(ResultArrived(result, op))

        self.run_worker(run(), group=f"history-{cid}", exclusive=True, exit_on_error=False)

    async def _pump_events(self) -> None:
        async for event in self.backend.events():
            self.post_message(EventArrived(event))

    # ---- messages --------------------------------------------------------------------------

    @on(LineEntered)
    def _line(self, message: LineEntered) -> None:
        self.query_one("#candidates").remove_class("-open")
        line = message.line
        if line.startswith("/") and not line.startswith("//"):
            self.run_line(line, self.model.current)
            return
        if self.model.current is None:
            self.console.say(
                Text(_("No conversation is open: pick one on the left."), style="bold red")
            )
            return
        # "//text" sends "/text" (a line starting with a slash that is not a command).
        self.call(SendText(self.model.current, line[1:] if line.startswith("//") else line))

    @on(ResultArrived)
    def _done(self, message: ResultArrived) -> None:
        self.results.handle(message.result, message.op, message.quiet)

    @on(EventArrived)
    def _event(self, message: EventArrived) -> None:
        self.results.event(message.event)

    @on(ConversationChosen)
    def _chosen(self, message: ConversationChosen) -> None:
        self.open(message.conversation_id)

    @on(HistoryLoaded)
    def _history(self, message: HistoryLoaded) -> None:
        if message.conversation != self.model.current:
            return
        log = self.log_view
        first = log.entries[0].msg_id if log.entries and message.requested > HISTORY_PAGE else None
        log.set_messages(message.messages)
        target = self.pending_scroll or first
        self.pending_scroll = None
        if target:
            log.scroll_to_message(target)

    @on(Completions)
    def _completions(self, message: Completions) -> None:
        box = self.query_one("#candidates", Static)
        text = Text()
        for n, word in enumerate(message.words[:60]):
            text.append(("  " if n else "") + word, style="reverse" if n == message.current else "")
        box.update(text)
        box.set_class(len(message.words) > 1, "-open")

    @on(Input.Submitted, "#search")
    def _search(self, message: Input.Submitted) -> None:
        message.stop()
        text = message.value.strip()
        self.log_view.set_highlight(text)
        self._close_search()  # the results come as a view; its Esc must not find it open
        if text:
            self.call(Search(text))

    @on(MessageLog.ReachedTop)
    def _top(self) -> None:
        self.maybe_page_in()

    # ---- conversations ---------------------------------------------------------------------

    def open(self, cid: str, *, scroll_to: str | None = None) -> None:
        """Open conversation ``cid``: load its history, reset its unread count."""
        if self.model.select(cid) is None:
            self.console.say(Text(_("Unknown conversation."), style="bold red"))
            return
        self.pending_scroll = scroll_to
        self.log_view.set_messages([])
        self.redraw()
        self.load_history(cid, HISTORY_PAGE)

    def maybe_page_in(self) -> None:
        """At the top of a full page of history: fetch twice as much (up to the maximum)."""
        cid = self.model.current
        log = self.log_view
        if cid is None or log.scroll_y > 0:
            return
        asked = self.requested.get(cid, 0)
        if len(log.entries) >= asked and asked < MAX_HISTORY:
            self.load_history(cid, min(MAX_HISTORY, asked * 2))

    # ---- actions ---------------------------------------------------------------------------

    def action_cycle(self, step: int) -> None:
        """Next (previous) conversation in sidebar order."""
        conv = self.model.neighbour(step)
        if conv is not None:
            self.open(conv.id)

    def action_open_nth(self, index: int) -> None:
        """Alt-1…9: the n-th conversation of the sidebar."""
        conv = self.model.nth(index)
        if conv is not None:
            self.open(conv.id)

    def action_toggle_sidebar(self) -> None:
        """F2: hide or show the sidebar (overriding the automatic choice for this width)."""
        self.sidebar_choice = not self.query_one(Sidebar).display
        self.fit(self.app.size.width, self.app.size.height)

    def action_search_box(self) -> None:
        """Show the search box and focus it."""
        box = self.query_one("#search", Input)
        box.add_class("-open")
        box.focus()

    def action_escape(self) -> None:
        """Close the search box (clearing the highlight) and go back to the input line."""
        self._close_search()
        self.log_view.set_highlight("")
        self.query_one("#candidates").remove_class("-open")
        self.query_one(Prompt).focus()

    def _close_search(self) -> None:
        box = self.query_one("#search", Input)
        box.remove_class("-open")
        box.value = ""
        self.query_one(Prompt).focus()

    def action_show_help(self) -> None:
        """F1: every command, in a table."""
        self.call(Help())

    def action_show_fingers(self) -> None:
        """Ctrl-R: the finger table."""
        self.call(FingerTableOp())

    def action_toggle_theme(self) -> None:
        """Switch between the light and the dark theme."""
        self.app.theme = "textual-light" if self.app.current_theme.dark else "textual-dark"

    def notify_whisper(self, message: MessageView) -> None:
        """A whisper arrived: bell or notification per the setting, when not looking at it."""
        name = clean(message.sender_name or message.sender)
        unfocused = not self.app.app_focus
        if unfocused and self.notify_mode in ("bell", "both"):
            self.app.bell()
        if (unfocused and self.notify_mode in ("notify", "both")) or (
            not unfocused and self.model.current != message.conversation
        ):
            body = clean(message.text)[:120]
            self.app.notify(body, title=_("Message from {name}").format(name=name), timeout=6)

    # ---- what the result handler draws on (see results.Surface) ----------------------------

    def show_table(
        self, screen: TableScreen, chosen: Callable[[str | None], None] | None = None
    ) -> None:
        """Show a table screen; ``chosen`` gets the key of the row picked (None: closed)."""
        self.app.push_screen(screen, chosen)

    def suggest(self, line: str) -> None:
        """Put ``line`` into the input line, cursor at its end, and focus it."""
        prompt = self.query_one(Prompt)
        prompt.value = line
        prompt.cursor_position = len(line)
        prompt.focus()

    def quit(self) -> None:
        """End the client."""
        self.app.exit()
