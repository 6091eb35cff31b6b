"""Typed node events from keyword data, as the control socket would deliver them."""

from __future__ import annotations

from typing import Any

from ohtchat.api.bus import EventBus
from ohtchat.api.events import NodeEvent, event_from_json


def event(kind: str, **data: Any) -> NodeEvent:
    """The ``kind`` event with ``data`` (every field checked, as on the control socket)."""
    ev = event_from_json({"event": kind, "data": data})
    assert ev is not None, kind
    return ev


def publish(bus: EventBus, kind: str, **data: Any) -> NodeEvent:
    """Publish the ``kind`` event with ``data`` on ``bus``."""
    return bus.publish(event(kind, **data))


def message_data(**fields: Any) -> dict[str, Any]:
    """The data of a ``message`` event: ``fields`` over plausible defaults."""
    base: dict[str, Any] = {
        "msg_id": "m1",
        "conversation": "c1",
        "sender": "ab" * 32,
        "sender_name": "",
        "text": "",
        "timestamp": 0.0,
        "state": "received",
        "outgoing": False,
    }
    return {**base, **fields}
