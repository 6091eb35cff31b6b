"""Byte streams between nodes: TCP, in-memory (simulation) and Tor onion transports."""

from ohtchat.transport.base import (
    ByteStream,
    ConnectFailed,
    Listener,
    StreamClosed,
    StreamHandler,
    Transport,
    TransportError,
)

__all__ = [
    "ByteStream",
    "ConnectFailed",
    "Listener",
    "StreamClosed",
    "StreamHandler",
    "Transport",
    "TransportError",
]
