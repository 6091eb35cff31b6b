"""Several devices of one account, in virtual time: every device gets every message, what one
sends shows on the others, an unlinked device gets nothing more (docs/devices.md)."""

from __future__ import annotations

import dataclasses

import pytest

from ohtchat.chat.accounts import LocalAccount
from ohtchat.chat.devices import devices_key
from ohtchat.chat.errors import ChatError
from ohtchat.chat.sync import SYNC_CONTACT, SYNC_SENT
from ohtchat.crypto import kem
from ohtchat.crypto.keys import NodeKey
from ohtchat.devices import DeviceList
from ohtchat.session.rpc import RpcError
from ohtchat.store import Contact, MessageState
from tests.chat.virtual import ChatNet, ChatPeer, clock, simulate


def second_device(net: ChatNet, first: ChatPeer) -> LocalAccount:
    """The account of ``first`` as a second device holds it: same account key, its own node
    key and prekey (what linking hands over)."""
    return dataclasses.replace(
        first.account, node_key=NodeKey(net.rng.randbytes(32)), kem=kem.KemKeyPair.generate()
    )


async def linked_pair(net: ChatNet) -> tuple[ChatPeer, ChatPeer, ChatPeer, ChatPeer]:
    """alice (two devices: a1, a2), bob and carol on one ring; bob knows alice's two devices."""
    a1, bob, carol = await net.ring("a1", "bob", "carol")
    account2 = second_device(net, a1)
    await a1.chat.devices.link(account2.node_key.public, "laptop")
    a2 = await net.start("a2", seed=bob, account=account2)
    await net.until(lambda: net.finds(bob, a2), "bob finds a2's device presence")
    await net.until(
        lambda: len(bob.chat.devices.own().devices) == 1, "bob's own list has one device"
    )
    listed = await bob.chat.devices.current(a1.id, fresh=True)
    assert {d.node_public for d in listed.devices} == {
        a1.account.node_key.public,
        a2.account.node_key.public,
    }
    return a1, a2, bob, carol


def test_every_device_gets_a_whisper_and_sent_messages_sync() -> None:
    async def scenario(net: ChatNet) -> None:
        a1, a2, bob, _carol = await linked_pair(net)
        assert a1.id == a2.id and a1.onion != a2.onion
        sent = await bob.chat.whisper(a1.id, "hello both")
        assert sent.state is MessageState.DELIVERED
        assert a1.texts(bob.id) == ["hello both"] and a2.texts(bob.id) == ["hello both"]
        # both devices receipted: per-device receipts are kept
        assert len(bob.chat.delivery.receipts[sent.msg_id]) == 2
        # a2 answers; a1 shows the answer in its history, as ours
        reply = await a2.chat.whisper(bob.id, "from the laptop")
        assert reply.state is MessageState.DELIVERED
        assert sorted(bob.texts(a1.id)) == ["from the laptop", "hello both"]
        await net.until(lambda: "from the laptop" in a1.texts(bob.id), "a1 shows a2's message")
        synced = a1.store.get_message(reply.msg_id)
        assert synced.sender == a1.id and synced.state is MessageState.DELIVERED
        # read state: a2 read the conversation, a1 shows it read too
        assert a1.store.unread_counts().get(bob.id) == 1
        assert a2.chat.mark_read(bob.id) == 1
        await net.until(lambda: not a1.store.unread_counts().get(bob.id), "a1 marked read")

    simulate(scenario)


def test_contacts_sync_between_devices() -> None:
    async def scenario(net: ChatNet) -> None:
        a1, a2, _bob, carol = await linked_pair(net)
        contact, _state = await a1.chat.contacts.add(carol.id)
        await net.until(lambda: _contact(a2, carol.id), "a2 has carol as a contact")
        got = _contact(a2, carol.id)
        assert got is not None and got.account_public == carol.account.key.public
        assert got.state == contact.state
        a2.chat.contacts.remove(carol.id)
        await net.until(lambda: _contact(a1, carol.id) is None, "a1 forgot carol too")

    simulate(scenario)


def _contact(peer: ChatPeer, acct: str) -> Contact | None:
    try:
        return peer.store.get_contact(acct)
    except KeyError:
        return None


