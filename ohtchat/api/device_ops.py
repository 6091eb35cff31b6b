"""The operations of the Devices group: link a device, list and unlink devices (issue 16).

Kept out of :mod:`ohtchat.api.ops` (long already); :data:`ohtchat.api.ops.OPERATIONS` holds
them too, because they subclass the same :class:`~ohtchat.api.operation.Operation`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ohtchat.api.operation import Operation

#: ``/link`` actions.
LINK_ACTIONS = ("new", "confirm", "cancel", "status")


@dataclass(frozen=True)
class Link(Operation):
    """``/link``: on this device, make a one-time code for a new device (``new``), confirm
    the waiting device with the digits it shows (``confirm DIGITS``), drop it (``cancel``), or
    show what is pending (``status``)."""

    command_name: ClassVar[str] = "link"
    action: str = "new"
    digits: str | None = None


@dataclass(frozen=True)
class JoinLink(Operation):
    """``/joinlink``: make this fresh node a device of the account whose device showed
    ``code`` (``ohtchat link CODE`` runs it); ``name`` names this device in the list."""

    command_name: ClassVar[str] = "joinlink"
    code: str
    name: str | None = None


@dataclass(frozen=True)
class ListDevices(Operation):
    """``/devices``: our account's devices."""

    command_name: ClassVar[str] = "devices"


@dataclass(frozen=True)
class Unlink(Operation):
    """``/unlink``: remove a device (by name or node id prefix) from our account."""

    command_name: ClassVar[str] = "unlink"
    device: str


#: The operations of this module.
DEVICE_OPERATIONS: tuple[type[Operation], ...] = (Link, JoinLink, ListDevices, Unlink)
