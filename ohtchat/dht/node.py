"""The DHT of one node: incoming-call handlers, responsible nodes, and the public API.

Outgoing calls go through the Chord node's :meth:`~ohtchat.chord.node.ChordNode.rpc` (its
injected :class:`~ohtchat.chord.rpc.ChordClient`, with a hard timeout and suspicion
bookkeeping), so the same code runs in the simulator and over authenticated sessions.
Incoming calls arrive at :meth:`Dht.handle`. Client operations live in
:mod:`ohtchat.dht.ops`, replica maintenance in :mod:`ohtchat.dht.maintenance`.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from ohtchat.chord.errors import BadReply, BadRequest, ChordError, RpcFailure
from ohtchat.chord.node import ChordNode
from ohtchat.chord.ring import in_half_open
from ohtchat.chord.rpc import PeerRef
from ohtchat.crypto.keys import AccountKey
from ohtchat.dht import maintenance, ops
from ohtchat.dht.config import MAX_KEY, DhtConfig
from ohtchat.dht.errors import BadRecord, DhtUnavailable, RecordRefused
from ohtchat.dht.holder import Holdings
from ohtchat.dht.host import OwnRecord
from ohtchat.dht.mailbox import Deposit, MailboxItem
from ohtchat.dht.metrics import DhtMetrics
from ohtchat.dht.ops import MailboxResult, PutResult
from ohtchat.dht.record import DeleteMarker, Record
from ohtchat.dht.replicas import ReplicaStore
from ohtchat.dht.wire import (
    FETCH,
    HAVE,
    MAX_BATCH,
    MAX_DIGESTS,
    MAX_PAGE_ITEMS,
    MBOX_DELETE,
    MBOX_FETCH,
    MBOX_PUT,
    METHODS,
    STORE,
    bounded_list,
    entries,
    id32,
)

__all__ = ["METHODS", "Dht", "MailboxResult", "PutResult", "ring_handler"]

log = logging.getLogger(__name__)

Handler = Callable[[PeerRef | None, dict[str, Any]], Awaitable[dict[str, Any]]]
SimHandler = Callable[[PeerRef | None, str, dict[str, Any]], Awaitable[dict[str, Any]]]


class Dht:
    """Signed, replicated records and mailboxes on ``chord``'s ring.

    ``signer`` is the account key records are written with (``None``: read-only node that
    still holds replicas for others). ``clock`` gives unix seconds (default ``time.time``);
    ``sleep`` paces the maintenance timers (default the Chord node's).
    """

    def __init__(
        self,
        chord: ChordNode,
        signer: AccountKey | None,
        replicas: ReplicaStore,
        config: DhtConfig | None = None,
        *,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.chord = chord
        self.signer = signer
        self.config = config or DhtConfig()
        self.metrics = DhtMetrics()
        self.holdings = Holdings(replicas, self.config, self.metrics)
        self._clock = clock or time.time
        self.sleep: Callable[[float], Awaitable[None]] = sleep or chord.sleep
        self.rng = rng or random.Random()
        #: Records this node wrote and keeps republishing, by key.
        self.own: dict[bytes, OwnRecord] = {}
        self.maintain_lock = asyncio.Lock()
        self._timers: list[asyncio.Task[Any]] = []
        self._handlers: dict[str, Handler] = {
            STORE: self._on_store,
            FETCH: self._on_fetch,
            HAVE: self._on_have,
            MBOX_PUT: self._on_mbox_put,
            MBOX_FETCH: self._on_mbox_fetch,
            MBOX_DELETE: self._on_mbox_delete,
        }

    def __repr__(self) -> str:
        return f"Dht({self.chord.me})"

    @property
    def me(self) -> PeerRef:
        """This node's ring reference."""
        return self.chord.me

    def now(self) -> float:
        """Unix time in seconds (the injected clock)."""
        return self._clock()

    # ------------------------------------------------------------- public API
    async def put(self, key: str | bytes, value: bytes, ttl: int | None = None) -> PutResult:
        """Sign and store ``value`` under ``key`` on its k responsible nodes."""
        return await ops.put(self, key, value, ttl)

    async def get(self, key: str | bytes) -> Record | None:
        """The newest valid record under ``key``, or ``None`` (absent, expired or deleted)."""
        return await ops.get(self, key)

    async def delete(self, key: str | bytes) -> int:
        """Store a signed tombstone for our own ``key``; returns on how many nodes."""
        return await ops.delete(self, key)

    async def mailbox_put(
        self,
        recipient_account_id: str,
        item: bytes,
        ttl: int | None = None,
        deposit: Deposit | None = None,
    ) -> MailboxResult:
        """Append an opaque sealed item to a recipient's mailbox, signed with ``deposit``
        (default: this account's derived, unticketed deposit key for that mailbox)."""
        return await ops.mailbox_put(self, recipient_account_id, item, ttl, deposit)

    async def mailbox_fetch(self, recipient_account_id: str) -> list[tuple[bytes, bytes]]:
        """Every item of a mailbox from all its replicas: ``(item id, item)``, deduplicated."""
        return await ops.mailbox_fetch(self, recipient_account_id)

    async def mailbox_delete(self, account: AccountKey, item_ids: Sequence[bytes]) -> int:
        """Delete items from ``account``'s own mailbox; returns how many nodes accepted all."""
        return await ops.mailbox_delete(self, account, item_ids)

    async def maintain(self) -> None:
        """One maintenance pass: purge, republish, re-replicate and hand off."""
        await maintenance.maintain(self)

    def start(self) -> None:
        """Start the jittered maintenance timer (and the hand-off watch on the predecessor)."""
        if not self._timers:
            self._timers = [asyncio.get_running_loop().create_task(maintenance.run_timer(self))]

    async def stop(self) -> None:
        """Cancel the timer."""
        tasks, self._timers = self._timers, []
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # ------------------------------------------------------- responsible nodes
    async def responsible(self, location: int) -> list[PeerRef]:
        """The k nodes that must hold entries at ``location``: its owner and successors."""
        st = self.chord.state
        pred = st.predecessor
        if self.chord.member and (
            not st.successors or (pred is not None and in_half_open(location, pred.id, self.me.id))
        ):
            owner, succs = self.me, list(st.successors)
        else:
            try:
                owner = (await self.chord.lookup(location)).owner
            except ChordError as exc:
                raise DhtUnavailable(f"lookup failed: {exc}") from exc
            succs = []
            if owner.id == self.me.id:
                succs = list(st.successors)
            else:
                try:
                    succs = await self.chord.get_successor_list(owner)
                except BadReply:
                    self.metrics.bad_replies += 1
                except RpcFailure:
                    self.metrics.failed_calls += 1
        out: dict[int, PeerRef] = {}
        for p in [owner, *succs]:
            out.setdefault(p.id, p)
        return list(out.values())[: self.config.replicas]

    async def call(self, peer: PeerRef, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """One DHT call (served locally when ``peer`` is us); :class:`RpcFailure` on failure."""
        if peer.id == self.me.id:
            try:
                return await self.handle(self.me, method, params)
            except BadRequest as exc:
                raise RpcFailure(f"local {method}: {exc}") from exc
        try:
            return await self.chord.rpc(peer, method, params, self.config.rpc_timeout)
        except (RpcFailure, BadReply) as exc:
            self.metrics.failed_calls += 1
            raise RpcFailure(str(exc)) from exc

    # ---------------------------------------------------------- incoming calls
    async def handle(
        self, caller: PeerRef | None, method: str, params: dict[str, Any]
    ) -> dict[str, Any]:
        """Serve one incoming DHT call; :class:`BadRequest` on anything malformed."""
        handler = self._handlers.get(method) if isinstance(method, str) else None
        if handler is None or not isinstance(params, dict):
            self.metrics.bad_requests += 1
            raise BadRequest(f"unknown method or bad params: {str(method)[:40]!r}")
        try:
            return await handler(caller, params)
        except BadRecord as exc:
            self.metrics.bad_requests += 1
            raise BadRequest(str(exc)) from exc

    def _apply(self, entries: list[Any], accept: Callable[[Any, float], bool]) -> dict[str, Any]:
        now = self.now()
        res: list[str | None] = []
        for e in entries:
            try:
                accept(e, now)
                res.append(None)
            except RecordRefused as exc:
                res.append(exc.code)
        return {"res": res}

    async def _on_store(self, caller: PeerRef | None, params: dict[str, Any]) -> dict[str, Any]:
        recs = entries(params, "recs", MAX_BATCH, _record)
        return self._apply(recs, self.holdings.accept_record)

    async def _on_fetch(self, caller: PeerRef | None, params: dict[str, Any]) -> dict[str, Any]:
        key = params.get("key")
        if not isinstance(key, bytes) or not 1 <= len(key) <= MAX_KEY:
            raise BadRecord(f"field 'key' must be 1..{MAX_KEY} bytes (bin)")
        rec = self.holdings.record(key, self.now())
        return {"rec": None if rec is None else rec.to_wire()}

    async def _on_have(self, caller: PeerRef | None, params: dict[str, Any]) -> dict[str, Any]:
        h = self.holdings
        kinds = {"recs": "r", "items": "m", "dels": "x"}
        return {
            name: h.wanted(kind, bounded_list(params, name, MAX_DIGESTS, False), name)
            for name, kind in kinds.items()
        }

    async def _on_mbox_put(self, caller: PeerRef | None, params: dict[str, Any]) -> dict[str, Any]:
        items = entries(params, "items", MAX_BATCH, MailboxItem.from_wire)
        return self._apply(items, self.holdings.accept_item)

    async def _on_mbox_fetch(
        self, caller: PeerRef | None, params: dict[str, Any]
    ) -> dict[str, Any]:
        mbox = id32(params, "mbox")
        after = id32(params, "after", optional=True)
        assert mbox is not None
        out: list[dict[str, Any]] = []
        budget = self.config.batch_bytes - 1024
        more = False
        for item in self.holdings.mailbox(mbox, self.now()):
            if after is not None and item.item_id <= after:
                continue
            if out and (budget < item.size or len(out) >= MAX_PAGE_ITEMS):
                more = True
                break
            budget -= item.size
            out.append(item.to_wire())
        return {"items": out, "more": more}

    async def _on_mbox_delete(
        self, caller: PeerRef | None, params: dict[str, Any]
    ) -> dict[str, Any]:
        dels = entries(params, "dels", MAX_BATCH, DeleteMarker.from_wire)
        return self._apply(dels, self.holdings.accept_marker)


def _record(obj: object, where: str) -> Record:
    return Record.from_wire(obj, where=where)


def ring_handler(chord: ChordNode, dht: Dht) -> SimHandler:
    """One incoming-call handler serving both the Chord and the DHT methods of a node."""

    async def handle(caller: PeerRef | None, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if isinstance(method, str) and method.startswith("dht_"):
            return await dht.handle(caller, method, params)
        return await chord.handle(caller, method, params)

    return handle
