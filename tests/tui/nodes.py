"""Real nodes for the client tests, in-process on the in-memory network.

Every node here is a real :class:`~ohtchat.app.node.ChatNode` (store in memory, sessions with
the real handshake, ring, DHT, ringcast and chat) on a :class:`MemoryNetwork` instead of TCP:
no sockets, so a two- or three-node ring starts in milliseconds. Relations between them
(contacts, channels, messages) are made with the same typed operations a UI would call, and
every wait is bounded (:func:`tests.waiting.eventually`), never a fixed sleep.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

from ohtchat.api.events import NodeEvent
from ohtchat.api.ops import (
    AddContact,
    CreateChannel,
    JoinChannel,
    ListChannels,
    ListContacts,
    Operation,
    RequestContact,
)
from ohtchat.api.results import CommandResult
from ohtchat.api.views import ChannelList, ContactList
from ohtchat.app.node import ChatNode, NodeOptions
from ohtchat.transport.memory import MemoryNetwork
from tests.chat.ringnodes import FAST_CHORD, FAST_DHT, RING_DEADLINE, settle
from tests.waiting import eventually


def memory_options(
    net: MemoryNetwork, name: str, bootstrap: Iterable[str] = (), **changes: Any
) -> NodeOptions:
    """A fast test node on ``net`` (``changes`` override fields, e.g. ``listen``)."""
    return NodeOptions(
        memory=True,
        transport="memory",
        memory_network=net,
        name=name,
        bootstrap=list(bootstrap),
        chord=FAST_CHORD,
        dht=FAST_DHT,
        heartbeat_interval=0.5,
        mailbox_interval=0.5,
        join_retry=0.5,
        deliver_timeout=10.0,
        **changes,
    )


async def start_node(
    net: MemoryNetwork, name: str, bootstrap: Iterable[str] = (), **changes: Any
) -> ChatNode:
    """One node on ``net``, not waited for: it joins through ``bootstrap`` in the background
    (without one it creates a ring)."""
    return await ChatNode.start(memory_options(net, name, bootstrap, **changes))


@asynccontextmanager
async def memory_ring(*names: str) -> AsyncIterator[list[ChatNode]]:
    """One real node per name on a fresh memory network: the first creates the ring, the
    others join through it. Yields once the ring is exact and every node finds every other's
    presence; stops every node however the test ends."""
    net = MemoryNetwork()
    nodes: list[ChatNode] = []
    try:
        for name in names:
            seed = [nodes[0].listener.address] if nodes else []
            nodes.append(await start_node(net, name, seed))
        for node in nodes:
            await node.ready(RING_DEADLINE)
        await settle(nodes)
        yield nodes
    finally:
        for node in nodes:
            await node.stop()


async def ok(node: ChatNode, op: Operation) -> CommandResult:
    """Run ``op`` on ``node``; the test fails when it does."""
    result = await node.call(op)
    assert result.ok, (op, result.text)
    return result


async def contact_state(node: ChatNode, account_id: str) -> str | None:
    """The state of ``account_id`` among ``node``'s contacts (None: not a contact)."""
    view = (await ok(node, ListContacts())).view
    assert isinstance(view, ContactList)
    return next((str(c.state) for c in view.contacts if c.account_id == account_id), None)


async def befriend(a: ChatNode, b: ChatNode) -> None:
    """``a`` requests ``b`` (no message), ``b`` accepts: contacts of each other."""
    a_id, b_id = a.account.account_id, b.account.account_id
    await ok(a, RequestContact(b_id))

    async def requested() -> bool:
        return await contact_state(b, a_id) == "requested"

    await eventually(requested, f"{b.account.name} got {a.account.name}'s request")
    await ok(b, AddContact(a_id))

    async def accepted() -> bool:
        return await contact_state(a, b_id) == "accepted"

    await eventually(accepted, f"{b.account.name} accepted {a.account.name}")


async def channel_members(node: ChatNode, channel_id: str) -> tuple[str, ...]:
    """The members of ``channel_id`` as ``node`` knows them (empty: not in it)."""
    view = (await ok(node, ListChannels())).view
    assert isinstance(view, ChannelList)
    return next((c.members for c in view.channels if c.channel_id == channel_id), ())


async def shared_channel(owner: ChatNode, name: str, *others: ChatNode) -> str:
    """A channel ``owner`` creates and ``others`` join; its id once everyone knows everyone."""
    created = await ok(owner, CreateChannel(name))
    channel_id = str(created.data["channel_id"])
    for node in others:
        await ok(node, JoinChannel(channel_id))
    everyone = {n.account.account_id for n in (owner, *others)}

    async def complete() -> bool:
        for node in (owner, *others):
            assert set(await channel_members(node, channel_id)) == everyone, node.account.name
        return True

    await eventually(complete, f"every member of {name} knows the others")
    return channel_id


class Recorder:
    """A backend in front of a real node that records what the client asks of it: typed
    operations (``called``) and command lines (``executed``, with their conversation)."""

    def __init__(self, node: ChatNode) -> None:
        self.node = node
        self.called: list[Operation] = []
        self.executed: list[tuple[str, str | None]] = []

    async def call(self, op: Operation) -> CommandResult:
        self.called.append(op)
        return await self.node.call(op)

    async def execute(self, line: str, conversation: str | None = None) -> CommandResult:
        self.executed.append((line, conversation))
        return await self.node.execute(line, conversation)

    def events(self) -> AsyncIterator[NodeEvent]:
        return self.node.events()

    async def complete(self, line: str, cursor: int) -> list[str]:
        return await self.node.complete(line, cursor)
