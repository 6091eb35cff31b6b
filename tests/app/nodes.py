"""Real ChatNodes on the in-memory transport, for the app layer's tests: one process, no
sockets, no disk. Nothing sleeps for a result: :func:`memory_ring` returns once the ring is
exact and every node finds every other's presence."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from ohtchat.app.node import ChatNode, NodeOptions
from ohtchat.chat.presence import parse_presence, presence_key
from ohtchat.chord.config import ChordConfig
from ohtchat.dht.config import DhtConfig
from ohtchat.transport.memory import MemoryNetwork
from tests.waiting import eventually

FAST_CHORD = ChordConfig(
    successors=4,
    rpc_timeout=3.0,
    lookup_timeout=15.0,
    stabilize_interval=0.2,
    check_predecessor_interval=0.5,
    fix_fingers_interval=0.2,
)
FAST_DHT = DhtConfig(rpc_timeout=3.0, maintain_interval=1.0)
# Ring convergence on a loaded machine gets a longer deadline.
RING_DEADLINE = 90.0


def options(net: MemoryNetwork, name: str, bootstrap: list[str], **changes: Any) -> NodeOptions:
    """A fast in-memory node called ``name`` (also its address on ``net``)."""
    fields: dict[str, Any] = {
        "memory": True,
        "transport": "memory",
        "memory_network": net,
        "listen": name,
        "bootstrap": bootstrap,
        "name": name,
        "chord": FAST_CHORD,
        "dht": FAST_DHT,
        "heartbeat_interval": 0.5,
        "mailbox_interval": 0.5,
        "join_retry": 0.5,
        "deliver_timeout": 10.0,
        **changes,
    }
    return NodeOptions(**fields)


def ring_is_exact(nodes: list[ChatNode]) -> bool:
    """Every node's successor is the next id and its predecessor the previous one."""
    if len(nodes) == 1:
        return nodes[0].chord.member
    ids = sorted(n.chord.me.id for n in nodes)
    for n in nodes:
        i = ids.index(n.chord.me.id)
        st = n.chord.state
        succ = st.successors[0].id if st.successors else None
        pred = st.predecessor.id if st.predecessor is not None else None
        if not n.chord.member or succ != ids[(i + 1) % len(ids)] or pred != ids[i - 1]:
            return False
    return True


async def finds(node: ChatNode, other: ChatNode) -> bool:
    """Whether ``node`` finds ``other``'s current presence in the DHT."""
    acct = other.account.account_id
    try:
        record = await node.dht.get(presence_key(acct))
    except Exception:  # the DHT's own errors while the ring settles: not found yet
        return False
    if record is None:
        return False
    p = parse_presence(acct, record.owner, record.value, node.chat.now())
    return p.onion == other.identity.onion


async def settle(nodes: list[ChatNode]) -> None:
    """Wait until the ring is exact and every node finds every other's presence."""
    await eventually(lambda: ring_is_exact(nodes), "an exact ring", RING_DEADLINE)
    for n in nodes:
        await n.chat.publish_presence()

    async def all_found() -> bool:
        return all([await finds(a, b) for a in nodes for b in nodes if a is not b])

    await eventually(all_found, "every presence found", RING_DEADLINE)


@asynccontextmanager
async def memory_ring(names: list[str], **changes: Any) -> AsyncIterator[list[ChatNode]]:
    """One node per name on one memory network (the first creates the ring, the others join
    through it), settled; all stopped on exit."""
    net = MemoryNetwork()
    nodes: list[ChatNode] = []
    try:
        for i, name in enumerate(names):
            seed = [names[0]] if i else []
            nodes.append(await ChatNode.start(options(net, name, seed, **changes)))
        for n in nodes:
            await n.ready(RING_DEADLINE)
        await settle(nodes)
        yield nodes
    finally:
        for n in nodes:
            await n.stop()
