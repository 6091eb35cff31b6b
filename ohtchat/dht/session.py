"""Binds a :class:`~ohtchat.dht.node.Dht` to the session layer's router."""

from __future__ import annotations

from typing import Any

from ohtchat.chord.errors import BadRequest
from ohtchat.chord.session_client import caller_ref
from ohtchat.dht.node import Dht
from ohtchat.dht.wire import METHODS
from ohtchat.session.identity import PeerIdentity
from ohtchat.session.pool import SessionPool
from ohtchat.session.router import Router
from ohtchat.session.rpc import RpcError
from ohtchat.wire.envelope import Fields


def serve_dht(router: Router, pool: SessionPool, dht: Dht) -> None:
    """Route the DHT methods arriving on ``pool``'s sessions to ``dht``."""

    async def handle(peer: PeerIdentity, method: str, params: Fields) -> dict[str, Any]:
        try:
            return await dht.handle(caller_ref(pool, peer), method, params.data)
        except BadRequest as exc:
            raise RpcError(exc.code, str(exc)) from exc

    router.add(METHODS, handle)