def test_an_offline_device_gets_its_copy_from_the_mailbox() -> None:
    async def scenario(net: ChatNet) -> None:
        a1, a2, bob, _carol = await linked_pair(net)
        await net.stop(a2)
        # A day offline: a2's device record (which names its prekey) outlives presence's 6 h.
        await net.advance(26 * 3600)
        sent = await bob.chat.whisper(a1.id, "while the laptop sleeps")
        assert sent.state is MessageState.DELIVERED  # a1 receipted it
        assert a1.texts(bob.id) == ["while the laptop sleeps"]
        await net.advance(3600)  # the mailbox keeps a2's copy
        back = await net.restart(a2, seed=bob)
        await net.until(
            lambda: back.texts(bob.id) == ["while the laptop sleeps"], "a2 picked up its copy"
        )

    # Days of virtual time: slower heartbeats and pickups keep the event count small.
    simulate(scenario, heartbeat_interval=3600.0, mailbox_interval=600.0)


def test_after_unlink_only_the_remaining_device_gets_whispers() -> None:
    async def scenario(net: ChatNet) -> None:
        a1, a2, bob, _carol = await linked_pair(net)
        await bob.chat.contacts.add(a1.id)  # so a1 tells bob when its devices change
        await net.until(lambda: _contact(a1, bob.id), "a1 has bob's request")
        await a1.chat.contacts.add(bob.id)
        with pytest.raises(ChatError, match="device you are using"):
            await a1.chat.devices.unlink(a1.account.node_key.public)
        await a1.chat.devices.unlink(a2.account.node_key.public)
        gone = a2.account.node_key.public
        await net.until(lambda: bob.chat.devices.revoked(a1.id, gone), "bob saw the unlink")
        await net.until(lambda: a2.chat.devices.unlinked, "a2 learnt it was unlinked")
        sent = await bob.chat.whisper(a1.id, "only a1")
        assert sent.state is MessageState.DELIVERED
        assert "only a1" in a1.texts(bob.id) and "only a1" not in a2.texts(bob.id)
        # the unlinked device sends nothing any more, and bob refuses it if it tried
        assert (await a2.chat.whisper(bob.id, "still here?")).state is MessageState.FAILED
        item = {
            "kind": SYNC_SENT,
            "msg_id": "x",
            "to": bob.id,
            "sent_at": 1.0,
            "text": "",
            "extra": {},
        }
        with pytest.raises(RpcError) as info:
            await a2.pool.request(bob.address, bob.onion, "chat_deliver", item, 10)
        assert info.value.code == "device_revoked"
        # a2 never lists itself again, even from its own store
        assert a2.chat.devices.own().find(gone) is None

    simulate(scenario)


def test_sync_items_come_only_from_own_current_devices() -> None:
    async def scenario(net: ChatNet) -> None:
        a1, _a2, bob, _carol = await linked_pair(net)
        forged = {
            "kind": SYNC_SENT,
            "msg_id": "f" * 32,
            "to": a1.id,
            "sent_at": 1.0,
            "text": "not mine",
            "extra": {"c": bob.id, "s": "delivered"},
        }
        with pytest.raises(RpcError) as info:
            await bob.pool.request(a1.address, a1.onion, "chat_deliver", forged, 10)
        assert info.value.code == "bad_request"
        assert not a1.store.has_message("f" * 32)

    simulate(scenario)


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


def test_a_list_that_drops_revocations_is_overwritten_and_new_devices_are_announced() -> None:
    async def scenario(net: ChatNet) -> None:
        a1, a2, bob, _carol = await linked_pair(net)
        gone = a2.account.node_key.public
        await a1.chat.devices.unlink(gone)
        before = await bob.chat.devices.lookup(a1.id)
        assert before.is_revoked(gone)
        # Someone with the account key writes a list without the revocation, and with a device
        # of its own.
        now = int(clock())
        stranger = NodeKey().public
        forged = DeviceList(a1.account.key.public, before.devices).add(
            a2.account.key.certify(gone, now), "laptop", now
        )
        forged = forged.add(a1.account.key.certify(stranger, now), "not mine", now)
        await a2.dht.put(devices_key(a1.id), forged.to_value())
        assert not (await bob.chat.devices.lookup(a1.id)).is_revoked(gone)
        # a1's next write merges: the revocation comes back at once; the new device is shown.
        await a1.chat.publish_presence()
        after = await bob.chat.devices.lookup(a1.id)
        assert after.is_revoked(gone) and after.find(gone) is None
        notices = [d["text"] for d in a1.bus.of("log") if d.get("topic") == "devices"]
        assert any("not mine" in t and "someone holds your account key" in t for t in notices)

    simulate(scenario)


