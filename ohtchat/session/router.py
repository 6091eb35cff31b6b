"""Route incoming RPC methods to the layer that serves them (chord, dht, ringcast, chat)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ohtchat.session.identity import PeerIdentity
from ohtchat.session.rpc import Handler, RpcError
from ohtchat.wire.envelope import Fields


class Router:
    """A :data:`~ohtchat.session.rpc.Handler` that dispatches by method name."""

    def __init__(self) -> None:
        self._routes: dict[str, Handler] = {}

    def add(self, methods: Iterable[str], handler: Handler) -> None:
        """Serve ``methods`` with ``handler``; a method may be registered once."""
        for m in methods:
            if m in self._routes:
                raise ValueError(f"method {m!r} already routed")
            self._routes[m] = handler

    @property
    def methods(self) -> list[str]:
        """Every routed method name."""
        return sorted(self._routes)

    async def __call__(
        self, peer: PeerIdentity, method: str, params: Fields
    ) -> dict[str, Any] | None:
        handler = self._routes.get(method)
        if handler is None:
            raise RpcError("unknown_method", method[:64])
        return await handler(peer, method, params)
