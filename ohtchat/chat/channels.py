"""Channels: group conversations with membership as signed DHT records.

A channel has a random 128-bit id. Its record ``channel:<id>`` (owned by the creator) holds
``{name, owner, members}``; each member also publishes ``chanmember:<id>:<account id>`` (owned
by the member) so membership is signed by the member itself. Messages go to every member
directly; members that are offline get them through their mailbox. History is kept per channel
id like any conversation.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from typing import Any

from ohtchat.api.bus import EventBus
from ohtchat.api.events import ChannelEvent
from ohtchat.api.views import ChannelView
from ohtchat.chat.accounts import LocalAccount
from ohtchat.chat.envelopes import ChatItem, new_msg_id
from ohtchat.chat.ports import MessageLog, Now, Sender, Spawn
from ohtchat.chat.presence import DhtApi
from ohtchat.crypto.keys import account_id
from ohtchat.store import Channel, Message, MessageState, Store
from ohtchat.wire.envelope import pack, unpack
from ohtchat.wire.errors import MalformedMessage

CHANNEL_TTL = 7 * 24 * 3600
MAX_MEMBERS = 256


class ChannelError(Exception):
    """A channel operation failed."""


def channel_key(channel_id: str) -> bytes:
    """The DHT key of a channel's roster record."""
    return b"channel:" + channel_id.encode()


def member_key(channel_id: str, acct_id: str) -> bytes:
    """The DHT key of one member's own membership record."""
    return b"chanmember:" + channel_id.encode() + b":" + acct_id.encode()


