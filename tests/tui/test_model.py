"""The client's data model and text helpers, without Textual."""

from __future__ import annotations

from datetime import UTC

from ohtchat.tui.model import ChatModel
from ohtchat.tui.statusbar import bootstrapping, ring_text
from ohtchat.tui.text import TimeFormatter, clean, short_onion


def model() -> ChatModel:
    m = ChatModel()
    m.set_contacts(
        [
            {"account_id": "bb", "name": "bob", "presence": "online", "unread": 2},
            {"account_id": "aa", "name": "Alice", "presence": "away", "unread": "x"},
        ]
    )
    m.set_channels([{"channel_id": "cc", "name": "zeta", "members": []}])
    return m


def test_order_channels_first_then_names() -> None:
    m = model()
    assert [c.id for c in m.ordered()] == ["cc", "aa", "bb"]
    assert m.conversations["aa"].unread == 0  # garbage counts become 0


def test_select_neighbour_nth_and_unread() -> None:
    m = model()
    assert m.neighbour(1).id == "cc"  # nothing open: the first
    m.select("bb")
    assert m.conversations["bb"].unread == 0
    assert m.neighbour(1).id == "cc"  # wraps
    assert m.neighbour(-1).id == "aa"
    assert m.nth(1).id == "aa" and m.nth(7) is None
    assert m.on_message({"conversation": "aa", "text": "hi"}) is True
    assert m.on_message({"conversation": "bb", "text": "hi"}) is False
    assert m.conversations["aa"].unread == 1
    assert m.on_message({"conversation": "dd", "sender_name": "dora"}) is True
    assert m.conversations["dd"].label == "dora"
    assert m.select("nope") is None and m.current is None


def test_events_update_presence_contacts_channels_and_delivery() -> None:
    m = model()
    m.on_presence({"account_id": "bb", "presence": "offline"})
    m.on_contact({"account_id": "aa", "state": "removed"})
    m.on_contact({"account_id": "ee", "name": "eve", "state": "requested"})
    m.on_channel({"channel_id": "cc", "state": "left"})
    assert m.conversations["bb"].presence == "offline"
    assert set(m.conversations) == {"bb", "ee"}
    m.on_message({"conversation": "bb", "outgoing": True, "msg_id": "m1", "state": "sending"})
    m.on_message_state({"msg_id": "m0", "state": "failed"})  # an older message: ignored
    m.on_message_state({"msg_id": "m1", "state": "queued"})
    assert m.last_sent == ("m1", "queued")


def test_ringcast_conversation_is_a_channel_that_survives_reloads() -> None:
    m = model()
    mine = {"conversation": "ringcast", "sender_name": "me", "outgoing": True, "msg_id": "m1"}
    assert m.on_message(mine) is False
    assert "ringcast" not in m.conversations  # our own ringcast opens nothing
    assert m.on_message({"conversation": "ringcast", "sender_name": "bob", "text": "hi"})
    conv = m.conversations["ringcast"]
    assert (conv.kind, conv.label, conv.unread) == ("channel", "ringcast", 1)
    assert m.kind_of("ringcast") == "channel"  # so no whisper notification
    m.set_channels([{"channel_id": "dd", "name": "alpha", "members": []}])
    assert [c.id for c in m.ordered()][:2] == ["dd", "ringcast"]  # not in /channels, still kept


def test_status_bar_texts() -> None:
    assert bootstrapping({"state": "bootstrapping", "progress": 40})
    assert not bootstrapping({"state": "running", "progress": 100})
    assert not bootstrapping({"state": "starting", "progress": "?"})
    text = ring_text(
        {"member": True, "predecessor": {"id": "1234567890"}, "successor": "abcdef99", "peers": 1}
    )
    assert text == "12345678 ← · → abcdef99 · 1 peer"
    assert ring_text({"member": False, "peers": 3}) == "not on a ring · 3 peers"


def test_clean_and_shorten() -> None:
    assert clean("a\x1b[31mred\x07\nx") == "a [31mred  x"
    onion = "abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstuvwx.onion"
    assert short_onion(onion) == "abcdefgh….onion"
    assert short_onion("short.onion") == "short.onion"


def test_time_formatter_is_fixed_width_and_cached() -> None:
    calls: list[float] = []

    def fmt(ts: float, width: str, tzinfo: object) -> str:
        calls.append(ts)
        return f"{int(ts // 3600) % 24}:{int(ts // 60) % 60:02d}"

    times = TimeFormatter(UTC, fmt)
    assert times.width == 5
    assert times(3600 + 61) == " 1:01"
    assert times(3600 + 119) == " 1:01"
    assert len(calls) == 5  # 4 samples + one minute, formatted once


def test_numbers_are_stable_when_conversations_come_and_go() -> None:
    from ohtchat.tui.model import ChatModel

    model = ChatModel()
    model.set_contacts([{"account_id": "b" * 64, "name": "bob"}])
    assert model.number("b" * 64) is None  # waits for both lists
    model.set_channels([{"channel_id": "c" * 64, "name": "club"}])
    assert (model.number("c" * 64), model.number("b" * 64)) == (1, 2)
    model.on_channel({"channel_id": "a" * 64, "name": "aardvarks"})
    model.on_contact({"account_id": "d" * 64, "name": "dora", "state": "added"})
    assert [model.number(c) for c in ("c" * 64, "b" * 64, "a" * 64, "d" * 64)] == [1, 2, 3, 4]
    nth = model.nth(2)
    assert nth is not None and nth.id == "a" * 64
    model.on_contact({"account_id": "b" * 64, "state": "removed"})
    model.set_contacts([{"account_id": "d" * 64, "name": "dora"}])  # a refreshed list
    model.on_contact({"account_id": "e" * 64, "name": "eve", "state": "added"})
    assert model.number("d" * 64) == 4 and model.number("e" * 64) == 2  # the freed number
