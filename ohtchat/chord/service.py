"""The console-facing API of a node: one method per command, returning plain dataclasses.

``/create`` ``/connect ADDR`` ``/peers`` ``/successor`` ``/predecessor`` ``/ftable``
``/lookup ID`` ``/ping ADDR`` — the TUI and the command line call these and render results.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ohtchat.chord.errors import NotInRing
from ohtchat.chord.node import ChordNode
from ohtchat.chord.rpc import PeerRef
from ohtchat.crypto.ids import parse_id


@dataclass(frozen=True)
class RingInfo:
    """This node's place in the ring."""

    me: PeerRef
    member: bool
    successor: PeerRef | None
    predecessor: PeerRef | None
    successors: tuple[PeerRef, ...]


@dataclass(frozen=True)
class FingerInfo:
    """Finger indices ``first..last`` (targets from ``start``) all point at ``peer``."""

    first: int
    last: int
    start: int
    peer: PeerRef


@dataclass(frozen=True)
class LookupInfo:
    """Who owns ``key``, and how many hops and messages it took."""

    key: int
    owner: PeerRef
    hops: int
    messages: int
    seconds: float


@dataclass(frozen=True)
class PingInfo:
    """A peer answered a ping after ``seconds``."""

    peer: PeerRef
    seconds: float


class ChordService:
    """Commands over one :class:`ChordNode`; ``bootstrap`` addresses come from config/CLI."""

    def __init__(self, node: ChordNode, bootstrap: Sequence[str] = ()) -> None:
        self.node = node
        self.bootstrap = list(bootstrap)

    def info(self) -> RingInfo:
        """Current ring position."""
        st = self.node.state
        succ = st.successor if self.node.member else None
        if self.node.member and succ is None:
            succ = self.node.me  # alone: we are our own successor
        return RingInfo(self.node.me, self.node.member, succ, st.predecessor, tuple(st.successors))

    async def create(self) -> RingInfo:
        """``/create``: start a new ring alone and run maintenance."""
        self.node.create()
        self.node.start()
        return self.info()

    async def connect(self, address: str | None = None) -> RingInfo:
        """``/connect ADDR``: join through ``address``, or else through bootstrap addresses
        and cached peers in turn; then run maintenance."""
        cands: list[PeerRef | str] = (
            [address] if address else [*self.bootstrap, *self.node.peer_cache.peers()]
        )
        await self.node.join_any(cands)
        self.node.start()
        return self.info()

    def peers(self) -> list[PeerRef]:
        """``/peers``: every distinct peer we route through or cached, nearest first."""
        seen: dict[int, PeerRef] = {}
        pred = self.node.state.predecessor
        for p in (
            *self.node.state.known(),
            *([pred] if pred else []),
            *self.node.peer_cache.peers(),
        ):
            seen.setdefault(p.id, p)
        return list(seen.values())

    def successor(self) -> PeerRef | None:
        """``/successor``."""
        return self.info().successor

    def predecessor(self) -> PeerRef | None:
        """``/predecessor``."""
        return self.node.state.predecessor

    def ftable(self) -> list[FingerInfo]:
        """``/ftable``: distinct fingers with the index ranges they cover."""
        return [FingerInfo(r.first, r.last, r.start, r.peer) for r in self.node.state.finger_rows()]

    async def lookup(self, ident: str | int) -> LookupInfo:
        """``/lookup ID``: the owner of a 64-hex-digit id (or an int)."""
        if not self.node.member:
            raise NotInRing("create or connect to a ring first")
        key = parse_id(ident) if isinstance(ident, str) else ident
        t0 = self.node.now()
        res = await self.node.lookup(key)
        return LookupInfo(key, res.owner, res.hops, res.messages, self.node.now() - t0)

    async def ping(self, address: str) -> PingInfo:
        """``/ping ADDR``: round trip to whoever holds ``address``."""
        t0 = self.node.now()
        peer = await self.node.client.identify(address, self.node.config.rpc_timeout)
        await self.node.ping(peer)
        return PingInfo(peer, self.node.now() - t0)