def test_channels_joined_on_one_device_follow_on_the_other() -> None:
    async def scenario(net: ChatNet) -> None:
        a1, a2, bob, _carol = await linked_pair(net)
        ch = await bob.chat.channels.create("lobby")
        await a2.chat.channels.join(ch.channel_id)
        await net.until(lambda: _channel(a1, ch.channel_id), "a1 is in the channel too")
        # bob's channel message reaches both of alice's devices, in the channel
        await bob.chat.channels.cast(ch.channel_id, "hi lobby")
        for device in (a1, a2):
            await net.until(
                lambda d=device: "hi lobby" in d.texts(ch.channel_id), f"{device.name} has it"
            )
        await a1.chat.channels.leave(ch.channel_id)
        await net.until(lambda: _channel(a2, ch.channel_id) is None, "a2 left too")

    simulate(scenario)


def _channel(peer: ChatPeer, channel_id: str) -> object:
    try:
        return peer.store.get_channel(channel_id)
    except KeyError:
        return None


@pytest.mark.parametrize(
    ("kind", "extra", "why"),
    [
        (SYNC_SENT, {"c": "x", "s": "received"}, "no outgoing state"),
        (SYNC_SENT, {"c": "x", "s": "lost"}, "unknown state"),
        (
            SYNC_CONTACT,
            {"a": "ab" * 32, "p": bytes(32), "n": "", "st": "", "v": "", "rm": False},
            "'p'",
        ),
        ("sync_channel", {"i": "XYZ", "rm": True}, "hex"),
        (
            "sync_channel",
            {"i": "ab", "n": "", "m": ["not an id"], "o": "", "k": b"", "cr": 1.0, "rm": False},
            "account ids",
        ),
        (
            "sync_channel",
            {"i": "ab", "n": "", "m": [], "o": "", "k": b"", "cr": True, "rm": False},
            "time",
        ),
    ],
)
def test_a_malformed_sync_item_from_an_own_device_changes_nothing(
    kind: str, extra: dict[str, object], why: str
) -> None:
    async def scenario(net: ChatNet) -> None:
        a1, a2, _bob, _carol = await linked_pair(net)
        before = (a1.store.contacts(), a1.store.channels(), a1.store.message_count())
        item = {
            "kind": kind,
            "msg_id": "m" * 8,
            "to": a1.id,
            "sent_at": 1.0,
            "text": "t",
            "extra": extra,
        }
        with pytest.raises(RpcError) as info:
            await a2.pool.request(a1.address, a1.onion, "chat_deliver", item, 10)
        assert info.value.code == "bad_request" and why in info.value.detail
        assert (a1.store.contacts(), a1.store.channels(), a1.store.message_count()) == before

    simulate(scenario)


def test_contacts_learn_of_a_new_device_at_once() -> None:
    async def scenario(net: ChatNet) -> None:
        a1, bob, _carol = await net.ring("a1", "bob", "carol")
        await bob.chat.contacts.add(a1.id)
        await net.until(lambda: _contact(a1, bob.id), "a1 has bob's request")
        await a1.chat.contacts.add(bob.id)
        assert len((await bob.chat.devices.current(a1.id)).devices) == 1  # cached for 5 min
        account2 = second_device(net, a1)
        linked_at = clock()
        await a1.chat.devices.link(account2.node_key.public, "laptop")

        async def two_cached() -> bool:
            return len((await bob.chat.devices.current(a1.id)).devices) == 2

        await net.until(two_cached, "bob's cached list names the new device")
        assert clock() - linked_at < 60  # told, not waiting for the cache to expire

    simulate(scenario)


def test_heartbeats_reach_every_device() -> None:
    async def scenario(net: ChatNet) -> None:
        a1, a2, bob, _carol = await linked_pair(net)
        await bob.chat.contacts.add(a1.id)
        await net.until(lambda: _contact(a1, bob.id), "a1 has bob's request")
        await a1.chat.contacts.add(bob.id)
        await net.until(lambda: _contact(a2, bob.id), "a2 has bob too (synced)")
        # Both devices forget when they last heard from bob; one heartbeat round reaches both.
        for device in (a1, a2):
            device.chat.liveness.last_seen.pop(bob.id, None)
            assert device.chat.liveness.presence(bob.id) != "online"
        await bob.chat.heartbeats.send_all()
        for device in (a1, a2):
            assert device.chat.liveness.presence(bob.id) == "online", device.name

    simulate(scenario, heartbeat_interval=1e6)  # only the heartbeat sent by hand
