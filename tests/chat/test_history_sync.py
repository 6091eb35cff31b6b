"""History transfer between two devices of one account (issue 16, part 3): ``device_history``.

Two devices of one account talk over real authenticated sessions (the handshake and the
encrypted channel) on the in-memory network, or over TCP; the serving side routes the method
to :class:`~ohtchat.chat.history.DeviceHistory` as the node stack does. Malformed pages come
from a fake requester, so every bad field is tried without a lying node.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from ohtchat.api.bus import EventBus
from ohtchat.api.events import LogEvent, NodeEvent
from ohtchat.chat.envelopes import MAX_TEXT
from ohtchat.chat.history import (
    HISTORY_METHOD,
    HISTORY_METHODS,
    MAX_PAGE,
    MAX_PAGE_BYTES,
    DeviceHistory,
    HistoryError,
    encode_message,
    encoded_size,
)
from ohtchat.crypto.keys import AccountKey
from ohtchat.session.identity import NodeIdentity, PeerIdentity
from ohtchat.session.pool import SessionPool
from ohtchat.session.router import Router
from ohtchat.session.rpc import RpcError
from ohtchat.store import Message, MessageState, Store
from ohtchat.transport.base import Transport
from ohtchat.transport.memory import MemoryNetwork
from ohtchat.transport.tcp import TcpTransport
from ohtchat.wire.envelope import Fields
from tests.conftest import make_identity

BASE = 1_700_000_000.0
ALICE = "a1" * 32  # our account id as it appears in messages (only a string here)
CONVS = ("b0" * 32, "c0" * 32, "channel-0123456789abcdef", "ringcast")


def message(i: int, text: str = "", **kw: Any) -> Message:
    """The i-th message of a history: three per second (ties are ordered by id), spread over
    four conversations, ours and received ones, read and unread."""
    conv = CONVS[i % len(CONVS)]
    ours = i % 5 == 0
    fields: dict[str, Any] = {
        "msg_id": f"{i:032x}",
        "conversation": conv,
        "sender": ALICE if ours else conv if len(conv) == 64 else "d0" * 32,
        "text": text or f"message {i} ✓",
        "timestamp": BASE + i // 3,
        "state": MessageState.DELIVERED if ours else MessageState.RECEIVED,
        "read": ours or i % 2 == 0,
    }
    fields.update(kw)
    return Message(**fields)


def fill(store: Store, n: int, text: str = "") -> list[Message]:
    """Store ``n`` messages; all of them, newest first."""
    for i in range(n):
        store.append_message(message(i, text))
    return store.all_history(limit=n + 1)


class RecordingBus(EventBus):
    """An event bus that keeps what was published."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[NodeEvent] = []

    def publish(self, event: NodeEvent) -> NodeEvent:
        self.events.append(event)
        return super().publish(event)


class CountingRequester:
    """A requester that records each page: (params, number of messages, more)."""

    def __init__(self, inner: SessionPool) -> None:
        self.inner = inner
        self.pages: list[tuple[dict[str, Any], int, bool]] = []

    async def request(
        self, address: str, onion: str, method: str, params: dict[str, Any], timeout: float
    ) -> Fields:
        reply = await self.inner.request(address, onion, method, params, timeout)
        self.pages.append((dict(params), len(reply.data["messages"]), reply.data["more"]))
        return reply


@dataclass
class Devices:
    """The old device (serving its store) and the new one (fetching into its own)."""

    old: NodeIdentity
    new: NodeIdentity
    old_store: Store
    new_store: Store
    server: DeviceHistory
    client: DeviceHistory
    requester: CountingRequester
    bus: RecordingBus
    address: str
    pools: list[SessionPool]

    async def fetch(self, **kw: Any) -> int:
        return await self.client.fetch(self.address, self.old.onion, **kw)


def own_devices(account: str, *nodes: NodeIdentity) -> Callable[[PeerIdentity], bool]:
    """``is_own_device`` for an account whose current devices are ``nodes``."""
    keys = {n.node_key.public for n in nodes}
    return lambda peer: peer.account_id == account and peer.node_public in keys


