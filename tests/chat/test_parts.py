"""Parts of the chat layer alone, with fakes for their collaborators and a hand-moved clock:
presence lookups (retries, cache) and contact presence (ageing, announcements)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import pytest

from ohtchat.api.bus import EventBus
from ohtchat.api.events import NodeEvent
from ohtchat.chat.accounts import LocalAccount
from ohtchat.chat.directory import LOOKUP_RETRIES, PRESENCE_CACHE, PresenceDirectory
from ohtchat.chat.errors import ChatError
from ohtchat.chat.liveness import OFFLINE_AFTER, Liveness
from ohtchat.chat.names import NameBook
from ohtchat.crypto import kem
from ohtchat.crypto.keys import AccountKey, NodeKey
from ohtchat.store import Contact, ContactState, Store

T0 = 1_700_000_000.0


class Clock:
    """Unix time the test moves by hand; ``sleep`` records the pause and moves it."""

    def __init__(self) -> None:
        self.t = T0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += seconds


@dataclass
class Record:
    """A DHT record as the chat layer reads it."""

    value: bytes
    owner: bytes


class FakeDht:
    """A DHT that holds what was put, and can miss the first ``misses`` reads."""

    def __init__(self) -> None:
        self.records: dict[bytes, Record] = {}
        self.owner = b""
        self.misses = 0
        self.gets = 0

    async def put(self, key: str | bytes, value: bytes, ttl: int | None = None) -> Any:
        key = key.encode() if isinstance(key, str) else key
        self.records[key] = Record(value, self.owner)

    async def get(self, key: bytes) -> Any:
        self.gets += 1
        if self.misses:
            self.misses -= 1
            return None
        return self.records.get(key)

    async def mailbox_put(
        self,
        recipient_account_id: str,
        item: bytes,
        ttl: int | None = None,
        deposit: Any = None,
    ) -> Any:
        raise NotImplementedError

    async def mailbox_fetch(self, recipient_account_id: str) -> list[tuple[bytes, bytes]]:
        return []

    async def mailbox_delete(self, account: Any, item_ids: list[bytes]) -> Any:
        return None


def account(name: str) -> LocalAccount:
    return LocalAccount(name, AccountKey(), NodeKey(), kem.KemKeyPair.generate(), T0)


def directory(acct: LocalAccount, dht: FakeDht, clock: Clock) -> PresenceDirectory:
    names = NameBook(Store.memory(), acct)
    return PresenceDirectory(acct, dht, names, advertise="here", now=clock, sleep=clock.sleep)


def test_a_lookup_asks_again_while_the_ring_converges_then_caches() -> None:
    async def main() -> None:
        clock, dht, bob = Clock(), FakeDht(), account("bob")
        dht.owner = bob.key.public
        await directory(bob, dht, clock).publish()
        alice = directory(account("alice"), dht, clock)
        dht.misses = len(LOOKUP_RETRIES)  # found on the last try
        p = await alice.lookup(bob.account_id)
        assert (p.name, p.address, p.onion) == ("bob", "here", bob.node_key.onion)
        assert clock.slept == list(LOOKUP_RETRIES)
        assert alice.names.name_of(bob.account_id) == "bob"
        gets = dht.gets
        await alice.lookup(bob.account_id)  # cached
        assert dht.gets == gets
        clock.t += PRESENCE_CACHE
        await alice.lookup(bob.account_id)  # stale: asked again
        assert dht.gets == gets + 1
        alice.forget(bob.account_id)
        await alice.lookup(bob.account_id)
        assert dht.gets == gets + 2
        dht.misses = len(LOOKUP_RETRIES) + 1
        with pytest.raises(ChatError):
            await alice.lookup(bob.account_id, fresh=True)

    asyncio.run(main())


def test_handles_are_first_come_and_checked_against_their_owner() -> None:
    async def main() -> None:
        clock, dht, bob = Clock(), FakeDht(), account("bob")
        bobs = directory(bob, dht, clock)
        with pytest.raises(ChatError):
            await bobs.lookup_handle("bob")
        dht.owner = bob.key.public
        await bobs.claim_handle("Bob ")
        assert await bobs.lookup_handle("bob") == bob.account_id
        dht.owner = AccountKey().public  # a record naming bob, not owned by bob
        await bobs.claim_handle("bob")
        with pytest.raises(ChatError):
            await bobs.lookup_handle("bob")

    asyncio.run(main())


class Bus(EventBus):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[NodeEvent] = []

    def publish(self, event: NodeEvent) -> NodeEvent:
        self.seen.append(event)
        return super().publish(event)


def test_presence_ages_out_after_the_missed_heartbeats() -> None:
    clock, bus, store = Clock(), Bus(), Store.memory()
    store.put_contact(Contact("b" * 64, "bob", ContactState.ACCEPTED, "", T0, b""))
    live = Liveness(store, bus, interval=30.0, now=clock, sleep=clock.sleep)
    assert live.presence("b" * 64) == "offline"
    live.heard("b" * 64, "away")
    live.refresh()
    live.refresh()  # announced once per change
    assert [e.data["presence"] for e in bus.seen] == ["away"]
    live.answered("b" * 64)  # an answer keeps the status it told us
    assert live.presence("b" * 64) == "away"
    clock.t += OFFLINE_AFTER * 30.0
    assert live.presence("b" * 64) == "away"
    clock.t += 0.001
    assert live.presence("b" * 64) == "offline"
    live.heard("b" * 64, "anything else")
    assert live.presence("b" * 64) == "online"

    class Stop(Exception):
        pass

    async def sleep_once(seconds: float) -> None:
        clock.slept.append(seconds)
        raise Stop

    live.sleep = sleep_once
    clock.t += OFFLINE_AFTER * 30.0 + 1
    with pytest.raises(Stop):
        asyncio.run(live.watch())  # refreshes, then sleeps half an interval
    assert [e.data["presence"] for e in bus.seen] == ["away", "offline"]
    assert clock.slept == [15.0]
