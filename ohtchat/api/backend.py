"""What a user interface needs of a node: typed operations, console lines, events, completion.

A backend is either in-process (the node itself) or remote (the control socket of an
``ohtchat --serve`` node), so a UI cannot tell the difference.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from ohtchat.api.events import NodeEvent
from ohtchat.api.ops import Operation
from ohtchat.api.results import CommandResult


class Backend(Protocol):
    """A node as a UI sees it."""

    async def call(self, op: Operation) -> CommandResult:
        """Run one typed operation (what a UI does of its own accord)."""
        ...

    async def execute(self, line: str, conversation: str | None = None) -> CommandResult:
        """Run one console line typed by the user. Plain text (no leading ``/``) is sent to
        ``conversation``: the contact, channel or ringcast the UI has open."""
        ...

    def events(self) -> AsyncIterator[NodeEvent]:
        """The node's events from now on."""
        ...

    async def complete(self, line: str, cursor: int) -> list[str]:
        """Tab-completion candidates for the word at ``cursor``."""
        ...
