"""The operations of the Files group: offer, list, accept and cancel file transfers.

Kept out of :mod:`ohtchat.api.ops` (which re-exports them); :data:`ohtchat.api.ops.OPERATIONS`
holds them too, because they subclass the same :class:`~ohtchat.api.operation.Operation`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ohtchat.api.operation import Operation


@dataclass(frozen=True)
class SendFile(Operation):
    """``/send``: offer a file to a contact, or to each member of a channel."""

    command_name: ClassVar[str] = "send"
    id: str
    path: str


@dataclass(frozen=True)
class ListFiles(Operation):
    """``/files``: list file transfers."""

    command_name: ClassVar[str] = "files"


@dataclass(frozen=True)
class AcceptFile(Operation):
    """``/accept``: accept an offered file (it is downloaded, verified, then shown)."""

    command_name: ClassVar[str] = "accept"
    id: str


@dataclass(frozen=True)
class CancelFile(Operation):
    """``/cancel``: cancel a file transfer."""

    command_name: ClassVar[str] = "cancel"
    id: str
