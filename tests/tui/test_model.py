"""The client's data model and text helpers, without Textual, fed typed views and events."""

from __future__ import annotations

from datetime import UTC

from ohtchat.api.events import (
    ChannelEvent,
    ContactEvent,
    MessageEvent,
    MessageStateEvent,
    PresenceEvent,
    RingEvent,
)
from ohtchat.api.views import (
    ChannelView,
    ContactView,
    Membership,
    MessageView,
    PeerView,
    StatusView,
    TorView,
)
from ohtchat.tui.model import ChatModel, RingState
from ohtchat.tui.statusbar import bootstrapping, ring_text, tor_label
from ohtchat.tui.text import TimeFormatter, clean, short_onion


def contact(account_id: str, name: str, presence: str = "online", unread: int = 0) -> ContactView:
    return ContactView(account_id, name, "accepted", presence, unread, "")


def channel(channel_id: str, name: str, unread: int = 0) -> ChannelView:
    return ChannelView(channel_id, name, ("aa",), unread)


def message(conversation: str, text: str = "hi", **fields: object) -> MessageEvent:
    base: dict[str, object] = {
        "msg_id": "m1",
        "conversation": conversation,
        "sender": "ab" * 32,
        "sender_name": "",
        "text": text,
        "timestamp": 0.0,
        "state": "received",
        "outgoing": False,
    }
    return MessageEvent(**{**base, **fields})  # type: ignore[arg-type]


def model() -> ChatModel:
    m = ChatModel()
    m.set_contacts([contact("bb", "bob", unread=2), contact("aa", "Alice", "away", unread=-3)])
    m.set_channels([channel("cc", "zeta")])
    return m


def test_order_channels_first_then_names() -> None:
    m = model()
    assert [c.id for c in m.ordered()] == ["cc", "aa", "bb"]
    assert m.conversations["aa"].unread == 0  # impossible counts become 0
    assert m.conversations["bb"].unread == 2


def test_select_neighbour_nth_and_unread() -> None:
    m = model()
    assert m.neighbour(1).id == "cc"  # nothing open: the first
    m.select("bb")
    assert m.conversations["bb"].unread == 0
    assert m.neighbour(1).id == "cc"  # wraps
    assert m.neighbour(-1).id == "aa"
    assert m.nth(1).id == "aa" and m.nth(7) is None
    assert m.on_message(message("aa")) is True
    assert m.on_message(message("bb")) is False
    assert m.conversations["aa"].unread == 1
    assert m.on_message(message("dd", sender_name="dora")) is True
    assert m.conversations["dd"].label == "dora"
    assert m.select("nope") is None and m.current is None


def test_a_reloaded_list_keeps_the_open_conversation_read() -> None:
    m = model()
    m.select("bb")
    m.set_contacts([contact("bb", "bob", unread=5), contact("aa", "Alice", unread=1)])
    assert (m.conversations["bb"].unread, m.conversations["aa"].unread) == (0, 1)


def test_events_update_presence_contacts_channels_and_delivery() -> None:
    m = model()
    m.on_presence(PresenceEvent("bb", "bob", "offline"))
    m.on_contact(ContactEvent("aa", "Alice", "removed"))
    m.on_contact(ContactEvent("ee", "eve", "requested"))
    m.on_channel(ChannelEvent("cc", "zeta", ()))  # left: no members any more
    assert m.conversations["bb"].presence == "offline"
    assert set(m.conversations) == {"bb", "ee"}
    assert m.conversations["ee"].state == "requested"
    m.on_channel(ChannelEvent("ff", "chess", ("aa", "bb")))
    assert (m.conversations["ff"].kind, m.conversations["ff"].label) == ("channel", "chess")
    m.on_message(message("bb", outgoing=True, msg_id="m1", state="sending"))
    m.on_message_state(MessageStateEvent("m0", "bb", "failed"))  # an older message: ignored
    m.on_message_state(MessageStateEvent("m1", "bb", "queued"))
    assert m.last_sent == ("m1", "queued")


def test_ringcast_conversation_is_a_channel_that_survives_reloads() -> None:
    m = model()
    mine = message("ringcast", sender_name="me", outgoing=True)
    assert m.on_message(mine) is False
    assert "ringcast" not in m.conversations  # our own ringcast opens nothing
    assert m.on_message(message("ringcast", sender_name="bob"))
    conv = m.conversations["ringcast"]
    assert (conv.kind, conv.label, conv.unread) == ("channel", "ringcast", 1)
    assert m.kind_of("ringcast") == "channel"  # so no whisper notification
    m.set_channels([channel("dd", "alpha")])
    assert [c.id for c in m.ordered()][:2] == ["dd", "ringcast"]  # not listed, still kept


def test_status_ring_events_and_joins() -> None:
    m = ChatModel()
    assert m.ring.member is None and m.status is None
    peer = PeerView("12" * 32, "x.onion", "mem-1")
    status = StatusView("aa", "alice", "x.onion", "99", "mem-2", "memory", False, None, None, 0,
                        TorView("ready", 100, "Done"))  # fmt: skip
    m.on_status(status)
    assert (m.ring.member, m.tor.state, m.status) == (False, "ready", status)
    m.ring = m.ring.joined(Membership(True, peer))
    assert (m.ring.member, m.ring.successor) == (True, peer)
    m.ring = RingState.of(RingEvent(True, peer, None, 3))
    assert m.ring == RingState(True, peer, None, 3)


def test_status_bar_texts() -> None:
    assert bootstrapping(TorView("bootstrapping", 40))
    assert not bootstrapping(TorView("running", 100))
    assert not bootstrapping(TorView("off"))
    assert tor_label(TorView("off")) == "no Tor"
    assert tor_label(TorView("starting", 10)) == "Tor starting"
    assert tor_label(TorView("weird\x1b")) == "Tor: weird "
    pred = PeerView("1234567890", "", "")
    succ = PeerView("", "abcdef99.onion", "")
    assert ring_text(RingState(True, succ, pred, 1)) == "12345678 ← · → abcdef99 · 1 peer"
    assert ring_text(RingState(False, None, None, 3)) == "not on a ring · 3 peers"
    assert ring_text(RingState(None, None, None, 0)) == "not on a ring · 0 peers"


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
    model = ChatModel()
    model.set_contacts([contact("b" * 64, "bob")])
    assert model.number("b" * 64) is None  # waits for both lists
    model.set_channels([channel("c" * 64, "club")])
    assert (model.number("c" * 64), model.number("b" * 64)) == (1, 2)
    model.on_channel(ChannelEvent("a" * 64, "aardvarks", ("a",)))
    model.on_contact(ContactEvent("d" * 64, "dora", "accepted"))
    assert [model.number(c) for c in ("c" * 64, "b" * 64, "a" * 64, "d" * 64)] == [1, 2, 3, 4]
    nth = model.nth(2)
    assert nth is not None and nth.id == "a" * 64
    model.on_contact(ContactEvent("b" * 64, "bob", "removed"))
    model.set_contacts([contact("d" * 64, "dora")])  # a refreshed list
    model.on_contact(ContactEvent("e" * 64, "eve", "accepted"))
    assert model.number("d" * 64) == 4 and model.number("e" * 64) == 2  # the freed number


def test_message_view_fields_reach_the_model() -> None:
    m = model()
    view = MessageView("m9", "cc", "ab", "ann", "hello", 1.0, "received", False)
    assert m.on_message(view) is True and m.conversations["cc"].unread == 1
