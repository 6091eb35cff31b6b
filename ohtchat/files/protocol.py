"""The transfer methods over an authenticated session (docs/protocol.md §19.3).

The receiver pulls; the sender only answers, and only the account the file was offered to::

    file_get  {id: str 32 hex, offset: uint, length: uint 1..MAX_CHUNK}
              → {offset: uint, data: bin}        (data = the file's bytes at offset)
    file_end  {id: str 32 hex, state: "done" | "failed" | "cancelled", reason: str ≤ 32}
              → {}                               (the receiver's last word; either side may
                                                  send "cancelled")

Errors (RPC ``e``): ``unknown`` (no such transfer for the caller), ``cancelled``, ``changed``
(the file changed since the offer), ``bad_request`` (a malformed field, named).
"""

from __future__ import annotations

from typing import Any

from ohtchat.files.offer import MAX_CHUNK, MAX_WIRE_SIZE
from ohtchat.wire.envelope import Fields
from ohtchat.wire.errors import MalformedMessage

FILE_GET = "file_get"
FILE_END = "file_end"
#: Every method the file layer serves.
METHODS = (FILE_GET, FILE_END)
#: The states a ``file_end`` may report.
END_STATES = ("done", "failed", "cancelled")
#: Largest ``data`` read from a reply (the receiver then checks the exact length itself).
MAX_REPLY_DATA = 2 * MAX_CHUNK


def _tid(f: Fields) -> str:
    tid = f.str_("id", 32, 32)
    if any(c not in "0123456789abcdef" for c in tid):
        raise MalformedMessage(f"{f.where}: field 'id' must be 32 lowercase hex digits")
    return tid


def get_params(tid: str, offset: int, length: int) -> dict[str, Any]:
    """The params of a ``file_get``."""
    return {"id": tid, "offset": offset, "length": length}


def parse_get(f: Fields) -> tuple[str, int, int]:
    """``(id, offset, length)`` of an untrusted ``file_get``."""
    return _tid(f), f.int_("offset", 0, MAX_WIRE_SIZE), f.int_("length", 1, MAX_CHUNK)


def chunk_reply(offset: int, data: bytes) -> dict[str, Any]:
    """The reply to a ``file_get``."""
    return {"offset": offset, "data": data}


def parse_chunk(f: Fields) -> tuple[int, bytes]:
    """``(offset, data)`` of an untrusted ``file_get`` reply (lengths are the receiver's to
    judge: :meth:`ohtchat.files.receiver.Receiver.take`)."""
    return f.int_("offset", 0, MAX_WIRE_SIZE), f.bytes_("data", max_len=MAX_REPLY_DATA)


def end_params(tid: str, state: str, reason: str = "") -> dict[str, Any]:
    """The params of a ``file_end``."""
    return {"id": tid, "state": state, "reason": reason[:32]}


def parse_end(f: Fields) -> tuple[str, str, str]:
    """``(id, state, reason)`` of an untrusted ``file_end``."""
    tid, state, reason = _tid(f), f.str_("state", 16, 1), f.str_("reason", 32)
    if state not in END_STATES:
        raise MalformedMessage(f"{f.where}: field 'state' must be one of {', '.join(END_STATES)}")
    return tid, state, reason
