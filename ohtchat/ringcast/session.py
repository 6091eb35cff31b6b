"""Binds a :class:`~ohtchat.ringcast.node.Ringcast` to the methods of a session router."""

from __future__ import annotations

from typing import Any

from ohtchat.chord.errors import BadRequest
from ohtchat.chord.session_client import caller_ref
from ohtchat.ringcast.node import METHODS, Ringcast
from ohtchat.session.identity import PeerIdentity
from ohtchat.session.pool import SessionPool
from ohtchat.session.router import Router
from ohtchat.session.rpc import RpcError
from ohtchat.wire.envelope import Fields


def serve_ringcast(router: Router, pool: SessionPool, rc: Ringcast) -> None:
    """Route the ringcast methods arriving on ``pool``'s sessions to ``rc``.

    Outgoing calls need nothing extra: ``rc`` sends through its Chord node's client.
    """

    async def handle(peer: PeerIdentity, method: str, params: Fields) -> dict[str, Any]:
        try:
            return await rc.handle(caller_ref(pool, peer), method, params.data)
        except BadRequest as exc:
            raise RpcError(exc.code, str(exc)) from exc

    router.add(METHODS, handle)
