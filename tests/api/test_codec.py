"""The typed contract survives JSON both ways and refuses malformed input by field."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ohtchat.api.codec import from_data, to_data
from ohtchat.api.events import EVENTS, LogEvent, MessageEvent, RingEvent, event_from_json
from ohtchat.api.results import CommandResult
from ohtchat.api.views import (
    ArgHelp,
    CommandHelp,
    HelpIndex,
    MessageList,
    MessageView,
    PeerView,
    StatusView,
    TorView,
)

PEER = PeerView("ab" * 32, "x" * 56 + ".onion", "127.0.0.1:9")
STATUS = StatusView(
    account_id="cd" * 32,
    name="Alice",
    onion=PEER.onion,
    node_id=PEER.id,
    address=PEER.address,
    transport="tcp",
    member=True,
    successor=PEER,
    predecessor=None,
    peers=3,
    tor=TorView("ready", 100, "Done"),
)
texts = st.text(max_size=40)


def _wire(obj: object) -> object:
    """Through real JSON text, as on the control socket."""
    return json.loads(json.dumps(obj))


def test_nested_views_round_trip_through_json() -> None:
    back = from_data(StatusView, _wire(to_data(STATUS)))
    assert back == STATUS
    assert isinstance(back.successor, PeerView) and back.predecessor is None


@given(text=texts, ts=st.floats(allow_nan=False, allow_infinity=False), out=st.booleans())
def test_message_lists_round_trip(text: str, ts: float, out: bool) -> None:
    msg = MessageView("m1", "c1", "s", "Sam", text, ts, "delivered", out)
    view = MessageList("c1", (msg, msg))
    result = CommandResult.success("2 messages", view)
    back = CommandResult.from_json(_wire(result.to_json()))
    assert back.view == view and back.data == _wire(to_data(view))


def test_union_of_scalars_and_tuples_decode() -> None:
    arg = ArgHelp("count", "int", True, (), 50, "none")
    view = HelpIndex(
        (CommandHelp("history", "general", "General", "/history", "h", (), "", (arg,)),)
    )
    assert from_data(HelpIndex, _wire(to_data(view))) == view


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({**to_data(STATUS), "peers": "3"}, "StatusView.peers: expected an integer"),
        ({**to_data(STATUS), "member": 1}, "StatusView.member: expected true or false"),
        ({k: v for k, v in to_data(STATUS).items() if k != "onion"}, "StatusView.onion: missing"),
        ({**to_data(STATUS), "successor": {"id": 1}}, "StatusView.successor"),
        ({**to_data(STATUS), "tor": []}, "StatusView.tor: expected an object"),
    ],
)
def test_malformed_fields_are_named(data: dict[str, object], field: str) -> None:
    with pytest.raises(ValueError, match=field.replace(".", r"\.")):
        from_data(StatusView, data)


def test_deep_nesting_is_refused_not_walked() -> None:
    deep: object = "x"
    for _ in range(50):
        deep = [deep]
    with pytest.raises(ValueError):
        from_data(MessageList, {"conversation": "c", "messages": deep})


def test_every_event_kind_round_trips() -> None:
    msg = MessageEvent.of(MessageView("m", "c", "s", "n", "t", 1.0, "received", False))
    ring = RingEvent(True, PEER, None, 2)
    for ev in (msg, ring, LogEvent("warning", "w", "join")):
        assert event_from_json(_wire(ev.to_json())) == ev
    assert set(EVENTS) >= {"message", "message_state", "presence", "contact", "channel", "ring"}


def test_unknown_event_kinds_are_skipped_and_bad_ones_refused() -> None:
    assert event_from_json({"event": "from_the_future", "data": {}}) is None
    with pytest.raises(ValueError, match=r"event\.log\.text"):
        event_from_json({"event": "log", "data": {"level": "info", "text": 5}})
    with pytest.raises(ValueError):
        event_from_json({"event": "log", "at": True, "data": {"level": "info", "text": ""}})


def test_result_with_an_unknown_view_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown view"):
        CommandResult.from_json({"ok": True, "text": "", "data": {}, "view": "Nope"})
