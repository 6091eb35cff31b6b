"""Helpers for ring tests on real TCP sockets with the real handshake (chord, dht, ringcast).

A :class:`TcpRingNode` is an account, a certified node identity, a session pool listening on
127.0.0.1 and a Chord node served on it. Tests add their layer on top (``node.serve(...)``).
Maintenance is driven by hand (:func:`rounds`), so the tests are deterministic.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ohtchat.chord.config import ChordConfig
from ohtchat.chord.node import ChordNode
from ohtchat.chord.rpc import PeerRef
from ohtchat.chord.service import ChordService
from ohtchat.chord.session_client import SessionChordClient, serve_chord
from ohtchat.crypto.keys import AccountKey
from ohtchat.session.identity import NodeIdentity
from ohtchat.session.pool import SessionPool
from ohtchat.session.router import Router
from ohtchat.sim.invariants import MemberView
from ohtchat.transport.tcp import TcpTransport

FAST_CHORD = ChordConfig(successors=4, rpc_timeout=3.0, lookup_timeout=20.0)


@dataclass
class TcpRingNode:
    """One node of a TCP test ring."""

    account: AccountKey
    identity: NodeIdentity
    router: Router
    pool: SessionPool
    node: ChordNode
    service: ChordService
    layers: list[Any] = field(default_factory=list)  # stopped (``await x.stop()``) on kill

    @classmethod
    async def start(cls, config: ChordConfig = FAST_CHORD) -> TcpRingNode:
        account = AccountKey()
        ident = NodeIdentity.create(account, int(time.time()))
        router = Router()
        pool = SessionPool(TcpTransport(), ident, router, connect_timeout=3, handshake_timeout=5)
        listener = await pool.listen("127.0.0.1:0")
        pool.advertise = listener.address
        me = PeerRef(ident.node_id, ident.onion, listener.address)
        node = ChordNode(me, SessionChordClient(pool), config, rng=random.Random(ident.node_id))
        serve_chord(router, pool, node)
        return cls(account, ident, router, pool, node, ChordService(node))

    async def kill(self) -> None:
        for layer in self.layers:
            await layer.stop()
        await self.node.stop()
        await self.pool.close()


async def rounds(nodes: Iterable[TcpRingNode], n: int) -> None:
    """``n`` rounds of check_predecessor + stabilize on every node, then every finger."""
    nodes = list(nodes)
    for _ in range(n):
        for x in nodes:
            await x.node.check_predecessor()
            await x.node.stabilize()
    for x in nodes:
        await x.node.fix_all_fingers()


async def form_ring(nodes: list[TcpRingNode]) -> None:
    """The first node creates a ring; the others join by ``host:port`` one by one."""
    await nodes[0].service.create()
    await nodes[0].node.stop()  # maintenance is driven by hand, deterministically
    for k, x in enumerate(nodes[1:], start=2):
        # Bootstrap by host:port only: the handshake tells the joiner who answers there.
        info = await x.service.connect(nodes[0].pool.listen_address)
        assert info.member
        await x.node.stop()
        await rounds(nodes[:k], 1)
    await rounds(nodes, 3)


def views(chords: Iterable[ChordNode]) -> dict[int, MemberView]:
    """What Zave's invariant checker needs of each member."""
    return {
        c.me.id: MemberView(
            [p.id for p in c.state.successors],
            c.state.predecessor.id if c.state.predecessor else None,
        )
        for c in chords
    }