async def start_devices(
    transport: Callable[[str], Transport], listen: str, *, stranger: bool = False
) -> Devices:
    account = AccountKey()
    now = int(time.time())
    old = NodeIdentity.create(account, now)
    # A stranger: another account entirely, asking as if it were our device.
    new = make_identity() if stranger else NodeIdentity.create(account, now)
    old_store, new_store = Store.memory(), Store.memory()
    own = own_devices(account.account_id, old, *(() if stranger else (new,)))
    server_pool = SessionPool(transport("old"), old, router := Router())
    server = DeviceHistory(old_store, requester=server_pool, is_own_device=own)
    router.add(HISTORY_METHODS, server.handle_rpc)
    listener = await server_pool.listen(listen)
    client_pool = SessionPool(transport("new"), new, Router())
    requester = CountingRequester(client_pool)
    bus = RecordingBus()
    client = DeviceHistory(new_store, requester=requester, is_own_device=own, bus=bus)
    return Devices(
        old,
        new,
        old_store,
        new_store,
        server,
        client,
        requester,
        bus,
        listener.address,
        [server_pool, client_pool],
    )


@pytest.fixture
async def devices() -> AsyncIterator[Devices]:
    net = MemoryNetwork()
    d = await start_devices(net.transport, "old")
    yield d
    for pool in d.pools:
        await pool.close()


# ------------------------------------------------------------------------------ paging


async def test_the_whole_history_comes_over_in_pages_newest_first(devices: Devices) -> None:
    everything = fill(devices.old_store, 1200)
    assert await devices.fetch() == 1200
    pages = devices.requester.pages
    assert [(n, more) for _, n, more in pages] == [(500, True), (500, True), (200, False)]
    assert pages[0][0] == {"before": None, "limit": MAX_PAGE}
    assert pages[1][0]["before"] == everything[499].msg_id
    # Every field came over as it was: conversation, sender, text, time, state, read.
    assert devices.new_store.all_history(limit=2000) == everything
    assert devices.new_store.unread_counts() == devices.old_store.unread_counts()


async def test_a_fetch_stops_at_its_message_limit(devices: Devices) -> None:
    everything = fill(devices.old_store, 900)
    assert await devices.fetch(limit=700) == 700
    assert [p["limit"] for p, _, _ in devices.requester.pages] == [500, 200]
    assert devices.new_store.all_history(limit=2000) == everything[:700]


async def test_a_fetch_stops_at_its_byte_limit_exactly(devices: Devices) -> None:
    everything = fill(devices.old_store, 60, text="x" * 1000)
    sizes = [encoded_size(encode_message(m)) for m in everything]
    budget = sum(sizes[:25]) + sizes[25] - 1  # the 26th would overflow it by one byte
    assert await devices.fetch(max_bytes=budget) == 25
    assert devices.new_store.all_history(limit=100) == everything[:25]


async def test_pages_stay_within_the_byte_bound_and_fit_a_session_frame(
    devices: Devices,
) -> None:
    # 32 KiB of UTF-8 per message: a page of 500 would be 16 MB.
    everything = fill(devices.old_store, 40, text="😀" * MAX_TEXT)
    page, more = devices.server.page(None, MAX_PAGE)
    assert more and 0 < len(page) < 40
    assert sum(encoded_size(m) for m in page) <= MAX_PAGE_BYTES
    assert await devices.fetch() == 40
    assert len(devices.requester.pages) > 1
    assert devices.new_store.all_history(limit=100) == everything


async def test_a_text_longer_than_the_limit_is_cut_when_served(devices: Devices) -> None:
    devices.old_store.append_message(message(1, text="y" * (MAX_TEXT + 10)))
    assert await devices.fetch() == 1
    assert devices.new_store.get_message(f"{1:032x}").text == "y" * MAX_TEXT


# ----------------------------------------------------------------------------- dedupe


async def test_messages_already_here_are_kept_as_they_are(devices: Devices) -> None:
    fill(devices.old_store, 30)
    mine = message(7, text="my own copy", state=MessageState.FAILED, read=True)
    devices.new_store.append_message(mine)
    devices.new_store.append_message(message(8))
    assert await devices.fetch() == 28
    assert devices.new_store.get_message(mine.msg_id) == mine
    assert devices.new_store.message_count() == 30
    assert await devices.fetch() == 0  # a second fetch finds nothing new
    assert devices.new_store.message_count() == 30


