"""What the main screen does with command results and node events."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text

from ohtchat.commands.errors import UsageError
from ohtchat.commands.parser import Command, parse
from ohtchat.i18n import _
from ohtchat.tui.console import JOIN_TOPIC, log_topic
from ohtchat.tui.messages import CommandDone
from ohtchat.tui.screens.tables import ftable_screen, help_screen, peers_screen, search_screen
from ohtchat.tui.text import clean

if TYPE_CHECKING:
    from ohtchat.tui.screens.main import MainScreen

# Commands after which the sidebar's lists may have changed.
_CHANGES_CONTACTS = {"add", "rm", "request"}
_CHANGES_CHANNELS = {"channel", "join", "leave"}
# Commands that join the ring: their failures are superseded once the node is a member.
_JOINS_RING = {"connect", "create"}


def parsed_command(line: str) -> Command | None:
    """``line`` parsed; None for plain text or a line that does not parse."""
    try:
        parsed = parse(line)
    except UsageError:
        return None
    return parsed if isinstance(parsed, Command) else None


def command_name(line: str) -> str | None:
    """The canonical command of ``line``; None for plain text or a line that does not parse."""
    parsed = parsed_command(line)
    return parsed.name if parsed is not None else None


class ResultHandler:
    """Turns :class:`CommandDone` results and node events into screen updates."""

    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen

    # ---- results ---------------------------------------------------------------------------

    def handle(self, done: CommandDone) -> None:
        """Show a result: text in the console, tables as screens, lists into the model."""
        s, result = self.screen, done.result
        name = command_name(done.line)
        if not result.ok:
            topic = JOIN_TOPIC if name in _JOINS_RING else None
            s.console.say(Text(result.text or _("The command failed."), style="bold red"), topic)
            if name in ("contacts", "channels"):
                s.model.mark_loaded("contact" if name == "contacts" else "channel")
                s.redraw()
            return
        data = result.data
        shown = self._special(name, done, data)
        if not shown and not done.quiet and result.text:
            s.console.say(Text(result.text))
        if name in _JOINS_RING and data.get("member"):
            self.membership({"member": True}, announce=False)
        if "msg_id" in data and "state" in data:
            s.model.last_sent = (str(data["msg_id"]), str(data["state"]))
        if name in _CHANGES_CONTACTS:
            s.run_line("/contacts", quiet=True)
        if name in _CHANGES_CHANNELS:
            s.run_line("/channels", quiet=True)
        s.redraw()

    def _special(self, name: str | None, done: CommandDone, data: dict[str, Any]) -> bool:
        """Handle commands with a dedicated view; True when the text need not be printed."""
        s = self.screen
        if name == "status":
            self.membership(data)
        elif name == "contacts":
            s.model.set_contacts([c for c in data.get("contacts") or [] if isinstance(c, dict)])
        elif name == "channels":
            s.model.set_channels([c for c in data.get("channels") or [] if isinstance(c, dict)])
        elif name == "quit":
            s.app.exit()
            return True
        elif name == "ftable" and isinstance(data.get("fingers"), list):
            s.app.push_screen(ftable_screen(data))
            return True
        elif name == "peers" and isinstance(data.get("peers"), list):
            s.app.push_screen(peers_screen(data))
            return True
        elif name == "help" and len(data.get("commands") or []) > 1:
            s.app.push_screen(help_screen(data), self._help_chosen)
            return True
        elif name == "search" and isinstance(data.get("messages"), list):
            text = done.line.split(None, 1)[1] if " " in done.line else ""
            names = {c.id: c.label for c in s.model.conversations.values()}
            s.app.push_screen(search_screen(text, data["messages"], names, s.tz), self._found)
            return True
        elif name == "history" and data.get("conversation"):
            self._history(data)
            return True
        elif name == "set":
            self._setting(done.line)
        return False

    def _history(self, data: dict[str, Any]) -> None:
        """A typed ``/history``: open that conversation with exactly what was asked for."""
        s = self.screen
        cid = str(data["conversation"])
        if cid != s.model.current and s.model.select(cid) is None:
            return
        msgs = [m for m in data.get("messages") or [] if isinstance(m, dict)]
        s.requested[cid] = max(len(msgs), 1)
        s.log_view.set_messages(msgs)

    def membership(self, data: dict[str, Any], *, announce: bool = True) -> None:
        """Merge a status; on becoming a ring member, say so (unless ``announce`` is off) and
        drop the join failures shown before: they describe a state that has ended."""
        s = self.screen
        before = s.model.status.get("member")
        s.model.on_status(data)
        if not data.get("member") or before is True:
            return
        stale = s.console.supersede(JOIN_TOPIC)
        if announce and (before is False or stale):
            s.console.say(Text(_("Joined the ring."), style="bold green"))

    def _setting(self, line: str) -> None:
        """``/set notify.bell off`` (and ``notify.mode``) change how whispers are announced."""
        parts = line.split(None, 2)
        if len(parts) == 3 and parts[1] == "notify.bell":
            s = self.screen
            on = parts[2].strip().lower() in ("on", "true", "yes", "1")
            s.notify_mode = "bell" if on else "notify"
        elif len(parts) == 3 and parts[1] == "notify.mode":
            mode = parts[2].strip().lower()
            if mode in ("bell", "notify", "both", "off"):
                self.screen.notify_mode = mode

    def _help_chosen(self, name: str | None) -> None:
        if name:
            prompt = self.screen.query_one("#prompt")
            prompt.value = f"/{name} "  # type: ignore[attr-defined]
            prompt.cursor_position = len(name) + 2  # type: ignore[attr-defined]
            prompt.focus()

    def _found(self, key: str | None) -> None:
        if key:
            cid, _sep, msg_id = key.partition(" ")
            self.screen.open(cid, scroll_to=msg_id or None)

    # ---- events ----------------------------------------------------------------------------

    def event(self, kind: str, data: dict[str, Any]) -> None:
        """Apply one node event."""
        s = self.screen
        if kind == "message":
            s.model.on_message(data)
            if data.get("conversation") == s.model.current:
                s.log_view.append(data)
            if (
                not data.get("outgoing")
                and s.model.kind_of(str(data.get("conversation"))) == "contact"
            ):
                s.notify_whisper(data)
        elif kind == "message_state":
            s.log_view.update_state(str(data.get("msg_id", "")), str(data.get("state", "")))
            s.model.on_message_state(data)
        elif kind == "presence":
            s.model.on_presence(data)
        elif kind == "contact":
            s.model.on_contact(data)
        elif kind == "channel":
            s.model.on_channel(data)
        elif kind in ("ring", "status"):
            self.membership(data)
        elif kind == "tor":
            s.model.on_tor(data)
        elif kind == "log":
            level = str(data.get("level", "info"))
            style = {"error": "bold red", "warning": "yellow"}.get(level, "dim")
            s.console.say(Text(clean(str(data.get("text", ""))), style=style), log_topic(data))
            return
        s.redraw()
