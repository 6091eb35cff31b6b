"""Signed, replicated records on the Chord ring: put/get/delete, presence, handles and mailboxes."""

from ohtchat.dht.config import DhtConfig
from ohtchat.dht.errors import (
    BadRecord,
    DhtError,
    DhtUnavailable,
    ExpiredRecord,
    ForgedRecord,
    FutureRecord,
    NoSigner,
    NotOwner,
    QuotaExceeded,
    RecordRefused,
    RecordTooLarge,
    StaleRecord,
)
from ohtchat.dht.mailbox import Deposit, MailboxItem, Ticket
from ohtchat.dht.node import METHODS, Dht, MailboxResult, PutResult, ring_handler
from ohtchat.dht.record import DeleteMarker, Record, key_location, mailbox_id
from ohtchat.dht.replicas import MemoryReplicas, ReplicaStore, StoreReplicas

__all__ = [
    "METHODS",
    "BadRecord",
    "DeleteMarker",
    "Deposit",
    "Dht",
    "DhtConfig",
    "DhtError",
    "DhtUnavailable",
    "ExpiredRecord",
    "ForgedRecord",
    "FutureRecord",
    "MailboxItem",
    "MailboxResult",
    "MemoryReplicas",
    "NoSigner",
    "NotOwner",
    "PutResult",
    "QuotaExceeded",
    "Record",
    "RecordRefused",
    "RecordTooLarge",
    "ReplicaStore",
    "StaleRecord",
    "StoreReplicas",
    "Ticket",
    "key_location",
    "mailbox_id",
    "ring_handler",
]