async def test_one_summary_and_no_event_per_message(devices: Devices) -> None:
    fill(devices.old_store, 700)
    assert await devices.fetch() == 700
    assert len(devices.bus.events) == 1
    event = devices.bus.events[0]
    assert isinstance(event, LogEvent) and event.level == "info" and event.topic == "history"
    assert "700 new" in event.text


# ---------------------------------------------------------------------------- refusal


async def test_a_peer_of_another_account_is_refused() -> None:
    net = MemoryNetwork()
    d = await start_devices(net.transport, "old", stranger=True)
    try:
        fill(d.old_store, 10)
        with pytest.raises(HistoryError, match="not_own_device"):
            await d.fetch()
        assert d.new_store.message_count() == 0
    finally:
        for pool in d.pools:
            await pool.close()


async def test_a_device_no_longer_listed_is_refused(devices: Devices) -> None:
    fill(devices.old_store, 10)
    devices.server.is_own_device = lambda peer: False  # unlinked (revoked) since
    with pytest.raises(HistoryError, match="not_own_device"):
        await devices.fetch()
    assert devices.new_store.message_count() == 0
    assert isinstance(devices.bus.events[-1], LogEvent)
    assert devices.bus.events[-1].level == "warning"


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"before": None, "limit": 0}, "bad_request"),
        ({"before": None, "limit": MAX_PAGE + 1}, "bad_request"),
        ({"before": None, "limit": True}, "bad_request"),
        ({"before": 12, "limit": 10}, "bad_request"),
        ({"before": "f" * 32, "limit": 10}, "unknown_cursor"),
    ],
)
async def test_bad_calls_get_a_clear_error(
    devices: Devices, params: dict[str, Any], code: str
) -> None:
    fill(devices.old_store, 10)
    pool = devices.requester.inner
    with pytest.raises(RpcError) as info:
        await pool.request(devices.address, devices.old.onion, HISTORY_METHOD, params, 10)
    assert info.value.code == code


# -------------------------------------------------------------------------- bad pages


class FakeRequester:
    """Answers each call with the next of the given pages."""

    def __init__(self, *pages: dict[str, Any]) -> None:
        self.pages = list(pages)

    async def request(
        self, address: str, onion: str, method: str, params: dict[str, Any], timeout: float
    ) -> Fields:
        return Fields(self.pages.pop(0), "device_history reply")


def good_page(n: int = 3, start: int = 100, more: bool = False) -> dict[str, Any]:
    """A valid page: ``n`` encoded messages, newest first."""
    msgs = [encode_message(message(i)) for i in range(start + n - 1, start - 1, -1)]
    return {"messages": msgs, "more": more}


def spoilt(change: dict[str, Any], drop: str = "") -> dict[str, Any]:
    """A valid page whose last message has ``change`` applied (and field ``drop`` removed)."""
    page = good_page()
    last = page["messages"][-1]
    last.update(change)
    last.pop(drop, None)
    return page


