"""Messages between the client's widgets (Textual messages as dataclasses)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from ohtchat.api.events import NodeEvent
from ohtchat.api.ops import Operation
from ohtchat.api.results import CommandResult
from ohtchat.api.views import MessageView


@dataclass
class ConversationChosen(Message):
    """The user picked a conversation (sidebar click, key, or command)."""

    conversation_id: str


@dataclass
class LineEntered(Message):
    """The input line was submitted: a command or text for the open conversation."""

    line: str


@dataclass
class ResultArrived(Message):
    """A backend call finished. ``op`` is the operation the client made of its own accord
    (None for a command line the user typed); ``quiet`` results show nothing unless they
    failed (a refresh the client made itself)."""

    result: CommandResult
    op: Operation | None = None
    quiet: bool = False


@dataclass
class EventArrived(Message):
    """An event arrived from the backend's event stream."""

    event: NodeEvent


@dataclass
class HistoryLoaded(Message):
    """A conversation's history arrived (oldest first)."""

    conversation: str
    messages: tuple[MessageView, ...]
    requested: int


@dataclass
class Completions(Message):
    """Tab found these candidates (the screen lists them when there are several); ``current``
    is the one a repeated Tab put in the input line (-1: none yet)."""

    words: list[str]
    current: int = -1
