"""What the main screen does with typed results and node events.

Everything here dispatches on types: a result on its view (``StatusView``, ``ContactList``,
``MessageList``, …; a result without one only has text to show), an event on its class. No
command line is parsed and no command name is looked at. The screen is reached through the
narrow :class:`Surface` protocol, so this module does not depend on the screen's module.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import tzinfo
from typing import Protocol

from rich.text import Text

from ohtchat.api.constants import JOIN_TOPIC
from ohtchat.api.events import (
    ChannelEvent,
    ContactEvent,
    FileEvent,
    LogEvent,
    MessageEvent,
    MessageStateEvent,
    NodeEvent,
    PresenceEvent,
    RingEvent,
    StatusEvent,
    TorEvent,
)
from ohtchat.api.ops import ListChannels, ListContacts, Operation
from ohtchat.api.results import CommandResult
from ohtchat.api.views import (
    ChannelList,
    ContactList,
    FileList,
    FileView,
    FingerTable,
    HelpIndex,
    Membership,
    MessageList,
    MessageSent,
    MessageView,
    PeerList,
    QuitRequested,
    SettingChanged,
    StatusView,
    View,
)
from ohtchat.i18n import _, format_size
from ohtchat.tui.console import Console
from ohtchat.tui.files import FilesScreen, Tracked, Transfers
from ohtchat.tui.log import MessageLog
from ohtchat.tui.model import ChatModel, RingState
from ohtchat.tui.screens.tables import (
    TableScreen,
    ftable_screen,
    help_screen,
    peers_screen,
    search_screen,
)
from ohtchat.tui.text import clean

#: The error code of a failure of the ring layer: while the node is not a member, that is a
#: failure to join (shown until the node joins, like the node's own join notices).
RING_ERROR = "ring"

#: How whispers are announced while the terminal is not focused.
NOTIFY_MODES = ("bell", "notify", "both", "off")


class Surface(Protocol):
    """What the result handler needs of the screen it draws on."""

    model: ChatModel
    tz: tzinfo | None
    notify_mode: str
    default_notify: str
    requested: dict[str, int]

    @property
    def console(self) -> Console:
        """The pane showing command output and notices."""
        ...

    @property
    def log_view(self) -> MessageLog:
        """The open conversation's messages."""
        ...

    def redraw(self) -> None:
        """Sidebar, title and status bar from the model."""
        ...

    def call(self, op: Operation, *, quiet: bool = False) -> None:
        """Run ``op`` in the background; its result comes back to :meth:`ResultHandler.handle`."""
        ...

    def open(self, cid: str, *, scroll_to: str | None = None) -> None:
        """Open a conversation and load its history."""
        ...

    def show_table(
        self, screen: TableScreen, chosen: Callable[[str | None], None] | None = None
    ) -> None:
        """Show a table screen; ``chosen`` gets the key of the row picked (None: closed)."""
        ...

    def suggest(self, line: str) -> None:
        """Put ``line`` into the input line for the user to complete."""
        ...

    def notify_whisper(self, message: MessageView) -> None:
        """Announce a whisper (bell or notification)."""
        ...

    def quit(self) -> None:
        """End the client."""
        ...