#: Each bad page and the reason its refusal must give.
BAD_PAGES: dict[str, tuple[dict[str, Any], str]] = {
    "id not a string": (spoilt({"id": 5}), "'id' must be a string"),
    "empty id": (spoilt({"id": ""}), "'id' length"),
    "id too long": (spoilt({"id": "f" * 129}), "'id' length"),
    "control character in conversation": (
        spoilt({"conversation": "a\x00b"}),
        "'conversation' must be printable",
    ),
    "sender not a string": (spoilt({"sender": b"\x01" * 32}), "'sender' must be a string"),
    "text too long": (spoilt({"text": "x" * (MAX_TEXT + 1)}), "'text' length"),
    "text not a string": (spoilt({"text": None}), "'text' must be a string"),
    "unknown state": (spoilt({"state": "bogus"}), "'state' must be one of"),
    "sent_at a bool": (spoilt({"sent_at": True}), "'sent_at' must be a number"),
    "sent_at not finite": (spoilt({"sent_at": float("nan")}), "'sent_at' must be a finite"),
    "sent_at a string": (spoilt({"sent_at": "yesterday"}), "'sent_at' must be a number"),
    "read not a bool": (spoilt({"read": 1}), "'read' must be a boolean"),
    "an unknown field": (spoilt({"kind": "whisper"}), "unknown fields kind"),
    "a missing field": (spoilt({}, drop="state"), "missing or unknown fields state"),
    "not a map": (
        {"messages": [*good_page()["messages"][:2], ["a", "list"]], "more": False},
        "must be a map",
    ),
    "out of order": (spoilt({"sent_at": BASE + 10_000}), "not older than"),
    "an id twice": (
        {
            "messages": [
                *good_page()["messages"],
                {**good_page()["messages"][0], "sent_at": BASE - 1},
            ],
            "more": False,
        },
        "id repeated",
    ),
    "messages not a list": (
        {"messages": {"a": 1}, "more": False},
        "'messages' must be a list",
    ),
    "more missing": (
        {"messages": good_page()["messages"]},
        "missing field 'more'",
    ),
    "more not a bool": (
        {**good_page(), "more": "yes"},
        "'more' must be a boolean",
    ),
    "empty yet more": (
        {"messages": [], "more": True},
        "empty page that claims more",
    ),
}


@pytest.mark.parametrize(("page", "reason"), BAD_PAGES.values(), ids=BAD_PAGES.keys())
async def test_a_bad_page_is_refused_whole(page: dict[str, Any], reason: str) -> None:
    store = Store.memory()
    history = DeviceHistory(store, requester=FakeRequester(page), is_own_device=lambda p: True)
    with pytest.raises(HistoryError, match="bad page") as info:
        await history.fetch("old", "onion")
    assert reason in str(info.value)
    assert store.message_count() == 0  # not even the valid messages before the bad one


async def test_a_page_larger_than_asked_is_refused() -> None:
    store = Store.memory()
    history = DeviceHistory(store, requester=FakeRequester(good_page(6)), is_own_device=bool)
    with pytest.raises(HistoryError, match="more than 5"):
        await history.fetch("old", "onion", limit=5)
    assert store.message_count() == 0


async def test_a_page_over_the_byte_bound_is_refused() -> None:
    page = {
        "messages": [encode_message(message(i, text="😀" * MAX_TEXT)) for i in range(100, 90, -1)],
        "more": False,
    }
    store = Store.memory()
    history = DeviceHistory(store, requester=FakeRequester(page), is_own_device=bool)
    with pytest.raises(HistoryError, match="larger than"):
        await history.fetch("old", "onion")
    assert store.message_count() == 0


async def test_a_bad_later_page_keeps_the_good_pages_before_it() -> None:
    first = good_page(MAX_PAGE, start=1000, more=True)
    # The second page repeats a message of the first: not older than the cursor.
    second = good_page(3, start=1000 + MAX_PAGE - 2)
    store = Store.memory()
    history = DeviceHistory(store, requester=FakeRequester(first, second), is_own_device=bool)
    with pytest.raises(HistoryError, match="not older"):
        await history.fetch("old", "onion")
    assert store.message_count() == MAX_PAGE


# -------------------------------------------------------------------------------- TCP


async def test_history_over_real_tcp_sessions() -> None:
    d = await start_devices(lambda name: TcpTransport(), "127.0.0.1:0")
    try:
        everything = fill(d.old_store, 1100, text="over tcp")
        assert await d.fetch() == 1100
        assert d.new_store.all_history(limit=2000) == everything
    finally:
        for pool in d.pools:
            await pool.close()


def test_the_store_pages_every_conversation_by_time_then_id() -> None:
    store = Store.memory()
    everything = fill(store, 30)  # three messages per second: ties are ordered by id
    assert [m.sort_key for m in everything] == sorted(
        (m.sort_key for m in everything), reverse=True
    )
    assert {m.conversation for m in everything} == set(CONVS)
    pages, before = [], None
    while page := store.all_history(limit=4, before=before):
        pages.append(page)
        before = page[-1].msg_id
    assert [m for p in pages for m in p] == everything and len(pages) == 8
    with pytest.raises(KeyError):
        store.all_history(limit=4, before="no such message")
