"""The small keyed tables (accounts, contacts, channels): validation and documents."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ohtchat.store.errors import InvalidRecord
from ohtchat.store.records import (
    Channel,
    Contact,
    Doc,
    StoredAccount,
    account_from_doc,
    account_to_doc,
    channel_from_doc,
    channel_to_doc,
    check_fields,
    contact_from_doc,
    contact_to_doc,
)

R = TypeVar("R")
_NUM = (int, float)


@dataclass(frozen=True)
class TableSpec(Generic[R]):
    """How one record kind is keyed, checked and turned into documents."""

    name: str
    kind: type[R]
    key_field: str
    types: dict[str, type | tuple[type, ...]]
    to_doc: Callable[[R], Doc]
    from_doc: Callable[[Doc], R]

    def key(self, record: R) -> str:
        """The record's primary key."""
        value: Any = getattr(record, self.key_field)
        return str(value)

    def check(self, record: object) -> None:
        """Raise :class:`InvalidRecord` unless ``record`` is a well-typed ``kind``."""
        if not isinstance(record, self.kind):
            raise InvalidRecord(f"expected a {self.kind.__name__}, got {type(record).__name__}")
        check_fields(record, self.types)
        if not getattr(record, self.key_field):
            raise InvalidRecord(f"{self.kind.__name__}.{self.key_field} must not be empty")
        for name, value in vars(record).items():
            if isinstance(value, tuple) and not all(isinstance(v, str) for v in value):
                raise InvalidRecord(f"{self.kind.__name__}.{name} must hold only str")


ACCOUNTS: TableSpec[StoredAccount] = TableSpec(
    "accounts",
    StoredAccount,
    "name",
    {
        "name": str,
        "account_seed": bytes,
        "node_seed": bytes,
        "kem_secret": bytes,
        "kem_public": bytes,
        "created": _NUM,
    },
    account_to_doc,
    account_from_doc,
)

CONTACTS: TableSpec[Contact] = TableSpec(
    "contacts",
    Contact,
    "account_id",
    {
        "account_id": str,
        "name": str,
        "state": str,
        "fingerprint": str,
        "added": _NUM,
        "account_public": bytes,
        "onions": tuple,
        "note": str,
        "verified": str,
    },
    contact_to_doc,
    contact_from_doc,
)

CHANNELS: TableSpec[Channel] = TableSpec(
    "channels",
    Channel,
    "channel_id",
    {
        "channel_id": str,
        "name": str,
        "members": tuple,
        "created": _NUM,
        "owner": str,
        "key": bytes,
    },
    channel_to_doc,
    channel_from_doc,
)
