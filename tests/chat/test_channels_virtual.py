"""Channels and ringcast history on virtual time: membership, casts to members online and
offline, leaving, and what is not from a member."""

from __future__ import annotations

import pytest

from ohtchat.chat.channels import ChannelError, channel_key
from ohtchat.chat.envelopes import ChatItem, new_msg_id
from ohtchat.store import MessageState
from ohtchat.wire.envelope import pack
from tests.chat.virtual import ChatNet, ChatPeer, clock, simulate


def members(peer: ChatPeer, cid: str) -> set[str]:
    """The members of channel ``cid`` as ``peer`` knows them."""
    return set(peer.store.get_channel(cid).members)


def test_a_channel_of_four_with_one_offline() -> None:
    async def scenario(net: ChatNet) -> None:
        owner, m1, m2, m3, relay = await net.ring("owner", "m1", "m2", "m3", "relay")
        ch = await owner.chat.channels.create("friends")
        assert (ch.name, ch.members, ch.owner) == ("friends", (owner.id,), owner.id)
        for m in (m1, m2, m3):
            joined = await m.chat.channels.join(ch.channel_id)
            assert joined.name == "friends" and m.id in joined.members
        everyone = {owner.id, m1.id, m2.id, m3.id}
        # The owner keeps the roster and tells every member who is in.
        await net.until(lambda: members(owner, ch.channel_id) == everyone, "4 at the owner")
        await net.until(
            lambda: all(members(m, ch.channel_id) == everyone for m in (m1, m2, m3)),
            "4 at every member",
        )
        assert [c.channel_id for c in m1.chat.channels.listing()] == [ch.channel_id]
        await net.stop(m3)
        await net.settle()  # the ring heals around m3; its record outlives it
        msg, states = await owner.chat.channels.cast("friends", "hello everyone")
        assert msg.state is MessageState.QUEUED  # m3's copy waits in its mailbox
        assert states == {m1.id: "delivered", m2.id: "delivered", m3.id: "queued"}
        for m in (m1, m2):
            assert m.texts(ch.channel_id) == ["hello everyone"]
            assert m.chat.history(ch.channel_id, 10)[1][0].sender == owner.id
        m3b = await net.restart(m3, seed=owner)
        await net.until(lambda: m3b.texts(ch.channel_id), "m3's mailbox pickup")
        assert m3b.texts(ch.channel_id) == ["hello everyone"]
        # History is kept on the sender too, and the channel can be named by an id prefix.
        assert owner.texts(ch.channel_id) == ["hello everyone"]
        assert owner.chat.history(ch.channel_id[:8], 10)[0] == ch.channel_id
        assert relay.texts(ch.channel_id) == []

    simulate(scenario)


def test_leaving_a_channel() -> None:
    async def scenario(net: ChatNet) -> None:
        owner, m1, m2 = await net.ring("owner", "m1", "m2")
        ch = await owner.chat.channels.create("")
        assert ch.name == f"channel-{ch.channel_id[:6]}"
        for m in (m1, m2):
            await m.chat.channels.join(ch.channel_id)
        everyone = {owner.id, m1.id, m2.id}
        # Both must know everyone: m2 tells the members it knows that it leaves.
        await net.until(
            lambda: all(members(m, ch.channel_id) == everyone for m in (m1, m2)),
            "the roster at m1 and m2",
        )
        left = await m2.chat.channels.leave(ch.channel_id[:6])
        assert left.channel_id == ch.channel_id
        assert {"channel_id": ch.channel_id, "name": ch.name, "members": []} in m2.bus.of("channel")
        with pytest.raises(ChannelError):
            m2.chat.channels.find(ch.channel_id)
        assert members(owner, ch.channel_id) == members(m1, ch.channel_id) == {owner.id, m1.id}
        _, states = await m1.chat.channels.cast(ch.channel_id, "after m2 left")
        assert list(states) == [owner.id]
        assert m2.texts(ch.channel_id) == []

    simulate(scenario)


