"""Helpers for ring tests on real TCP sockets with the real handshake (chord, dht, ringcast).

A :class:`TcpRingNode` is an account, a certified node identity, a session pool listening on
127.0.0.1 and a Chord node served on it. Tests add their layer on top (``node.serve(...)``).
Maintenance is driven by hand (:func:`rounds`), so the tests are deterministic — except that
a call can still time out on a loaded machine, so convergence is awaited (:func:`converge`),
never assumed after a fixed number of rounds.
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
from ohtchat.sim.invariants import MemberView, check_invariants, ideal_ring
from ohtchat.transport.tcp import TcpTransport
from tests.waiting import eventually

# Timeouts are generous: on a loaded machine a call that times out looks like a dead peer (a
# resend, a missed replica). Dead peers here refuse connections, so they cost no timeout.
FAST_CHORD = ChordConfig(successors=4, rpc_timeout=10.0, lookup_timeout=30.0)


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
        pool = SessionPool(TcpTransport(), ident, router, connect_timeout=10, handshake_timeout=10)
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
    await converge(nodes)


async def converge(nodes: Iterable[TcpRingNode], timeout: float = 30.0) -> None:
    """Drive rounds until the members' ring is ideal and Zave's invariants hold.

    Usually no round is needed; a call timed out on a loaded machine costs another round.
    Fails (naming the broken invariants) when ``timeout`` seconds pass.
    """
    nodes = list(nodes)

    async def settled() -> bool:
        members = views(x.node for x in nodes)
        problems = check_invariants(members)
        if problems or not ideal_ring(members):
            await rounds(nodes, 1)
            raise AssertionError(f"invariants broken: {problems[:3]}; ideal: {ideal_ring(members)}")
        return True

    await eventually(settled, f"a ring of {len(nodes)} TCP nodes converges", timeout=timeout)


def views(chords: Iterable[ChordNode]) -> dict[int, MemberView]:
    """What Zave's invariant checker needs of each member."""
    return {
        c.me.id: MemberView(
            [p.id for p in c.state.successors],
            c.state.predecessor.id if c.state.predecessor else None,
        )
        for c in chords
    }
