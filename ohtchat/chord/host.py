"""What ring maintenance needs of its node: a small typed interface.

:mod:`ohtchat.chord.maintenance` (join, stabilize, rectify, fix_fingers, leave) is a set of
functions over a :class:`ChordHost` rather than over :class:`~ohtchat.chord.node.ChordNode`, so
it never imports the node that calls it (no import cycle), like :mod:`ohtchat.chord.lookup`.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, Protocol

from ohtchat.chord.adaptive import Hints, Pace
from ohtchat.chord.config import ChordConfig
from ohtchat.chord.errors import BadReply
from ohtchat.chord.lookup import LookupResult
from ohtchat.chord.metrics import ChordMetrics
from ohtchat.chord.peers import PeerCache
from ohtchat.chord.recursive import ForwardGate
from ohtchat.chord.rpc import ChordClient, PeerRef
from ohtchat.chord.state import RoutingState


class ChordHost(Protocol):
    """The node state, outgoing calls and timers that maintenance uses."""

    me: PeerRef
    client: ChordClient
    config: ChordConfig
    rng: random.Random
    sleep: Callable[[float], Awaitable[None]]
    state: RoutingState
    metrics: ChordMetrics
    peer_cache: PeerCache
    member: bool
    next_finger: int
    rectify_task: asyncio.Task[Any] | None
    stabilize_lock: asyncio.Lock
    pace: Pace
    hints: Hints
    gate: ForwardGate

    def now(self) -> float:
        """The node's clock."""
        ...

    def suspected(self, peer_id: int) -> bool:
        """True while ``peer_id`` is presumed dead after a failed call."""
        ...

    def count_bad(self, exc: BadReply) -> None:
        """Count a discarded reply by kind."""
        ...

    def set_predecessor(self, peer: PeerRef | None) -> None:
        """Change the predecessor (counted)."""
        ...

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run a background task owned by the node."""
        ...

    def warm(self, peer: PeerRef) -> bool:
        """True when a call to ``peer`` needs no dial."""
        ...

    def absolve(self, peer_id: int) -> None:
        """Stop suspecting ``peer_id``."""
        ...

    async def rpc(
        self,
        peer: PeerRef,
        method: str,
        params: dict[str, Any],
        timeout: float | None = None,
        *,
        budget: float | None = None,
    ) -> dict[str, Any]:
        """Call ``peer`` with a hard timeout (``budget`` caps it); failures mark it suspected."""
        ...

    async def ping(self, peer: PeerRef, timeout: float | None = None) -> None:
        """Raise unless ``peer`` answers as itself."""
        ...

    async def get_predecessor(
        self, peer: PeerRef, timeout: float | None = None, *, budget: float | None = None
    ) -> PeerRef | None:
        """``peer``'s predecessor (validated)."""
        ...

    async def get_successor_list(self, peer: PeerRef) -> list[PeerRef]:
        """``peer``'s successor list (validated)."""
        ...

    async def get_peers(self, peer: PeerRef, limit: int = ...) -> list[PeerRef]:
        """Peer exchange with ``peer``."""
        ...

    async def lookup(self, key: int, start: Sequence[PeerRef] | None = None) -> LookupResult:
        """The live successor of ``key``."""
        ...

    async def join_any(self, candidates: Sequence[PeerRef | str]) -> PeerRef:
        """Join through the first candidate that works."""
        ...

    def create(self) -> None:
        """Start a new ring with this node alone in it."""
        ...

    async def stabilize(self) -> None:
        """One stabilize round."""
        ...

    async def check_predecessor(self) -> None:
        """Forget a dead predecessor."""
        ...

    async def fix_fingers(self) -> None:
        """Refresh one finger."""
        ...

    async def stop(self) -> None:
        """Stop timers and background tasks."""
        ...
