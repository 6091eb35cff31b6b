"""The control socket's wire format: one JSON object per line, both ways.

Requests (client → node), each with a client-chosen ``id`` echoed in the response:

* ``{"id": 1, "cmd": "/status", "conversation": null}`` runs a console line;
* ``{"id": 4, "op": "whisper", "args": {"id": "bob", "message": "hi"}}`` runs a typed
  operation (:mod:`ohtchat.api.ops`: ``op`` is its command name, ``""`` for plain text with
  ``args`` ``{"conversation", "text"}``);
* ``{"id": 2, "complete": "/wh", "cursor": 3}`` asks for Tab completions;
* ``{"id": 3, "subscribe": true}`` starts (``false`` stops) the stream of events.

Responses: ``{"id": 1, "ok": true, "text": "…", "data": {…}, "view"?: "StatusView"}``
(``view`` names the typed value ``data`` holds, :mod:`ohtchat.api.views`). Events:
``{"event": "message", "at": 1700000000.0, "data": {…}}``. See docs/serve.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ohtchat.api.ops import Operation, operation

MAX_LINE = 1 << 20
"""Longest line (bytes, newline excluded) either side accepts; longer ones are refused."""

SOCKET_NAME = "control.sock"
"""The control socket's file name inside the data directory."""

RequestId = int | str | None


class ProtocolError(ValueError):
    """A line that is not a valid request; ``request_id`` is echoed when it could be read."""

    def __init__(self, message: str, request_id: RequestId = None) -> None:
        super().__init__(message)
        self.request_id = request_id


@dataclass(frozen=True)
class RunCommand:
    """Run one console line (plain text goes to ``conversation``)."""

    id: RequestId
    line: str
    conversation: str | None = None


@dataclass(frozen=True)
class CallOperation:
    """Run one typed operation."""

    id: RequestId
    op: Operation


@dataclass(frozen=True)
class Complete:
    """Tab completions for the word ending at ``cursor``."""

    id: RequestId
    line: str
    cursor: int


@dataclass(frozen=True)
class Subscribe:
    """Start (``on``) or stop the event stream of this connection."""

    id: RequestId
    on: bool


Request = RunCommand | CallOperation | Complete | Subscribe


def encode(obj: dict[str, Any]) -> bytes:
    """One JSON line (compact, UTF-8, newline-terminated)."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"


def decode_line(line: bytes) -> dict[str, Any]:
    """Parse one line into a JSON object; ``ProtocolError`` for anything else."""
    try:
        obj = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProtocolError(f"not a JSON line: {exc}") from None
    except RecursionError:
        raise ProtocolError("JSON nested too deeply") from None
    if not isinstance(obj, dict):
        raise ProtocolError("expected a JSON object")
    return obj


def parse_request(line: bytes) -> Request:
    """Decode and validate one request line; raises ``ProtocolError``."""
    obj = decode_line(line)
    rid = obj.get("id")
    if rid is not None and (isinstance(rid, bool) or not isinstance(rid, int | str)):
        raise ProtocolError("'id' must be a number, a string or null")
    if "cmd" in obj:
        line_text, conv = obj["cmd"], obj.get("conversation")
        if not isinstance(line_text, str):
            raise ProtocolError("'cmd' must be a string", rid)
        if conv is not None and not isinstance(conv, str):
            raise ProtocolError("'conversation' must be a string or null", rid)
        return RunCommand(rid, line_text, conv)
    if "op" in obj:
        name, args = obj["op"], obj.get("args", {})
        if not isinstance(name, str) or not isinstance(args, dict):
            raise ProtocolError("'op' must be a string and 'args' an object", rid)
        try:
            return CallOperation(rid, operation(name, args))
        except ValueError as exc:
            raise ProtocolError(str(exc), rid) from None
    if "complete" in obj:
        text, cursor = obj["complete"], obj.get("cursor")
        if not isinstance(text, str):
            raise ProtocolError("'complete' must be a string", rid)
        if cursor is None:
            cursor = len(text)
        if isinstance(cursor, bool) or not isinstance(cursor, int) or not 0 <= cursor <= len(text):
            raise ProtocolError("'cursor' must be a position in the line", rid)
        return Complete(rid, text, cursor)
    if "subscribe" in obj:
        on = obj["subscribe"]
        if not isinstance(on, bool):
            raise ProtocolError("'subscribe' must be true or false", rid)
        return Subscribe(rid, on)
    raise ProtocolError("unknown request: expected 'cmd', 'op', 'complete' or 'subscribe'", rid)


def error_response(
    request_id: RequestId, message: str, code: str = "bad_request"
) -> dict[str, Any]:
    """A failed response that is not a command's result (bad request, internal error)."""
    return {"id": request_id, "ok": False, "text": message, "data": {"error": code}}
