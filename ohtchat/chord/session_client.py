"""Binds a :class:`~ohtchat.chord.node.ChordNode` to authenticated, pooled sessions.

Outgoing: :class:`SessionChordClient` implements :class:`~ohtchat.chord.rpc.ChordClient` over a
:class:`~ohtchat.session.pool.SessionPool`. Incoming: :func:`serve_chord` routes the Chord
methods of a :class:`~ohtchat.session.router.Router` to the node, naming the caller by the
onion address its handshake proved (and the listen address it advertised, in TCP mode).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from ohtchat.chord.errors import BadRequest, RemoteRefusal, RpcFailure
from ohtchat.chord.errors import RpcTimeout as ChordRpcTimeout
from ohtchat.chord.node import ChordNode
from ohtchat.chord.rpc import METHODS, PeerRef
from ohtchat.session.identity import PeerIdentity
from ohtchat.session.pool import SessionPool
from ohtchat.session.router import Router
from ohtchat.session.rpc import PeerUnreachable, RpcError, RpcTimeout
from ohtchat.wire.envelope import Fields
from ohtchat.wire.errors import ProtocolError


class SessionChordClient:
    """Chord's outgoing calls as RPCs over the node's session pool."""

    def __init__(self, pool: SessionPool) -> None:
        self.pool = pool

    async def call(
        self, peer: PeerRef, method: str, params: dict[str, Any], timeout: float
    ) -> dict[str, Any]:
        """Call ``method`` on ``peer``; Chord's :class:`RpcFailure` on any failure."""
        try:
            async with asyncio.timeout(timeout):
                reply = await self.pool.request(peer.address, peer.onion, method, params, timeout)
        except (RpcTimeout, TimeoutError) as exc:
            raise ChordRpcTimeout(f"{method} to {peer}: timed out") from exc
        except (PeerUnreachable, ProtocolError) as exc:
            raise RpcFailure(f"{method} to {peer}: {exc}") from exc
        except RpcError as exc:  # an error reply: the peer is there and refused
            raise RemoteRefusal(f"{method} to {peer}: {exc}") from exc
        return reply.data

    def is_warm(self, peer: PeerRef) -> bool:
        """True when the pool holds a live session to ``peer`` (a call needs no dial)."""
        return self.pool.has_session(peer.onion)

    async def identify(self, address: str, timeout: float) -> PeerRef:
        """Authenticate whoever listens at ``address`` and return its reference."""
        try:
            async with asyncio.timeout(timeout):
                conn = await self.pool.identify(address)
        except (RpcError, TimeoutError, ProtocolError) as exc:
            raise RpcFailure(f"cannot reach {address}: {exc}") from exc
        return PeerRef(conn.peer.node_id, conn.peer.onion, address)


def caller_ref(pool: SessionPool, peer: PeerIdentity) -> PeerRef:
    """The ring reference of an authenticated caller (its advertised address, else its onion)."""
    return PeerRef(peer.node_id, peer.onion, pool.address_of(peer.onion) or peer.onion)


RingHandler = Callable[[PeerRef | None, str, dict[str, Any]], Awaitable[dict[str, Any]]]


def serve_methods(
    router: Router, pool: SessionPool, methods: Iterable[str], handle: RingHandler
) -> None:
    """Route ``methods`` arriving on ``pool``'s sessions to a ring-layer ``handle(caller,
    method, params)`` (Chord, DHT, ringcast): the caller is named by its proved onion address,
    and :class:`BadRequest` becomes an error reply with its ``code`` (``bad_request``,
    ``not_member``)."""

    async def serve(peer: PeerIdentity, method: str, params: Fields) -> dict[str, Any]:
        try:
            return await handle(caller_ref(pool, peer), method, params.data)
        except BadRequest as exc:
            raise RpcError(exc.code, str(exc)) from exc

    router.add(methods, serve)


def serve_chord(router: Router, pool: SessionPool, node: ChordNode) -> None:
    """Route the Chord methods arriving on ``pool``'s sessions to ``node``."""
    serve_methods(router, pool, METHODS, node.handle)
