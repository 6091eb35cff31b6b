"""Plain text typed into a conversation, on real in-memory nodes: the conversation is resolved
once and the text goes to exactly that (a contact: a whisper; a channel: a channel message;
``ringcast``: a ringcast). A failing channel send is a failure, never a whisper."""

from __future__ import annotations

import asyncio
import os

from ohtchat.api.ops import SendText
from ohtchat.api.views import MessageSent
from ohtchat.app.node import ChatNode
from ohtchat.store import Channel
from tests.app.nodes import memory_ring, options
from tests.waiting import eventually


def texts(node: ChatNode, conversation: str) -> list[str]:
    """The texts of a conversation in ``node``'s store, oldest first."""
    return [m.text for m in reversed(node.store.history(conversation, limit=50))]


def conversations(node: ChatNode) -> set[str]:
    """Every conversation with a message in ``node``'s store."""
    return {c.conversation for c in node.store.conversations()}


async def test_text_to_a_contact_is_a_whisper() -> None:
    async with memory_ring(["alice", "bob"]) as (alice, bob):
        a_id, b_id = alice.account.account_id, bob.account.account_id
        assert (await alice.execute(f"/request {b_id}")).ok  # bob is now alice's contact "bob"
        sent = await alice.execute("hello bob", conversation="bob")
        assert sent.ok, sent.text
        assert sent.view == MessageSent(sent.data["msg_id"], b_id, "delivered")
        by_id = await alice.call(SendText(b_id[:8], "and by id"))
        assert by_id.ok and by_id.data["conversation"] == b_id
        await eventually(lambda: texts(bob, a_id) == ["hello bob", "and by id"], "both arrive")
        assert conversations(alice) == {b_id}


async def test_text_to_a_channel_is_a_channel_message() -> None:
    async with memory_ring(["alice", "bob"]) as (alice, bob):
        a_id, b_id = alice.account.account_id, bob.account.account_id
        cid = (await alice.execute("/channel club")).data["channel_id"]
        assert (await bob.execute(f"/join {cid}")).ok
        await eventually(lambda: b_id in alice.store.get_channel(cid).members, "bob joined")
        sent = await alice.call(SendText("club", "hi club"))
        assert sent.ok, sent.text
        assert sent.data["conversation"] == cid and sent.data["members"] == {b_id: "delivered"}
        await eventually(lambda: texts(bob, cid) == ["hi club"], "bob reads the channel")
        # The same through a console line with the channel open.
        assert (await bob.execute("hi alice", conversation=cid)).ok
        await eventually(lambda: texts(alice, cid) == ["hi club", "hi alice"], "alice reads it")
        assert conversations(alice) == {cid} and conversations(bob) == {cid}
        assert a_id not in conversations(bob)


async def test_text_to_the_ringcast_conversation_is_a_ringcast() -> None:
    async with memory_ring(["alice", "bob", "carol"]) as nodes:
        alice = nodes[0]
        sent = await alice.execute("hi ring", conversation="ringcast")
        assert sent.ok, sent.text
        assert sent.data["children"] >= 1 and sent.data["msg_id"]
        for n in nodes:
            await eventually(
                lambda n=n: texts(n, "ringcast") == ["hi ring"],
                f"{n.account.name} has the ringcast",
            )
        history = await alice.execute("/history", conversation="ringcast")
        assert [m.text for m in history.view.messages] == ["hi ring"]
        assert history.data["conversation"] == "ringcast"


async def test_a_channel_send_that_fails_is_reported_and_nothing_is_whispered() -> None:
    async with memory_ring(["alice", "bob"]) as (alice, _bob):
        cid = (await alice.execute("/channel club")).data["channel_id"]
        ghost = os.urandom(32).hex()  # a member nobody can reach: no presence anywhere
        ch = alice.store.get_channel(cid)
        alice.store.put_channel(
            Channel(cid, ch.name, (*ch.members, ghost), ch.created, ch.owner, ch.key)
        )
        sent = await alice.execute("anyone?", conversation="club")
        assert not sent.ok
        assert sent.data["error"] == "undeliverable" and sent.data["members"] == {ghost: "failed"}
        assert sent.data["conversation"] == cid
        assert conversations(alice) == {cid}  # no whisper to anyone, the channel id included


async def test_a_channel_send_that_raises_is_reported_and_nothing_is_whispered() -> None:
    """Off the ring, the channel's members cannot even be looked up: the error of the layer
    below is the result (it used to be swallowed and the text whispered to the channel id)."""
    from ohtchat.transport.memory import MemoryNetwork

    net = MemoryNetwork()
    alice = await ChatNode.start(options(net, "alice", ["nowhere"]))
    try:
        me = alice.account.account_id
        cid = os.urandom(16).hex()
        alice.store.put_channel(Channel(cid, "club", (me, os.urandom(32).hex()), 0.0, me))
        sent = await asyncio.wait_for(alice.execute("anyone?", conversation="club"), 60)
        assert not sent.ok
        assert sent.data["error"] in ("dht", "ring"), sent.data  # the layer that failed
        assert "contact" not in sent.text
        assert conversations(alice) <= {cid}
    finally:
        await alice.stop()


async def test_text_without_a_conversation_or_to_an_unknown_one() -> None:
    async with memory_ring(["alice"]) as (alice,):
        none = await alice.execute("hello")
        assert none.data["error"] == "no_conversation"
        assert (await alice.call(SendText("", "hello"))).data["error"] == "no_conversation"
        unknown = await alice.execute("hello", conversation="nobody")
        assert unknown.data["error"] == "not_found"
        assert "no contact or channel matches 'nobody'" in unknown.text
        assert conversations(alice) == set()


async def test_concurrent_lines_keep_their_own_conversation() -> None:
    async with memory_ring(["alice", "bob", "carol"]) as (alice, bob, carol):
        a_id = alice.account.account_id
        r1, r2 = await asyncio.gather(
            alice.execute("for bob", conversation=bob.account.account_id),
            alice.execute("for carol", conversation=carol.account.account_id),
        )
        assert r1.ok and r2.ok, (r1.text, r2.text)
        await eventually(lambda: texts(bob, a_id) == ["for bob"], "bob's text")
        await eventually(lambda: texts(carol, a_id) == ["for carol"], "carol's text")
