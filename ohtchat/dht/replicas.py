"""Where a node keeps the DHT entries it holds: the :class:`ReplicaStore` protocol.

Entries are opaque ``bytes`` under ``bytes`` keys (see :mod:`ohtchat.dht.holder` for the
key layout). :class:`MemoryReplicas` keeps them in a dict; :class:`StoreReplicas` adapts the
encrypted :class:`ohtchat.store.Store`, so replicas survive a restart.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol


class ReplicaStore(Protocol):
    """Persistent key → bytes storage of replicated entries."""

    def get(self, key: bytes) -> bytes | None:
        """The entry under ``key``, or ``None``."""
        ...

    def put(self, key: bytes, value: bytes) -> None:
        """Store (or replace) an entry."""
        ...

    def delete(self, key: bytes) -> None:
        """Forget an entry (no error when absent)."""
        ...

    def items(self) -> Iterator[tuple[bytes, bytes]]:
        """Every entry (a snapshot: the caller may modify the store while iterating)."""
        ...


class MemoryReplicas:
    """A :class:`ReplicaStore` in a dict (simulations, tests, nodes without a store)."""

    def __init__(self) -> None:
        self.data: dict[bytes, bytes] = {}

    def get(self, key: bytes) -> bytes | None:
        """The entry under ``key``, or ``None``."""
        return self.data.get(key)

    def put(self, key: bytes, value: bytes) -> None:
        """Store (or replace) an entry."""
        self.data[key] = value

    def delete(self, key: bytes) -> None:
        """Forget an entry."""
        self.data.pop(key, None)

    def items(self) -> Iterator[tuple[bytes, bytes]]:
        """A snapshot of every entry."""
        return iter(list(self.data.items()))


class ReplicaBackend(Protocol):
    """The replica part of :class:`ohtchat.store.Store`."""

    def put_replica(self, key: bytes, record: bytes) -> None:
        """Store a replica."""
        ...

    def get_replica(self, key: bytes) -> bytes | None:
        """A replica, or ``None``."""
        ...

    def delete_replica(self, key: bytes) -> bool:
        """Forget a replica."""
        ...

    def replicas(self) -> dict[bytes, bytes]:
        """A copy of every replica."""
        ...


class StoreReplicas:
    """A :class:`ReplicaStore` on an open :class:`ohtchat.store.Store` (encrypted, durable)."""

    def __init__(self, store: ReplicaBackend) -> None:
        self.store = store

    def get(self, key: bytes) -> bytes | None:
        """The entry under ``key``, or ``None``."""
        return self.store.get_replica(key)

    def put(self, key: bytes, value: bytes) -> None:
        """Store (or replace) an entry."""
        self.store.put_replica(key, value)

    def delete(self, key: bytes) -> None:
        """Forget an entry."""
        self.store.delete_replica(key)

    def items(self) -> Iterator[tuple[bytes, bytes]]:
        """A snapshot of every entry."""
        return iter(self.store.replicas().items())
