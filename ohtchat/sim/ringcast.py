"""Ringcast on a simulated ring: one :class:`Ringcast` per node of a :class:`SimRing`.

Each node's simulated handler becomes a composite that routes ``ringcast_*`` methods to its
:class:`Ringcast` and everything else to its :class:`ChordNode`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Any

from ohtchat.chord.node import ChordNode
from ohtchat.chord.rpc import PeerRef
from ohtchat.crypto.keys import AccountKey
from ohtchat.ringcast.config import RingcastConfig
from ohtchat.ringcast.message import Broadcast
from ohtchat.ringcast.node import METHODS, Ringcast
from ohtchat.sim.harness import SimRing
from ohtchat.sim.network import SimHandler


def composite_handler(node: ChordNode, rc: Ringcast) -> SimHandler:
    """A handler serving ringcast methods with ``rc`` and the rest with ``node``."""

    async def handle(caller: PeerRef | None, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method in METHODS:
            return await rc.handle(caller, method, params)
        return await node.handle(caller, method, params)

    return handle


def attach_ringcast(
    ring: SimRing,
    nodes: Iterable[ChordNode],
    config: RingcastConfig | None = None,
    *,
    clock: Callable[[], float] | None = None,
    inbox: dict[int, list[Broadcast]] | None = None,
) -> dict[int, Ringcast]:
    """Give each node a :class:`Ringcast` (fresh account key) wired into the network.

    With ``inbox``, every delivery is appended to ``inbox[node id]``.
    """
    out: dict[int, Ringcast] = {}
    for node in nodes:
        rc = Ringcast(node, AccountKey(), config, clock=clock)
        if inbox is not None:
            box = inbox.setdefault(node.me.id, [])
            rc.on_deliver = box.append
        ring.net.set_handler(node.me.address, composite_handler(node, rc))
        out[node.me.id] = rc
    return out


async def drain_all(rcs: Iterable[Ringcast]) -> None:
    """Wait until no node has a relay or callback running (relays spawn further relays)."""
    nodes = list(rcs)
    while any(rc.busy for rc in nodes):
        await asyncio.gather(*(rc.drain() for rc in nodes))