class ResultHandler:
    """Turns typed results and node events into screen updates."""

    def __init__(self, screen: Surface) -> None:
        self.screen = screen
        #: Every file transfer heard of, with its rate (``/files`` and ``file`` events).
        self.transfers = Transfers()
        self.files_screen: FilesScreen | None = None

    # ---- results ---------------------------------------------------------------------------

    def handle(
        self, result: CommandResult, op: Operation | None = None, quiet: bool = False
    ) -> None:
        """Show a result: its view as a table, in the log or in the model; its text in the
        console (unless ``quiet`` or the view showed it)."""
        s = self.screen
        if not result.ok:
            topic = JOIN_TOPIC if result.code == RING_ERROR and not s.model.ring.member else None
            s.console.say(Text(result.text or _("The command failed."), style="bold red"), topic)
            if isinstance(op, ListContacts | ListChannels):
                s.model.mark_loaded("contact" if isinstance(op, ListContacts) else "channel")
                s.redraw()
            return
        shown = result.view is not None and self.show(result.view)
        if not shown and not quiet and result.text:
            s.console.say(Text(result.text))
        s.redraw()

    def show(self, view: View) -> bool:
        """Apply a result's view; True when it is shown in place of the result's text."""
        s = self.screen
        model = s.model
        match view:
            case StatusView():
                before = model.ring.member
                model.on_status(view)
                self._ring_changed(before)
            case Membership():
                before = model.ring.member
                model.ring = model.ring.joined(view)
                self._ring_changed(before, announce=False)  # the result says so
            case ContactList():
                model.set_contacts(view.contacts)
            case ChannelList():
                model.set_channels(view.channels)
            case MessageList(conversation=""):
                names = {c.id: c.label for c in model.conversations.values()}
                s.show_table(search_screen(view, names, s.tz), self._found)
                return True
            case MessageList():
                self._history(view)
                return True
            case MessageSent():
                model.last_sent = (view.msg_id, view.state)
            case FingerTable():
                s.show_table(ftable_screen(view))
                return True
            case PeerList():
                s.show_table(peers_screen(view))
                return True
            case HelpIndex() if len(view.commands) > 1:
                s.show_table(help_screen(view), self._help_chosen)
                return True
            case SettingChanged():
                self._setting(view)
            case QuitRequested():
                s.quit()
                return True
            case FileList():
                for f in view.files:
                    known = self.transfers.items.get(f.id)
                    self.transfers.items[f.id] = Tracked(f, known.at if known else 0.0)
                if self.files_screen is not None:  # open: /accept or /cancel from it
                    self.files_screen.refresh_rows()
                    return False
                self.files_screen = FilesScreen(self.transfers, self._peer_name, s.call)
                s.show_table(self.files_screen, self._file_chosen)
                return True
        return False

    def _peer_name(self, account_id: str) -> str:
        conv = self.screen.model.conversations.get(account_id)
        return conv.label if conv is not None else account_id[:8]

    def _file_chosen(self, key: str | None) -> None:
        """Enter on a transfer: a received file shows where it is."""
        self.files_screen = None
        tracked = self.transfers.items.get(key or "")
        if tracked is not None and tracked.view.path and tracked.view.direction == "in":
            self.screen.console.say(Text(_("Saved as {path}").format(path=tracked.view.path)))

    def _file_event(self, event: FileView, at: float) -> None:
        """A transfer moved on: notices for an offer, a received file, a failure; the open
        transfers view follows."""
        before = self.transfers.items.get(event.id)
        self.transfers.update(event, at)
        if before is None or before.view.state != event.state:
            name, who = clean(event.name), clean(self._peer_name(event.peer))
            if event.state == "offered" and event.direction == "in":
                text = _("{who} offers {file} ({size}): /accept {id}").format(
                    who=who, file=name, size=format_size(event.size), id=event.id[:8]
                )
                self.screen.console.say(Text(text, style="bold"))
            elif event.state == "done" and event.direction == "in":
                text = _("Received {file}: {path}").format(file=name, path=clean(event.path))
                self.screen.console.say(Text(text, style="green"))
            elif event.state == "failed":
                text = _("File transfer failed: {file} ({reason})").format(
                    file=name, reason=clean(event.error)
                )
                self.screen.console.say(Text(text, style="bold red"))
        if self.files_screen is not None:
            self.files_screen.refresh_rows()

    def _history(self, view: MessageList) -> None:
        """A conversation's history asked for on the command line: open that conversation
        with exactly what was asked for."""
        s = self.screen
        cid = view.conversation
        if cid != s.model.current and s.model.select(cid) is None:
            return
        s.requested[cid] = max(len(view.messages), 1)
        s.log_view.set_messages(view.messages)

    def _ring_changed(self, before: bool | None, *, announce: bool = True) -> None:
        """On becoming a ring member, say so (unless ``announce`` is off) and drop the join
        failures shown before: they describe a state that has ended."""
        s = self.screen
        if not s.model.ring.member or before is True:
            return
        stale = s.console.supersede(JOIN_TOPIC)
        if announce and (before is False or stale):
            s.console.say(Text(_("Joined the ring."), style="bold green"))

    def _setting(self, view: SettingChanged) -> None:
        """``notify.bell`` and ``notify.mode`` change how whispers are announced; unsetting
        them brings back the mode the client started with."""
        s = self.screen
        value = None if view.value is None else view.value.strip().lower()
        if view.key == "notify.bell":
            on = value in ("on", "true", "yes", "1")
            s.notify_mode = s.default_notify if value is None else "bell" if on else "notify"
        elif view.key == "notify.mode":
            if value is None:
                s.notify_mode = s.default_notify
            elif value in NOTIFY_MODES:
                s.notify_mode = value

    def _help_chosen(self, name: str | None) -> None:
        if name:
            self.screen.suggest(f"/{name} ")

    def _found(self, key: str | None) -> None:
        if key:
            cid, _sep, msg_id = key.partition(" ")
            self.screen.open(cid, scroll_to=msg_id or None)

    # ---- events ----------------------------------------------------------------------------

    def event(self, event: NodeEvent) -> None:
        """Apply one node event."""
        s = self.screen
        model = s.model
        match event:
            case MessageEvent():
                model.on_message(event)
                if event.conversation == model.current:
                    s.log_view.append(event)
                if not event.outgoing and model.kind_of(event.conversation) == "contact":
                    s.notify_whisper(event)
            case MessageStateEvent():
                s.log_view.update_state(event.msg_id, event.state)
                model.on_message_state(event)
            case PresenceEvent():
                model.on_presence(event)
            case ContactEvent():
                model.on_contact(event)
                # The event has no presence, unread count or fingerprint: fetch the list.
                s.call(ListContacts(), quiet=True)
            case ChannelEvent():
                model.on_channel(event)
            case RingEvent():
                before = model.ring.member
                model.ring = RingState.of(event)
                self._ring_changed(before)
            case StatusEvent():
                before = model.ring.member
                model.on_status(event)
                self._ring_changed(before)
            case TorEvent():
                model.on_tor(event)
            case FileEvent():
                self._file_event(event, event.at)
            case LogEvent():
                style = {"error": "bold red", "warning": "yellow"}.get(event.level, "dim")
                s.console.say(Text(clean(event.text), style=style), event.topic or None)
                return
        s.redraw()
