"""Encrypted, crash-safe storage on TinyDB: accounts, contacts, channels, messages."""

from ohtchat.store.errors import (
    CorruptedFile,
    InvalidRecord,
    RecordNotFound,
    StoreClosed,
    StoreError,
    StoreExists,
    StoreLocked,
    StoreNotFound,
    WrongPassphrase,
)
from ohtchat.store.index import ConversationInfo
from ohtchat.store.records import (
    Channel,
    Contact,
    ContactState,
    Message,
    MessageState,
    SettingValue,
    StoredAccount,
)
from ohtchat.store.sealing import KdfParams
from ohtchat.store.store import Store

__all__ = [
    "Channel",
    "Contact",
    "ContactState",
    "ConversationInfo",
    "CorruptedFile",
    "InvalidRecord",
    "KdfParams",
    "Message",
    "MessageState",
    "RecordNotFound",
    "SettingValue",
    "Store",
    "StoreClosed",
    "StoreError",
    "StoreExists",
    "StoreLocked",
    "StoreNotFound",
    "StoredAccount",
    "WrongPassphrase",
]
