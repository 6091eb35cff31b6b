"""Pairwise double ratchets: whisper and contact items travel as ``ratchet`` items.

The item we mean to send (a whisper, a contact request or acceptance) is encoded as its
``chat_deliver`` body, encrypted with the ratchet session for its recipient account
(docs/protocol.md §15) and carried as the outer item (docs/protocol.md §12.4)::

    {kind: "ratchet", msg_id (= the inner item's), to, sent_at, text: "",
     extra: {r: bin, d: bin 32 (the sending device's node key)}}

The outer item then travels like any other: ``chat_deliver`` over a session, else signed and
sealed into the recipient's mailbox. An account may have several devices (docs/devices.md),
each with its own prekey, so a session is between two *devices*: kept per (local account, peer
account, peer device) in the encrypted store (setting ``ratchet.<our id>.<peer id>.<device
id>`` = the serialized state; the device id is the node id of the peer device), written after
every successful encrypt **before** the message leaves and after every successful decrypt; the
handshake ids we accepted are kept (bounded) in ``ratchet.<our id>.seen``.
"""

from __future__ import annotations

import logging
from typing import Any

from ohtchat.chat.accounts import LocalAccount
from ohtchat.chat.envelopes import MAX_ITEM_BYTES, ChatItem
from ohtchat.chat.presence import Presence
from ohtchat.crypto.ids import node_id
from ohtchat.crypto.keys import account_id
from ohtchat.ratchet import (
    NewHandshake,
    PrekeyBundle,
    RatchetError,
    RatchetRandomness,
    Session,
    UnknownHeader,
    peek,
    safety_number,
)
from ohtchat.ratchet.primitives import OS_RANDOMNESS
from ohtchat.store import Store
from ohtchat.wire.envelope import Fields, pack, unpack
from ohtchat.wire.errors import MalformedMessage

log = logging.getLogger(__name__)

#: The kind of an item whose payload is a ratchet message.
RATCHET_KIND = "ratchet"
#: The kinds that travel only inside the ratchet.
RATCHETED_KINDS = frozenset(
    {"whisper", "contact_request", "contact_accept", "contact_ticket", "file_offer"}
)
#: Store setting prefix of the ratchet states (``ratchet.<our id>.<peer id>``).
STATE_PREFIX = "ratchet."
#: How many accepted handshake ids are remembered.
MAX_SEEN = 1024


def state_key(own: str, peer: str, device: bytes) -> str:
    """The store setting holding our account ``own``'s session with the device (node key)
    ``device`` of account ``peer``."""
    return f"{STATE_PREFIX}{own}.{peer}.{node_id(device):064x}"


def sending_device(outer: ChatItem) -> bytes:
    """The sending device's node key named by a ``ratchet`` item (its ``d`` field)."""
    return Fields(outer.extra, "req.p.extra").bytes_("d", 32)


def seen_key(own: str) -> str:
    """The store setting holding the handshake ids ``own`` accepted (32 bytes each, oldest
    first)."""
    return f"{STATE_PREFIX}{own}.seen"


