"""What the DHT's operations and maintenance need of their node: a small typed interface.

``ops`` (put / get / mailboxes) and ``maintenance`` (republish, re-replicate, hand-off) are
functions over a :class:`DhtHost` rather than over :class:`~ohtchat.dht.node.Dht` itself, so
they never import the node that calls them (no import cycle) and a test can drive them with
any object of this shape.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from ohtchat.chord.node import ChordNode
from ohtchat.chord.rpc import PeerRef
from ohtchat.crypto.keys import AccountKey
from ohtchat.dht.config import DhtConfig
from ohtchat.dht.holder import Holdings
from ohtchat.dht.metrics import DhtMetrics


@dataclass
class OwnRecord:
    """A record this node wrote, remembered to republish it before it expires."""

    value: bytes
    ttl: int
    seq: int
    expires: int


class DhtHost(Protocol):
    """The node state and calls that DHT operations and maintenance use."""

    chord: ChordNode
    signer: AccountKey | None
    config: DhtConfig
    metrics: DhtMetrics
    holdings: Holdings
    own: dict[bytes, OwnRecord]
    maintain_lock: asyncio.Lock
    rng: random.Random
    sleep: Callable[[float], Awaitable[None]]

    @property
    def me(self) -> PeerRef:
        """This node's ring reference."""
        ...

    def now(self) -> float:
        """Unix time in seconds (the injected clock)."""
        ...

    async def responsible(self, location: int) -> list[PeerRef]:
        """The k nodes that must hold entries at ``location``."""
        ...

    async def call(self, peer: PeerRef, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """One DHT call to ``peer`` (served locally when it is us)."""
        ...
