"""The operations of the Channels group: list, create, join, leave and write to channels.

Kept out of :mod:`ohtchat.api.ops` (which re-exports them); :data:`ohtchat.api.ops.OPERATIONS`
holds them too, because they subclass the same :class:`~ohtchat.api.operation.Operation`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ohtchat.api.operation import Operation


@dataclass(frozen=True)
class ListChannels(Operation):
    """``/channels``: list all known channels."""

    command_name: ClassVar[str] = "channels"


@dataclass(frozen=True)
class CreateChannel(Operation):
    """``/channel``: create a new channel."""

    command_name: ClassVar[str] = "channel"
    name: str | None = None


@dataclass(frozen=True)
class JoinChannel(Operation):
    """``/join``: join the channel with ID."""

    command_name: ClassVar[str] = "join"
    id: str


@dataclass(frozen=True)
class LeaveChannel(Operation):
    """``/leave``: leave the channel with ID."""

    command_name: ClassVar[str] = "leave"
    id: str


@dataclass(frozen=True)
class ChannelCast(Operation):
    """``/channelcast``: send a message to all members of a channel."""

    command_name: ClassVar[str] = "channelcast"
    id: str
    message: str
