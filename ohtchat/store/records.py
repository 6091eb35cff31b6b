"""The typed records the store holds, and their (msgpack-friendly) document form.

Every record is a frozen dataclass; the store hands out these objects and never a raw
document. ``to_doc``/``from_doc`` convert to the dicts that go into the journal and the
TinyDB segments (msgpack keeps ``bytes`` as bytes, so no base64 anywhere).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from ohtchat.store.errors import InvalidRecord

Doc = dict[str, Any]
SettingValue = str | int | float | bool | bytes | None


class MessageState(StrEnum):
    """Where a message is in its life: outgoing ones move sending → queued/delivered."""

    SENDING = "sending"
    QUEUED = "queued"
    DELIVERED = "delivered"
    FAILED = "failed"
    RECEIVED = "received"


class ContactState(StrEnum):
    """Suggested contact states (the store accepts any string)."""

    REQUESTED = "requested"
    PENDING = "pending"
    ACCEPTED = "accepted"
    BLOCKED = "blocked"


@dataclass(frozen=True)
class StoredAccount:
    """One local identity: the account and node key seeds and the KEM key pair."""

    name: str
    account_seed: bytes
    node_seed: bytes
    kem_secret: bytes
    created: float
    kem_public: bytes = b""


@dataclass(frozen=True)
class Contact:
    """A peer account the user knows, keyed by its account id."""

    account_id: str
    name: str
    state: str
    fingerprint: str
    added: float
    account_public: bytes = b""
    onions: tuple[str, ...] = ()
    note: str = ""
    #: The safety number the user verified with ``/verify-contact`` ("" when not verified).
    verified: str = ""


@dataclass(frozen=True)
class Channel:
    """A group conversation and its members (account ids)."""

    channel_id: str
    name: str
    members: tuple[str, ...]
    created: float
    owner: str = ""
    key: bytes = b""


@dataclass(frozen=True)
class Message:
    """One chat message in a conversation (a contact's account id or a channel id).

    ``timestamp`` is unix seconds. ``read`` only matters for received messages: they
    count as unread until :meth:`ohtchat.store.Store.mark_read`.
    """

    msg_id: str
    conversation: str
    sender: str
    text: str
    timestamp: float
    state: MessageState
    read: bool = False

    @property
    def unread(self) -> bool:
        """True for a received message the user has not seen yet."""
        return self.state is MessageState.RECEIVED and not self.read

    @property
    def sort_key(self) -> tuple[float, str]:
        """Order of messages in history: by time, ties broken by id."""
        return (self.timestamp, self.msg_id)


def _need(cond: bool, what: str) -> None:
    if not cond:
        raise InvalidRecord(what)


def check_message(msg: Message) -> None:
    """Raise :class:`InvalidRecord` unless every field of ``msg`` has the right type."""
    _need(isinstance(msg, Message), "expected a Message")
    for name in ("msg_id", "conversation", "sender", "text"):
        _need(isinstance(getattr(msg, name), str), f"Message.{name} must be a str")
    _need(bool(msg.msg_id), "Message.msg_id must not be empty")
    _need(bool(msg.conversation), "Message.conversation must not be empty")
    ts = msg.timestamp
    _need(
        isinstance(ts, int | float) and not isinstance(ts, bool) and math.isfinite(ts),
        "Message.timestamp must be a finite number",
    )
    _need(isinstance(msg.state, MessageState), "Message.state must be a MessageState")
    _need(isinstance(msg.read, bool), "Message.read must be a bool")


def check_fields(record: object, types: dict[str, type | tuple[type, ...]]) -> None:
    """Raise :class:`InvalidRecord` unless each named field has one of the given types."""
    for name, typ in types.items():
        value = getattr(record, name)
        if isinstance(value, bool) and typ in (int, float, (int, float)):
            raise InvalidRecord(f"{type(record).__name__}.{name} must not be a bool")
        _need(isinstance(value, typ), f"{type(record).__name__}.{name} has a wrong type")


def message_to_doc(msg: Message) -> Doc:
    """Short-keyed document of a message (keys are short: there are 100 000 of them)."""
    return {
        "i": msg.msg_id,
        "c": msg.conversation,
        "s": msg.sender,
        "t": msg.text,
        "ts": msg.timestamp,
        "st": msg.state.value,
        "r": msg.read,
    }


_STATES = {s.value: s for s in MessageState}


def message_from_doc(doc: Doc) -> Message:
    """Inverse of :func:`message_to_doc` (raises KeyError/TypeError on a bad document)."""
    # This runs 100 000 times at open, so it skips the frozen dataclass __init__ (seven
    # object.__setattr__ calls) and fills the instance dict directly; and it maps the
    # state with a dict lookup instead of the much slower MessageState(...) call.
    msg: Message = object.__new__(Message)
    msg.__dict__.update(
        msg_id=doc["i"],
        conversation=doc["c"],
        sender=doc["s"],
        text=doc["t"],
        timestamp=doc["ts"],
        state=_STATES[doc["st"]],
        read=doc["r"],
    )
    return msg


def account_to_doc(a: StoredAccount) -> Doc:
    """Document of an account."""
    return {
        "name": a.name,
        "account_seed": a.account_seed,
        "node_seed": a.node_seed,
        "kem_secret": a.kem_secret,
        "kem_public": a.kem_public,
        "created": a.created,
    }


def account_from_doc(d: Doc) -> StoredAccount:
    """Inverse of :func:`account_to_doc`."""
    return StoredAccount(
        d["name"], d["account_seed"], d["node_seed"], d["kem_secret"], d["created"], d["kem_public"]
    )


def contact_to_doc(c: Contact) -> Doc:
    """Document of a contact."""
    return {
        "account_id": c.account_id,
        "name": c.name,
        "state": c.state,
        "fingerprint": c.fingerprint,
        "added": c.added,
        "account_public": c.account_public,
        "onions": list(c.onions),
        "note": c.note,
        "verified": c.verified,
    }


def contact_from_doc(d: Doc) -> Contact:
    """Inverse of :func:`contact_to_doc`."""
    return Contact(
        d["account_id"],
        d["name"],
        d["state"],
        d["fingerprint"],
        d["added"],
        d["account_public"],
        tuple(d["onions"]),
        d["note"],
        d.get("verified", ""),  # documents written before verification existed lack it
    )


def channel_to_doc(c: Channel) -> Doc:
    """Document of a channel."""
    return {
        "channel_id": c.channel_id,
        "name": c.name,
        "members": list(c.members),
        "created": c.created,
        "owner": c.owner,
        "key": c.key,
    }


def channel_from_doc(d: Doc) -> Channel:
    """Inverse of :func:`channel_to_doc`."""
    return Channel(
        d["channel_id"], d["name"], tuple(d["members"]), d["created"], d["owner"], d["key"]
    )
