"""An in-process network implementing :class:`ohtchat.chord.rpc.ChordClient`.

Latency, message loss, crashes and partitions are simulated; calls to a node that is down,
cut off or whose message is lost take their full timeout (as an unanswered onion-service
call would) and raise :class:`RpcTimeout`. A call reaches a node only if the node registered
at ``peer.address`` really holds ``peer.onion`` — the authentication the session layer
gives on real transports. Params and replies go through msgpack, so only plain data
crosses, as on the wire.

With a :class:`~ohtchat.sim.tormodel.TorModel` the network models onion sessions: a call
between nodes without an open session first waits for a cold connect
(:class:`~ohtchat.sim.tormodel.Links`), and the one-way latency is half the model's round trip.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import msgpack

from ohtchat.chord.errors import ChordError, RemoteRefusal, RpcFailure, RpcTimeout
from ohtchat.chord.rpc import PeerRef
from ohtchat.sim.tormodel import Links, TorModel

SimHandler = Callable[[PeerRef | None, str, dict[str, Any]], Awaitable[dict[str, Any]]]


@dataclass
class SimStats:
    """Traffic counters of the whole simulated network."""

    calls: int = 0
    delivered: int = 0
    lost: int = 0
    unreachable: int = 0


@dataclass
class _Host:
    ref: PeerRef
    handler: SimHandler
    up: bool = True
    group: int = 0


class SimNetwork:
    """Nodes by address; one-way latency drawn uniformly from ``latency``."""

    def __init__(
        self,
        rng: random.Random | None = None,
        latency: tuple[float, float] = (0.05, 0.25),
        loss: float = 0.0,
        serialize: bool = True,
        tor: TorModel | None = None,
    ) -> None:
        if not 0 <= latency[0] <= latency[1] or not 0 <= loss < 1:
            raise ValueError("latency must be 0 <= lo <= hi and loss in [0, 1)")
        self.rng = rng or random.Random()
        self.latency = latency if tor is None else tor.one_way()
        #: Open sessions and dials, when a Tor model is given.
        self.links = (
            None if tor is None else Links(tor, random.Random(self.rng.random()), _loop_time)
        )
        self.loss = loss
        self.serialize = serialize
        self.stats = SimStats()
        self._hosts: dict[str, _Host] = {}
        #: Called as every call enters the network (a test checks invariants there).
        self.on_call: Callable[[], None] | None = None

    # ------------------------------------------------------------- topology
    def register(self, ref: PeerRef, handler: SimHandler) -> SimClient:
        """Attach a node (its incoming-call handler) at ``ref.address``; returns its client."""
        self._hosts[ref.address] = _Host(ref, handler)
        return SimClient(self, ref)

    def set_handler(self, address: str, handler: SimHandler) -> None:
        """Replace the incoming-call handler of a node (e.g. with a misbehaving one)."""
        self._hosts[address].handler = handler

    def crash(self, address: str) -> None:
        """Stop a node answering (and calling) — a crash, without notice."""
        self._hosts[address].up = False
        if self.links is not None:
            self.links.drop_node(address)

    def revive(self, address: str) -> None:
        """Bring a crashed node back (same state, as after a network outage)."""
        self._hosts[address].up = True

    def remove(self, address: str) -> None:
        """Forget a node entirely."""
        self._hosts.pop(address, None)
        if self.links is not None:
            self.links.drop_node(address)

    def is_up(self, address: str) -> bool:
        """True if a node is registered at ``address`` and not crashed."""
        h = self._hosts.get(address)
        return h is not None and h.up

    def partition(self, groups: dict[str, int]) -> None:
        """Assign nodes to groups; only nodes of the same group can talk."""
        for addr, g in groups.items():
            self._hosts[addr].group = g

    def heal(self) -> None:
        """Undo every partition."""
        for h in self._hosts.values():
            h.group = 0

    # ---------------------------------------------------------------- calls
    def _delay(self) -> float:
        lo, hi = self.latency
        return lo if lo == hi else self.rng.uniform(lo, hi)

    def _copy(self, data: dict[str, Any]) -> Any:
        if not self.serialize:
            return data
        return msgpack.unpackb(msgpack.packb(data, use_bin_type=True), raw=False)

    async def deliver(
        self, src: PeerRef, peer: PeerRef, method: str, params: dict[str, Any], timeout: float
    ) -> dict[str, Any]:
        """Carry one call from ``src`` to ``peer`` and its reply back."""
        self.stats.calls += 1
        if self.on_call is not None:
            self.on_call()
        me = self._hosts.get(src.address)
        if me is not None and not me.up:
            raise RpcFailure("local node is down")
        dst = self._hosts.get(peer.address)

        def reachable() -> bool:
            d = self._hosts.get(peer.address)
            return d is not None and d.up and (me is None or me.group == d.group)

        if self.links is not None and reachable():
            await self.links.ensure(src.address, peer.address, reachable)
            self.links.touch(src.address, peer.address)
            dst = self._hosts.get(peer.address)
        if dst is None or not reachable():
            self.stats.unreachable += 1
            await asyncio.sleep(timeout)
            raise RpcTimeout(f"{peer} unreachable")
        if dst.ref.onion != peer.onion:
            await asyncio.sleep(self._delay())
            raise RpcFailure(f"{peer.address} is not {peer.onion}: authentication failed")
        if self.rng.random() < self.loss:
            self.stats.lost += 1
            await asyncio.sleep(timeout)
            raise RpcTimeout("request lost")
        await asyncio.sleep(self._delay())
        try:
            reply = await dst.handler(src, method, self._copy(params))
        except ChordError as exc:
            raise RemoteRefusal(f"remote error: {exc}") from exc
        await asyncio.sleep(self._delay())
        if not dst.up or (self.loss and self.rng.random() < self.loss):
            self.stats.lost += 1
            await asyncio.sleep(timeout)
            raise RpcTimeout("reply lost")
        self.stats.delivered += 1
        result: dict[str, Any] = self._copy(reply)
        return result

    async def identify(self, address: str, timeout: float, src: str | None = None) -> PeerRef:
        """Whoever is reachable at ``address`` (dialled from ``src`` under a Tor model)."""
        h = self._hosts.get(address)
        if h is None or not h.up:
            await asyncio.sleep(timeout)
            raise RpcTimeout(f"{address} unreachable")
        if self.links is not None and src is not None:
            await self.links.ensure(src, address, lambda: self.is_up(address))
        await asyncio.sleep(2 * self._delay())
        return h.ref


class SimClient:
    """The :class:`~ohtchat.chord.rpc.ChordClient` of one simulated node."""

    def __init__(self, net: SimNetwork, me: PeerRef) -> None:
        self.net = net
        self.me = me

    async def call(
        self, peer: PeerRef, method: str, params: dict[str, Any], timeout: float
    ) -> dict[str, Any]:
        """Send one call through the simulated network."""
        return await self.net.deliver(self.me, peer, method, params, timeout)

    async def identify(self, address: str, timeout: float) -> PeerRef:
        """Resolve an address to the node there."""
        return await self.net.identify(address, timeout, self.me.address)

    def is_warm(self, peer: PeerRef) -> bool:
        """True when no dial is needed to call ``peer`` (always, without a Tor model)."""
        links = self.net.links
        return links is None or links.is_open(self.me.address, peer.address)


def _loop_time() -> float:
    return asyncio.get_running_loop().time()
