"""Sync between the devices of one account: sent messages, read state, contacts.

A peer delivers to every device of an account, so received messages reach all of them by
themselves. What one device does itself reaches the others as a sync item, sent to our own
account (so to each of our other devices, directly or sealed into the mailbox for that device;
docs/protocol.md §12.6)::

    sync_sent     {c: conversation, s: state}          text, msg_id, sent_at: the message's
    sync_read     {c: conversation}
    sync_contact  {a: account id, p: bin 32 | "", n: name, st: state, v: verified, rm: bool}
    sync_channel  {i: channel id, n: name, m: [account id], o: owner, k: bin, cr: created,
                   rm: bool}

and an account that changed its device list tells its contacts and devices with a
``devices_changed`` item (empty ``extra``), so they read the list again. Sync items are only
taken from another current device of our own account (the inbox checks it).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from ohtchat.api.constants import RINGCAST_CONVERSATION
from ohtchat.chat.accounts import fingerprint
from ohtchat.chat.devices import DeviceDirectory
from ohtchat.chat.envelopes import ChatItem
from ohtchat.chat.ports import Now, Sender, Spawn
from ohtchat.crypto.keys import account_id
from ohtchat.store import Channel, Contact, Message, MessageState, Store
from ohtchat.wire.envelope import Fields
from ohtchat.wire.errors import MalformedMessage

SYNC_SENT = "sync_sent"
SYNC_READ = "sync_read"
SYNC_CONTACT = "sync_contact"
SYNC_CHANNEL = "sync_channel"
DEVICES_CHANGED = "devices_changed"
#: The kinds taken only from our own devices.
SYNC_KINDS = frozenset({SYNC_SENT, SYNC_READ, SYNC_CONTACT, SYNC_CHANNEL})
#: The most members a synced channel lists (a channel's own bound).
MAX_MEMBERS = 256
#: The longest conversation id, account id or name in a sync item.
MAX_REF = 128
#: Outgoing message states a sync_sent item may carry, and their order (a later one wins).
_STATES = (MessageState.FAILED, MessageState.SENDING, MessageState.QUEUED, MessageState.DELIVERED)


def _new_id() -> str:
    return os.urandom(16).hex()


class DeviceSync:
    """Sends our changes to our other devices and applies theirs."""

    def __init__(
        self,
        me: str,
        store: Store,
        devices: DeviceDirectory,
        sender: Sender,
        *,
        spawn: Spawn,
        now: Now,
        on_message: Callable[[Message], None],
        on_contact: Callable[[str], None],
        on_channel: Callable[[Channel | None, str], None],
    ) -> None:
        self.me = me
        self.store = store
        self.devices = devices
        self.sender = sender
        self.spawn = spawn
        self.now = now
        #: Shows a message synced in (the UIs' event).
        self.on_message = on_message
        #: Tells the UIs a contact changed (by account id).
        self.on_contact = on_contact
        #: Tells the UIs a channel was joined (the channel) or left (``None``, its id).
        self.on_channel = on_channel

    # ------------------------------------------------------------------ outgoing
    def _send(self, item: ChatItem) -> None:
        if len(self.devices.own().devices) > 1:  # nobody to tell on a lone device
            # ``d`` names this device: a mailbox item is signed by the account, which every
            # device holds, so the receiver checks the device named is a current one.
            extra = {**item.extra, "d": self.devices.account.node_key.public}
            signed = ChatItem(item.kind, item.msg_id, item.to, item.sent_at, item.text, extra)
            self.spawn(self.sender.send_item(self.me, signed))

    def sent(self, msg: Message) -> None:
        """Our message ``msg`` reached its final state here: tell our other devices."""
        if msg.sender != self.me or msg.conversation in (RINGCAST_CONVERSATION, self.me):
            return  # ringcasts come back to every device by themselves
        extra = {"c": msg.conversation, "s": str(msg.state)}
        self._send(ChatItem(SYNC_SENT, msg.msg_id, self.me, msg.timestamp, msg.text, extra))

    def read(self, conversation: str) -> None:
        """The user read ``conversation`` here."""
        self._send(ChatItem(SYNC_READ, _new_id(), self.me, self.now(), "", {"c": conversation}))

    def contact(self, acct: str) -> None:
        """The contact ``acct`` changed here (added, accepted, verified, or removed)."""
        try:
            c = self.store.get_contact(acct)
            extra: dict[str, Any] = {
                "a": acct,
                "p": c.account_public,
                "n": c.name,
                "st": c.state,
                "v": c.verified,
                "rm": False,
            }
        except KeyError:
            extra = {"a": acct, "p": b"", "n": "", "st": "", "v": "", "rm": True}
        self._send(ChatItem(SYNC_CONTACT, _new_id(), self.me, self.now(), "", extra))

    def channel(self, channel_id: str) -> None:
        """The channel ``channel_id`` was created, joined or left here."""
        try:
            ch = self.store.get_channel(channel_id)
            extra: dict[str, Any] = {
                "i": channel_id,
                "n": ch.name,
                "m": list(ch.members),
                "o": ch.owner,
                "k": ch.key,
                "cr": ch.created,
                "rm": False,
            }
        except KeyError:
            extra = {"i": channel_id, "n": "", "m": [], "o": "", "k": b"", "cr": 0.0, "rm": True}
        self._send(ChatItem(SYNC_CHANNEL, _new_id(), self.me, self.now(), "", extra))

    # ------------------------------------------------------------------ incoming
    def on_item(self, item: ChatItem) -> None:
        """A sync item from another current device of ours (checked by the inbox).

        Raises :class:`MalformedMessage` for a bad one (nothing is changed then)."""
        f = Fields(item.extra, "req.p.extra")
        if item.kind == SYNC_SENT:
            self._on_sent(item, f.str_("c", max_len=MAX_REF), f.str_("s", max_len=16))
        elif item.kind == SYNC_READ:
            self.store.mark_read(f.str_("c", max_len=MAX_REF))
        elif item.kind == SYNC_CONTACT:
            self._on_contact(f)
        elif item.kind == SYNC_CHANNEL:
            self._on_channel(f)

    def _on_sent(self, item: ChatItem, conversation: str, state_text: str) -> None:
        try:
            state = MessageState(state_text)
        except ValueError as exc:
            raise MalformedMessage(f"sync_sent: unknown state {state_text!r}") from exc
        if state not in _STATES:
            raise MalformedMessage(f"sync_sent: {state_text!r} is no outgoing state")
        if self.store.has_message(item.msg_id):
            old = self.store.get_message(item.msg_id)
            if old.sender == self.me and _STATES.index(state) > _STATES.index(old.state):
                self.store.update_message_state(item.msg_id, state)
            return
        msg = Message(item.msg_id, conversation, self.me, item.text, item.sent_at, state, True)
        if self.store.append_message(msg):
            self.on_message(msg)

    def _on_contact(self, f: Fields) -> None:
        acct = f.str_("a", max_len=64)
        if len(acct) != 64 or acct == self.me:
            raise MalformedMessage("sync_contact: 'a' must be another account id")
        if f.bool_("rm"):
            self.store.delete_contact(acct)
            self.on_contact(acct)
            return
        pub = f.bytes_("p", max_len=32)
        if pub and (len(pub) != 32 or account_id(pub) != acct):
            raise MalformedMessage("sync_contact: 'p' must be the account's key or empty")
        try:
            old: Contact | None = self.store.get_contact(acct)
        except KeyError:
            old = None
        contact = Contact(
            acct,
            f.str_("n", max_len=MAX_REF),
            f.str_("st", max_len=32),
            fingerprint(pub) if pub else (old.fingerprint if old else ""),
            old.added if old else self.now(),
            pub or (old.account_public if old else b""),
            old.onions if old else (),
            old.note if old else "",
            f.str_("v", max_len=MAX_REF),
        )
        self.store.put_contact(contact)
        self.on_contact(acct)

    def _on_channel(self, f: Fields) -> None:
        cid = f.str_("i", max_len=64, min_len=1)
        if any(c not in "0123456789abcdef" for c in cid):
            raise MalformedMessage("sync_channel: 'i' must be lowercase hex")
        if f.bool_("rm"):
            self.store.delete_channel(cid)
            self.on_channel(None, cid)
            return
        members = f.list_("m", max_len=MAX_MEMBERS)
        owner = f.str_("o", max_len=64)
        if not all(_is_account(m) for m in members) or (owner and not _is_account(owner)):
            raise MalformedMessage("sync_channel: 'm' and 'o' must be account ids")
        created = _time(f, "cr")
        ch = Channel(
            cid,
            f.str_("n", max_len=64),
            tuple(dict.fromkeys([*members, self.me])),
            created,
            owner,
            f.bytes_("k", max_len=64),
        )
        self.store.put_channel(ch)
        self.on_channel(ch, cid)


def _is_account(value: object) -> bool:
    return (
        isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value)
    )


def _time(f: Fields, key: str) -> float:
    """A Unix time field (``int`` or ``float``, never ``bool``; finite, not negative)."""
    raw = f.data.get(key)
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not 0 <= raw < 1e12:
        raise MalformedMessage(f"sync_channel: {key!r} must be a time")
    return float(raw)