def test_only_members_write_to_a_channel() -> None:
    async def scenario(net: ChatNet) -> None:
        owner, m1, outsider = await net.ring("owner", "m1", "outsider")
        ch = await owner.chat.channels.create("club")
        await m1.chat.channels.join(ch.channel_id)
        await net.until(lambda: m1.id in members(owner, ch.channel_id), "m1 at the owner")

        def item(kind: str, to: str, **extra: object) -> ChatItem:
            body = {"channel": ch.channel_id, **extra}
            return ChatItem(kind, new_msg_id(), to, clock(), "psst", body)

        # Not a member: its message and its roster are ignored.
        await outsider.chat.send_item(owner.id, item("channel_msg", owner.id))
        await outsider.chat.send_item(m1.id, item("channel_roster", m1.id, members=[outsider.id]))
        assert owner.texts(ch.channel_id) == []
        assert outsider.id not in members(m1, ch.channel_id)
        # A channel the node is not in is ignored altogether.
        stray = ChatItem("channel_msg", new_msg_id(), m1.id, clock(), "x", {"channel": "ab" * 16})
        await owner.chat.send_item(m1.id, stray)
        assert m1.texts("ab" * 16) == []

    simulate(scenario)


def test_joining_needs_a_well_formed_channel_record() -> None:
    async def scenario(net: ChatNet) -> None:
        alice, bob = await net.ring("alice", "bob", timers=False)
        with pytest.raises(ChannelError):
            await bob.chat.channels.join("cd" * 16)  # no such channel
        await alice.dht.put(channel_key("ef" * 16), pack({"name": 5}), 3600)
        with pytest.raises(ChannelError):
            await bob.chat.channels.join("ef" * 16)  # malformed roster
        with pytest.raises(ChannelError):
            await bob.chat.channels.cast("nope", "hi")

    simulate(scenario)


def test_a_roster_naming_another_owner_than_its_signer_is_refused() -> None:
    """A squatter's roster that names an honest account as owner does not make that account
    the channel's owner at joiners (issue 19: the owner came from the value)."""

    async def scenario(net: ChatNet) -> None:
        honest, squatter, joiner = await net.ring("honest", "squatter", "joiner", timers=False)
        cid = "ab" * 16
        roster = {"name": "club", "owner": honest.id, "members": [honest.id, squatter.id]}
        await squatter.dht.put(channel_key(cid), pack(roster), 3600)
        with pytest.raises(ChannelError, match="not the account that signed it"):
            await joiner.chat.channels.join(cid)
        assert [c.channel_id for c in joiner.store.channels()] == []
        # The same roster signed by the owner it names is fine.
        cid2 = "cd" * 16
        await honest.dht.put(channel_key(cid2), pack({**roster, "members": [honest.id]}), 3600)
        ch = await joiner.chat.channels.join(cid2)
        assert ch.owner == honest.id

    simulate(scenario)


def test_a_ringcast_reaches_every_node_once_and_is_kept_in_history() -> None:
    async def scenario(net: ChatNet) -> None:
        nodes = await net.ring("a", "b", "c", "d", "e")
        for n in nodes:
            await n.chord.fix_all_fingers()
        await nodes[1].ringcast.broadcast({"text": "hello ring", "name": "b"})
        await net.advance(60.0)  # long enough for any late duplicate to show
        for n in nodes:
            assert n.texts("ringcast") == ["hello ring"]  # exactly once, the sender's too
            (view,) = [n.chat.message_view(m) for m in n.chat.history("ringcast", 10)[1]]
            assert view.sender_name == "b" and view.sender == nodes[1].id
            assert view.outgoing == (n is nodes[1])
            assert len([d for d in n.bus.of("message") if d["conversation"] == "ringcast"]) == 1
        assert nodes[1].chat.history("ringcast", 10)[1][0].state is MessageState.DELIVERED
        assert nodes[2].chat.history("ringcast", 10)[1][0].state is MessageState.RECEIVED

    simulate(scenario)


def test_the_ringcast_history_is_capped_oldest_first() -> None:
    """Anyone on the ring can write to the ringcast conversation (issue 19: 150 ringcasts from
    fresh accounts were all kept), so a node keeps only the newest ones."""

    async def scenario(net: ChatNet) -> None:
        nodes = await net.ring("a", "b", "c")
        for n in nodes:
            await n.chord.fix_all_fingers()
        a, b, _ = nodes
        b.chat.messages.ringcast_history = 3
        for i in range(6):
            await a.ringcast.broadcast({"text": f"cast {i}", "name": "a"})
            await net.advance(30.0)
        await net.until(lambda: "cast 5" in b.texts("ringcast"), "the last cast at b")
        assert b.texts("ringcast") == ["cast 3", "cast 4", "cast 5"]
        assert len(a.texts("ringcast")) == 6  # the default keeps far more

    simulate(scenario)
