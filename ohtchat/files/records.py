"""Transfers as kept in the encrypted store, so a transfer survives a restart of either side.

One store setting per transfer, ``files.<our account id>.<local id>`` = msgpack of
:meth:`Transfer.to_record`. An incoming transfer's local id is scoped by its sender (another
account cannot collide with it by choosing the same transfer id); an outgoing one's is its
transfer id.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from ohtchat.api.views import FileView
from ohtchat.files.offer import FileOffer

#: Store setting prefix of the transfer records.
PREFIX = "files."
#: Domain separator of incoming transfers' local ids (local, never on the wire).
LOCAL_ID_LABEL = b"ohtchat file id v1\x00"
#: States a transfer is in; ``offered`` and the middle one are pending.
OFFERED, RECEIVING, SENDING, DONE, FAILED, CANCELLED = (
    "offered",
    "receiving",
    "sending",
    "done",
    "failed",
    "cancelled",
)
FINAL = frozenset({DONE, FAILED, CANCELLED})


def setting_key(me: str, local_id: str) -> str:
    """The store setting of one transfer of our account ``me``."""
    return f"{PREFIX}{me}.{local_id}"


def incoming_id(sender: str, transfer_id: str) -> str:
    """The local id of ``sender``'s transfer ``transfer_id``: 32 hex digits of
    SHA3-256(label ‖ sender's account id ‖ transfer id)."""
    digest = hashlib.sha3_256(LOCAL_ID_LABEL + bytes.fromhex(sender) + transfer_id.encode())
    return digest.hexdigest()[:32]


@dataclass
class Transfer:
    """One transfer, incoming (``direction`` ``in``) or outgoing (``out``)."""

    local_id: str
    transfer_id: str
    direction: str
    peer: str
    conversation: str
    name: str
    size: int
    sha256: bytes
    chunk: int
    state: str
    done: int = 0
    #: Outgoing: the file served. Incoming: the final file once ``done``.
    path: str = ""
    #: Outgoing: the file's modification time when offered (a changed file is refused).
    mtime_ns: int = 0
    #: Why it failed (a reason of :mod:`ohtchat.files.errors`), or "".
    error: str = ""
    created: float = 0.0

    @property
    def offer(self) -> FileOffer:
        """The offer this transfer is about."""
        return FileOffer(self.transfer_id, self.name, self.size, self.sha256, self.chunk)

    @property
    def final(self) -> bool:
        """Whether the transfer ended (done, failed or cancelled)."""
        return self.state in FINAL

    def view(self) -> FileView:
        """The transfer as UIs see it (an incoming file's path only once it is done)."""
        return FileView(
            id=self.local_id,
            conversation=self.conversation,
            name=self.name,
            size=self.size,
            sha256=self.sha256.hex(),
            state=self.state,
            path=self.path if self.direction == "out" or self.state == DONE else "",
            done=self.done,
            direction=self.direction,
            peer=self.peer,
            error=self.error,
        )

    def to_record(self) -> dict[str, Any]:
        """The map kept in the store."""
        return asdict(self)

    @classmethod
    def from_record(cls, obj: object) -> Transfer | None:
        """A transfer read back from the store (``None`` if it is not one of ours)."""
        if not isinstance(obj, dict):
            return None
        names = {f.name for f in fields(cls)}
        try:
            return cls(**{k: v for k, v in obj.items() if k in names})
        except TypeError:
            return None


def part_path(folder: Path, t: Transfer) -> Path:
    """Where the partial file of an incoming transfer is kept (hidden, named by its id)."""
    return folder / f".ohtchat-{t.local_id}.part"


def new_transfer_id() -> str:
    """A fresh random transfer id (32 hex digits)."""
    return os.urandom(16).hex()
