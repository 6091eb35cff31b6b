"""Device lists on virtual time (docs/devices.md): every account publishes one naming its
node with its presence; others read it verified, and a replayed older list is refused."""

from __future__ import annotations

import pytest

from ohtchat.chat.devices import devices_key
from ohtchat.chat.errors import ChatError
from ohtchat.crypto.keys import NodeKey
from ohtchat.devices import DeviceList
from tests.chat.virtual import ChatNet, clock, simulate


def test_every_account_publishes_a_device_list_naming_its_node() -> None:
    async def scenario(net: ChatNet) -> None:
        alice, bob = await net.ring("alice", "bob", timers=False)
        devices = await bob.chat.devices.lookup(alice.id)
        assert [d.node_public for d in devices.devices] == [alice.account.node_key.public]
        assert devices.speaks_for(alice.account.node_key.public, int(clock()))
        assert devices.devices[0].name == "alice" and devices.revoked == ()
        # Publishing again keeps the same entry (certificate still fresh): no churn.
        await alice.chat.publish_presence()
        again = await bob.chat.devices.lookup(alice.id)
        assert again.devices == devices.devices
        with pytest.raises(ChatError, match="no device list"):
            await bob.chat.devices.lookup("ab" * 32)

    simulate(scenario)


def test_a_replayed_older_device_list_is_refused() -> None:
    async def scenario(net: ChatNet) -> None:
        alice, bob = await net.ring("alice", "bob", timers=False)
        first = await bob.chat.devices.lookup(alice.id)
        old_record = await bob.dht.get(devices_key(alice.id))
        assert old_record is not None
        # Alice's list changes (a second device, as linking will do); bob sees the new one.
        second = NodeKey().public
        now = int(clock())
        newer = first.add(alice.account.key.certify(second, now), "phone", now)
        await alice.dht.put(devices_key(alice.id), newer.to_value())
        seen = await bob.chat.devices.lookup(alice.id)
        assert seen.find(second) is not None

        # A holder that answers with the older record afterwards is not believed.
        async def replay(key: bytes) -> object:
            return old_record

        bob.chat.devices.dht = type("Replaying", (), {"get": staticmethod(replay)})()
        with pytest.raises(ChatError, match="older than one already seen"):
            await bob.chat.devices.lookup(alice.id)
        assert isinstance(DeviceList.from_value(old_record.owner, old_record.value), DeviceList)

    simulate(scenario)
