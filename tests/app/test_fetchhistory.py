"""``/fetchhistory [DEVICE] [LIMIT]``: the command, its operation, and how it picks a device.

The handler runs against stand-ins for the chat layer's device directory and the stack's
history transfer (the transfer itself is tested in tests/chat/test_history_sync.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest

from ohtchat.api import ops
from ohtchat.api.ops import operation
from ohtchat.app.handlers.general import fetch_history
from ohtchat.chat.devices import device_id
from ohtchat.chat.history import DEFAULT_LIMIT, HistoryError
from ohtchat.commands.errors import CommandFailed, NotFound
from ohtchat.commands.parser import Command, parse

ME = "a1" * 32


@dataclass
class Device:
    """One of our other devices: its directory entry and its presence in one."""

    node_public: bytes
    name: str
    onion: str
    address: str


LAPTOP = Device(b"\x01" * 32, "laptop", "laptop.onion", "laptop:1")
PHONE = Device(b"\x02" * 32, "Phone", "phone.onion", "phone:1")


@dataclass
class FakeHistory:
    """The stack's history transfer: answers per onion, records calls."""

    answers: dict[str, int | Exception]
    calls: list[tuple[str, str, int]] = field(default_factory=list)

    async def fetch(self, address: str, onion: str, limit: int = DEFAULT_LIMIT) -> int:
        self.calls.append((address, onion, limit))
        answer = self.answers[onion]
        if isinstance(answer, Exception):
            raise answer
        return answer


def context(online: list[Device], history: FakeHistory) -> Any:
    """A handler context with just what ``/fetchhistory`` reads."""

    async def presences(acct_id: str) -> list[Device]:
        assert acct_id == ME
        return online

    devices = SimpleNamespace(
        own=lambda: SimpleNamespace(devices=[LAPTOP, PHONE]), presences=presences
    )
    return SimpleNamespace(
        chat=SimpleNamespace(me=ME, devices=devices), stack=SimpleNamespace(history=history)
    )


def test_the_command_parses_into_its_operation() -> None:
    parsed = parse("/fetchhistory laptop 5000")
    assert isinstance(parsed, Command)
    assert operation(parsed.name, parsed.args) == ops.FetchHistory("laptop", 5000)
    bare = parse("/fetchhistory")
    assert isinstance(bare, Command)
    assert operation(bare.name, bare.args) == ops.FetchHistory()


async def test_without_a_device_the_first_that_answers_is_used() -> None:
    history = FakeHistory({"laptop.onion": HistoryError("unreachable"), "phone.onion": 42})
    result = await fetch_history(context([LAPTOP, PHONE], history), ops.FetchHistory())
    assert result.ok and "42 new message(s)" in result.text and "Phone" in result.text
    assert result.data == {"received": 42, "device": device_id(PHONE.node_public)}
    assert history.calls == [
        ("laptop:1", "laptop.onion", DEFAULT_LIMIT),
        ("phone:1", "phone.onion", DEFAULT_LIMIT),
    ]


@pytest.mark.parametrize("ref", ["phone", "PHONE", device_id(PHONE.node_public)[:6]])
async def test_a_device_is_named_by_name_or_node_id_prefix(ref: str) -> None:
    history = FakeHistory({"laptop.onion": 1, "phone.onion": 7})
    result = await fetch_history(context([LAPTOP, PHONE], history), ops.FetchHistory(ref, 300))
    assert result.ok and result.data["received"] == 7
    assert history.calls == [("phone:1", "phone.onion", 300)]


async def test_no_device_online_or_none_by_that_name() -> None:
    history = FakeHistory({})
    with pytest.raises(NotFound, match="online"):
        await fetch_history(context([], history), ops.FetchHistory())
    with pytest.raises(NotFound, match="tablet"):
        await fetch_history(context([LAPTOP, PHONE], history), ops.FetchHistory("tablet"))
    assert history.calls == []


async def test_failures_are_reported_with_the_reason() -> None:
    history = FakeHistory({"laptop.onion": HistoryError("the device refused: not_own_device")})
    with pytest.raises(CommandFailed, match="not_own_device") as info:
        await fetch_history(context([LAPTOP, PHONE], history), ops.FetchHistory("laptop"))
    assert info.value.code == "unavailable"
    assert history.calls == [("laptop:1", "laptop.onion", DEFAULT_LIMIT)]