class Ratchets:
    """The ratchet sessions of one account with every peer account."""

    def __init__(
        self,
        account: LocalAccount,
        store: Store,
        *,
        randomness: RatchetRandomness = OS_RANDOMNESS,
    ) -> None:
        self.account = account
        self.store = store
        self.randomness = randomness
        self.me = account.account_id

    # ------------------------------------------------------------------ state
    def session(self, peer: str, device: bytes) -> Session | None:
        """The stored session with ``peer``'s ``device`` (``None`` if none, or unreadable)."""
        blob = self.store.get_setting(state_key(self.me, peer, device))
        if not isinstance(blob, bytes):
            return None
        try:
            session = Session.from_bytes(blob, randomness=self.randomness)
        except RatchetError as exc:
            log.warning("dropping an unreadable ratchet state for %s: %s", peer[:12], exc)
            return None
        if session.own_account != self.account.key.public:
            return None  # kept for another local account
        return session

    def _save(self, peer: str, device: bytes, session: Session) -> None:
        self.store.set_setting(state_key(self.me, peer, device), session.to_bytes())

    def reset(self, peer: str, device: bytes) -> None:
        """Forget the session with ``peer``'s ``device``: the next item starts a new
        handshake."""
        self.store.delete_setting(state_key(self.me, peer, device))

    def _seen(self) -> list[bytes]:
        blob = self.store.get_setting(seen_key(self.me))
        if not isinstance(blob, bytes):
            return []
        return [blob[i : i + 32] for i in range(0, len(blob) - len(blob) % 32, 32)]

    def _remember(self, hid: bytes) -> None:
        seen = [h for h in self._seen() if h != hid] + [hid]
        self.store.set_setting(seen_key(self.me), b"".join(seen[-MAX_SEEN:]))

    # ------------------------------------------------------------------ sending
    def seal(self, presence: Presence, item: ChatItem) -> ChatItem:
        """The ``ratchet`` item carrying ``item`` to the device of ``presence``. The session
        state is stored before this returns (so before the item can leave)."""
        peer, device = presence.account_id, presence.node_public
        session = self.session(peer, device)
        if session is None:
            bundle = PrekeyBundle(presence.account_pub, presence.kem_pub, presence.kem_sig)
            session = Session.initiate(self.account.key, bundle, randomness=self.randomness)
        message = session.encrypt(pack(item.body()))
        self._save(peer, device, session)
        extra = {"r": message, "d": self.account.node_key.public}
        return ChatItem(RATCHET_KIND, item.msg_id, item.to, item.sent_at, "", extra)

    # ------------------------------------------------------------------ receiving
    def open(self, sender_pub: bytes, outer: ChatItem, device: bytes) -> ChatItem:
        """The inner item of a ``ratchet`` item from ``sender_pub``'s ``device`` (both
        authenticated: by the session, or by the mailbox signature and the item's ``d``).
        Raises :class:`RatchetError` (the state is then
        unchanged) or :class:`MalformedMessage` (a bad inner item, after the state advanced:
        the message key is spent either way)."""
        sender = account_id(sender_pub)
        message = Fields(outer.extra, "req.p.extra").bytes_("r", max_len=MAX_ITEM_BYTES)
        info = peek(message)  # MalformedRatchetMessage on a bad version, kind or length
        if info.sender is not None and info.sender != sender_pub:
            raise MalformedMessage("ratchet message: the initial message names another account")
        session = self.session(sender, device)
        try:
            if session is None:
                raise UnknownHeader("no session with this device")
            plaintext = session.decrypt(message)
        except (NewHandshake, UnknownHeader):
            if info.handshake_id is None:
                raise
            session, plaintext = self._accept(session, message, info.handshake_id, device)
        else:
            self._save(sender, device, session)
        return _inner(plaintext, outer)

    def _accept(
        self, current: Session | None, message: bytes, hid: bytes, device: bytes
    ) -> tuple[Session, bytes]:
        """A new handshake from the peer: accept it, and replace our session unless both sides
        started one at once and ours has the smaller id (§15.8)."""
        new, plaintext = Session.accept(
            self.account.key,
            self.account.kem,
            message,
            seen=set(self._seen()),
            randomness=self.randomness,
        )
        self._remember(hid)
        keep_ours = current is not None and current.awaiting_reply and current.handshake_id < hid
        if not keep_ours:
            self._save(account_id(new.peer_account), device, new)
        return new, plaintext

    def safety_number(self, peer_public: bytes) -> str:
        """The safety number of our account and ``peer_public`` (docs/protocol.md §15.9)."""
        return safety_number(self.account.key.public, peer_public)


def _inner(plaintext: bytes, outer: ChatItem) -> ChatItem:
    """The validated inner item; it must be of a ratcheted kind, with the outer id and
    recipient."""
    obj: Any = unpack(plaintext)
    if not isinstance(obj, dict):
        raise MalformedMessage("ratchet item: the plaintext is not a map")
    inner = ChatItem.from_fields(Fields(obj, "ratchet item plaintext"))
    if inner.kind not in RATCHETED_KINDS:
        raise MalformedMessage(f"ratchet item: kind {inner.kind!r} does not travel in a ratchet")
    if inner.msg_id != outer.msg_id or inner.to != outer.to:
        raise MalformedMessage("ratchet item: 'msg_id' or 'to' differs from the outer item")
    return inner
