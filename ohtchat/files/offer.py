"""The file offer: what a sender proposes inside a ratcheted chat item (docs/protocol.md §19).

::

    offer = {id: str (32 lowercase hex), name: str (1..255 UTF-8 bytes), size: uint,
             sha256: bin 32, chunk: uint in [MIN_CHUNK, MAX_CHUNK]}

The offer is validated field by field; the receiver then checks the size against its own limit
and makes the name safe (:mod:`ohtchat.files.names`) before anything touches the disk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ohtchat.files.errors import TransferFailed
from ohtchat.wire.envelope import Fields
from ohtchat.wire.errors import MalformedMessage

#: Smallest and largest chunk an offer may name (a chunk reply must fit one session frame).
MIN_CHUNK = 4 * 1024
MAX_CHUNK = 128 * 1024
#: The chunk size we offer.
DEFAULT_CHUNK = 64 * 1024
#: The default per-file size limit (config ``files.max_size``).
DEFAULT_MAX_SIZE = 100 * 1024 * 1024
#: The largest size the wire format accepts at all (1 TiB); each node applies its own limit.
MAX_WIRE_SIZE = 1 << 40
#: Longest offered name, in UTF-8 bytes.
MAX_NAME_BYTES = 255
_ID = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True)
class FileOffer:
    """One file offered by its sender: id, name as the sender calls it, size, hash, chunk."""

    transfer_id: str
    name: str
    size: int
    sha256: bytes
    chunk: int = DEFAULT_CHUNK

    def to_wire(self) -> dict[str, Any]:
        """The offer map carried in the chat item's ``extra.file``."""
        return {
            "id": self.transfer_id,
            "name": self.name,
            "size": self.size,
            "sha256": self.sha256,
            "chunk": self.chunk,
        }

    @classmethod
    def from_wire(cls, obj: object) -> FileOffer:
        """Validate an untrusted offer map (``TransferFailed('bad_offer')`` names the field)."""
        if not isinstance(obj, dict):
            raise TransferFailed("bad_offer", "the offer is not a map")
        f = Fields(obj, "file offer")
        try:
            tid = f.str_("id", 32, 32)
            name = f.str_("name", MAX_NAME_BYTES, 1)
            offer = cls(
                tid,
                name,
                f.int_("size", 0, MAX_WIRE_SIZE),
                f.bytes_("sha256", 32),
                f.int_("chunk", MIN_CHUNK, MAX_CHUNK),
            )
        except MalformedMessage as exc:
            raise TransferFailed("bad_offer", str(exc)) from exc
        if not _ID.fullmatch(tid):
            raise TransferFailed("bad_offer", "field 'id' must be 32 lowercase hex digits")
        if len(name.encode("utf-8")) > MAX_NAME_BYTES or "\x00" in name:
            raise TransferFailed("bad_offer", "field 'name' is too long or has NUL")
        return offer

    def check_size(self, limit: int) -> None:
        """``TransferFailed('too_large')`` when the file is over ``limit`` bytes."""
        if self.size > limit:
            raise TransferFailed("too_large", f"{self.size} bytes is over the limit of {limit}")

    @property
    def chunks(self) -> int:
        """How many chunks the file has."""
        return -(-self.size // self.chunk)

    def chunk_length(self, offset: int) -> int:
        """The length of the chunk starting at ``offset`` (the last one may be short)."""
        return min(self.chunk, self.size - offset)
