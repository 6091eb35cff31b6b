"""Messages between the client's widgets (Textual messages as dataclasses)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.message import Message

from ohtchat.api.events import NodeEvent
from ohtchat.api.results import CommandResult


@dataclass
class ConversationChosen(Message):
    """The user picked a conversation (sidebar click, key, or command)."""

    conversation_id: str


@dataclass
class LineEntered(Message):
    """The input line was submitted: a command or text for the open conversation."""

    line: str


@dataclass
class CommandDone(Message):
    """A backend call finished: the line that ran and its result."""

    line: str
    result: CommandResult
    conversation: str | None = None
    quiet: bool = False  # a refresh the client made itself: show nothing unless it failed


@dataclass
class EventArrived(Message):
    """An event arrived from the backend's event stream."""

    event: NodeEvent


@dataclass
class HistoryLoaded(Message):
    """A conversation's history arrived (oldest first)."""

    conversation: str
    messages: list[dict[str, Any]]
    requested: int


@dataclass
class SearchRequested(Message):
    """The search box asked for messages containing ``text``."""

    text: str


@dataclass
class Completions(Message):
    """Tab found these candidates (the screen lists them when there are several); ``current``
    is the one a repeated Tab put in the input line (-1: none yet)."""

    words: list[str]
    current: int = -1