class Channels:
    """The channels of one account (implements :class:`~ohtchat.chat.ports.ItemHandler` for
    ``channel_*`` items)."""

    def __init__(
        self,
        account: LocalAccount,
        store: Store,
        bus: EventBus,
        dht: DhtApi,
        *,
        sender: Sender,
        messages: MessageLog,
        spawn: Spawn,
        now: Now,
    ) -> None:
        self.account = account
        self.me = account.account_id
        self.store = store
        self.bus = bus
        self.dht = dht
        self.sender = sender
        self.messages = messages
        self.spawn = spawn
        self.now = now
        #: Told the id of each channel created, joined or left here (the sync to our devices).
        self.on_change: Callable[[str], None] | None = None

    def listing(self) -> tuple[ChannelView, ...]:
        """Every channel, sorted by name, with its unread count."""
        unread = self.store.unread_counts()
        return tuple(
            ChannelView(c.channel_id, c.name, tuple(c.members), unread.get(c.channel_id, 0))
            for c in sorted(self.store.channels(), key=lambda c: c.name.lower())
        )

    def find(self, ref: str) -> Channel:
        """A channel by id, id prefix (≥ 6) or name."""
        for ch in self.store.channels():
            if ref in (ch.channel_id, ch.name) or (len(ref) >= 6 and ch.channel_id.startswith(ref)):
                return ch
        raise ChannelError(f"no channel {ref!r}: /join ID or /channel NAME first")

    async def _publish(self, ch: Channel) -> None:
        me = self.me
        await self.dht.put(member_key(ch.channel_id, me), pack({"member": me}), CHANNEL_TTL)
        if ch.owner == me:
            roster = {"name": ch.name, "owner": ch.owner, "members": list(ch.members)}
            await self.dht.put(channel_key(ch.channel_id), pack(roster), CHANNEL_TTL)

    async def create(self, name: str) -> Channel:
        """``/channel [NAME]``: a new channel with a random id, us as owner and member."""
        cid = os.urandom(16).hex()
        ch = Channel(
            cid,
            name.strip() or f"channel-{cid[:6]}",
            (self.me,),
            self.now(),
            self.me,
        )
        self.store.put_channel(ch)
        await self._publish(ch)
        self.bus.publish(ChannelEvent(cid, ch.name, ch.members))
        if self.on_change is not None:  # our other devices follow
            self.on_change(ch.channel_id)
        return ch

    async def join(self, channel_id: str) -> Channel:
        """``/join ID``: fetch the roster, publish our membership, tell the members."""
        channel_id = channel_id.strip().lower()
        record = await self.dht.get(channel_key(channel_id))
        if record is None:
            raise ChannelError(f"no channel {channel_id[:16]}… found in the DHT")
        try:
            roster = unpack(record.value)
            name, owner, members = roster["name"], roster["owner"], roster["members"]
            if (
                not isinstance(name, str)
                or not isinstance(owner, str)
                or not isinstance(members, list)
            ):
                raise MalformedMessage("roster fields")
        except (MalformedMessage, KeyError, TypeError) as exc:
            raise ChannelError("the channel record is malformed") from exc
        # The owner is whoever signed the roster, never what the value claims: otherwise a
        # squatter could name an honest account as owner, and joiners would take roster
        # updates from it as the channel's word.
        if owner != account_id(record.owner):
            raise ChannelError("the channel record's owner is not the account that signed it")
        all_members = tuple(dict.fromkeys([*[str(m) for m in members][:MAX_MEMBERS], self.me]))
        ch = Channel(channel_id, name[:64], all_members, self.now(), owner)
        self.store.put_channel(ch)
        await self._publish(ch)
        await self._tell(ch, "channel_join", "", {"channel_name": ch.name})
        self.bus.publish(ChannelEvent(channel_id, ch.name, ch.members))
        if self.on_change is not None:  # our other devices follow
            self.on_change(ch.channel_id)
        return ch

    async def leave(self, ref: str) -> Channel:
        """``/leave ID``: tell the members and forget the channel (history stays)."""
        ch = self.find(ref)
        await self._tell(ch, "channel_leave", "", {})
        self.store.delete_channel(ch.channel_id)
        self.bus.publish(ChannelEvent(ch.channel_id, ch.name, ()))
        if self.on_change is not None:  # our other devices follow
            self.on_change(ch.channel_id)
        return ch

    async def cast(self, ref: str, text: str) -> tuple[Message, dict[str, str]]:
        """``/channelcast ID MESSAGE``: store and send to every member; per-member states."""
        ch = self.find(ref)
        msg = Message(
            new_msg_id(),
            ch.channel_id,
            self.me,
            text,
            self.now(),
            MessageState.SENDING,
            read=True,
        )
        self.messages.keep(msg)
        states = await self._tell(ch, "channel_msg", text, {}, msg.msg_id)
        ok = all(s != MessageState.FAILED for s in states.values())
        queued = any(s == MessageState.QUEUED for s in states.values())
        final = (
            MessageState.QUEUED if queued else MessageState.DELIVERED if ok else MessageState.FAILED
        )
        return self.messages.set_state(msg, final), {k: str(v) for k, v in states.items()}

    async def _tell(
        self, ch: Channel, kind: str, text: str, extra: dict[str, Any], msg_id: str | None = None
    ) -> dict[str, MessageState]:
        mid = msg_id or new_msg_id()
        others = [m for m in ch.members if m != self.me]
        items = [
            ChatItem(
                kind,
                mid,
                m,
                self.now(),
                text,
                {"channel": ch.channel_id, "name": self.account.name, **extra},
            )
            for m in others
        ]
        states = await asyncio.gather(
            *(self.sender.send_item(m, it) for m, it in zip(others, items, strict=True))
        )
        return dict(zip(others, states, strict=True))

    def on_item(self, sender: str, sender_pub: bytes, item: ChatItem) -> None:
        """A channel message, join or leave from ``sender``."""
        cid = str(item.extra.get("channel", ""))[:64]
        try:
            ch = self.find(cid) if cid else None
        except ChannelError:
            ch = None
        if ch is None or (sender not in ch.members and item.kind != "channel_join"):
            return  # not a channel we are in, or not from a member
        if (
            item.kind == "channel_join"
            and sender not in ch.members
            and len(ch.members) < MAX_MEMBERS
        ):
            ch = Channel(
                ch.channel_id, ch.name, (*ch.members, sender), ch.created, ch.owner, ch.key
            )
            self.store.put_channel(ch)
            if ch.owner == self.me:
                # The owner keeps the roster: republish it and tell every member who is in.
                self.spawn(self._publish(ch))
                self.spawn(self._tell(ch, "channel_roster", "", {"members": list(ch.members)}))
        elif item.kind == "channel_roster" and sender == ch.owner:
            listed = item.extra.get("members")
            if isinstance(listed, list):
                names = [m for m in listed if isinstance(m, str) and len(m) == 64][:MAX_MEMBERS]
                merged = tuple(dict.fromkeys([*ch.members, *names]))
                ch = Channel(ch.channel_id, ch.name, merged, ch.created, ch.owner, ch.key)
                self.store.put_channel(ch)
        elif item.kind == "channel_leave":
            ch = Channel(
                ch.channel_id,
                ch.name,
                tuple(m for m in ch.members if m != sender),
                ch.created,
                ch.owner,
                ch.key,
            )
            self.store.put_channel(ch)
        elif item.kind == "channel_msg":
            self.messages.store_received(ch.channel_id, sender, item)
            return
        self.bus.publish(ChannelEvent(ch.channel_id, ch.name, ch.members))
