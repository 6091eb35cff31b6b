"""A minimal peer from the spec: it dials and accepts sessions and serves the ring methods.

As a Chord member (docs/protocol.md §9) it starts as a ring of one and takes whoever notifies
it as predecessor (and, while alone, as successor); it never runs maintenance itself, and with
``member = False`` it is in no ring (``not_member``). As a DHT holder (§10) it has no room:
every entry is refused ``quota``, it holds nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from tests.conformance.minicrypto import Identity, SpecViolation, onion_id
from tests.conformance.minilayers import (
    dist,
    id32,
    in_half_open,
    in_open,
    peer_id,
    peer_ref,
)
from tests.conformance.miniwire import RpcFault, Session, initiate, respond

RING_METHODS = {"find_successor", "get_predecessor", "get_successor_list", "notify", "leave"}
DHT_WRITES = {"dht_store": "recs", "dht_mbox_put": "items", "dht_mbox_delete": "dels"}


class MiniPeer:
    """One node of our own: identity, listener, sessions and a lone-ring Chord state."""

    def __init__(self) -> None:
        self.me = Identity.fresh()
        self.addr = ""
        #: Whether we are in a ring (of one, at first); if not, we answer ``not_member``.
        self.member = True
        self.successors: list[dict[str, Any]] = []
        self.predecessor: dict[str, Any] | None = None
        self.sessions: list[Session] = []
        #: ``hs1.onion`` of every inbound handshake, as the initiator named us.
        self.dialled_as: list[str] = []
        #: Set whenever a peer notifies us (the last call of a Chord stabilize round).
        self.notified = asyncio.Event()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def ref(self) -> dict[str, Any]:
        """Our ``{id, onion, addr}``."""
        return peer_ref(self.me, self.addr)

    def calls(self) -> list[str]:
        """Every method a peer called on us (``_hello`` included), in order, all sessions."""
        return [m for s in self.sessions for m, _ in s.received]

    # ------------------------------------------------------------------ sessions
    async def listen(self) -> str:
        """Accept sessions on 127.0.0.1; our ``host:port``."""
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        host, port = self._server.sockets[0].getsockname()[:2]
        self.addr = f"{host}:{port}"
        return self.addr

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            session, dialled = await respond(reader, writer, self.me)
        except (SpecViolation, asyncio.IncompleteReadError, ConnectionError):
            writer.close()
            raise
        self.dialled_as.append(dialled)
        self.sessions.append(session)
        self._keep(session.start(self.serve))
        await session.closed.wait()

    async def dial(self, addr: str, onion: str) -> Session:
        """A session to ``addr`` naming ``onion`` (``""``: whoever listens); we say ``_hello``
        when we listen."""
        host, port = addr.rsplit(":", 1)
        reader, writer = await asyncio.open_connection(host, int(port))
        session = await initiate(reader, writer, self.me, onion)
        self.sessions.append(session)
        self._keep(session.start(self.serve))
        if self.addr:
            await session.hello(self.addr)
        return session

    def _keep(self, task: asyncio.Task[Any]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        """Stop listening and close every session."""
        if self._server is not None:
            self._server.close()
        for s in self.sessions:
            await s.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5)

    # ------------------------------------------------------------------- serving
    async def serve(self, session: Session, method: str, p: dict[str, Any]) -> dict[str, Any]:
        """Answer one request of the node (the ring methods of the spec)."""
        try:
            if method in DHT_WRITES:
                entries = p[DHT_WRITES[method]]
                return {"res": ["quota"] * len(entries)}
            if method == "dht_fetch":
                return {"rec": None}
            if method == "dht_have":
                return {k: list(range(len(p.get(k, [])))) for k in ("recs", "items", "dels")}
            if method == "dht_mbox_fetch":
                return {"items": [], "more": False}
            return self._chord(session, method, p)
        except (SpecViolation, KeyError, TypeError) as exc:
            raise RpcFault("bad_request", f"{method}: {exc}") from exc

    def _chord(self, session: Session, method: str, p: dict[str, Any]) -> dict[str, Any]:
        me, caller = self.me.id, onion_id(session.peer_onion)
        if method == "ping":
            return {"id": id32(me), "member": self.member}
        if method == "get_peers":
            known = {peer_id(x): x for x in [*self.successors, self.predecessor] if x}
            most = min(p.get("max", 32), 32)
            return {"peers": [x for i, x in known.items() if i not in (me, caller)][:most]}
        if method not in RING_METHODS:
            raise RpcFault("unknown_method", method)
        if not self.member:
            raise RpcFault("not_member", f"{method}: not in a ring")
        if method == "get_predecessor":
            return {"pred": self.predecessor}
        if method == "get_successor_list":
            return {"succs": self.successors}
        if method == "find_successor":
            return self._step(_key(p))
        if method == "notify":
            peer = p["peer"]
            if peer_id(peer) != caller:
                raise RpcFault("bad_request", "field 'peer' must be the caller")
            pred = self.predecessor
            if pred is None or in_open(caller, peer_id(pred), me):
                self.predecessor = peer  # (no ping of an old predecessor: a simplification)
            if not self.successors:
                self.successors = [peer]
            self.notified.set()
            return {}
        return self._leave(caller, p.get("succs") or [], p.get("pred"))

    def _leave(self, caller: int, succs: list[Any], pred: Any) -> dict[str, Any]:
        """§9 ``leave``: the caller's list replaces ours if it was our first successor, its
        predecessor ours if it was our predecessor; then we forget it."""
        me, last, theirs = self.me.id, 0, list[Any]()
        for x in succs:
            if not dist(caller, peer_id(x)) > last:
                raise RpcFault("bad_request", "field 'succs' must be a successor list")
            last = dist(caller, peer_id(x))
        new_pred = None if pred is None or not in_open(peer_id(pred), me, caller) else pred
        last = 0
        for x in succs:  # cut where it wraps back past ourselves
            if not dist(me, peer_id(x)) > last:
                break
            theirs.append(x)
            last = dist(me, peer_id(x))
        if self.successors and peer_id(self.successors[0]) == caller:
            self.successors = theirs or self.successors[1:]
        if self.predecessor and peer_id(self.predecessor) == caller:
            self.predecessor = new_pred
        self.successors = [x for x in self.successors if peer_id(x) != caller]
        return {}

    def _step(self, key: int) -> dict[str, Any]:
        """``find_successor``: done with the list tail from the first entry at or past ``key``,
        else the closest known peers strictly between us and ``key``."""
        me, succs = self.me.id, self.successors
        if not succs or key == me:
            return {"done": True, "peers": [self.ref]}
        if in_half_open(key, me, peer_id(succs[-1])):
            first = next(j for j, x in enumerate(succs) if in_half_open(key, me, peer_id(x)))
            return {"done": True, "peers": succs[first:]}
        closer = [x for x in succs if in_open(peer_id(x), me, key)]
        return {"done": False, "peers": closer[::-1][:8]}


def _key(p: dict[str, Any]) -> int:
    key = p["key"]
    if not isinstance(key, bytes) or len(key) != 32:
        raise SpecViolation("key must be 32 bytes")
    return int.from_bytes(key, "big")
