"""The chat service: whispers (online and offline), receipts, contacts, presence, channels.

Everything is keyed by account id. Delivery first tries a direct authenticated session to the
recipient's onion address (from its presence record) and takes the RPC reply as the delivery
receipt; if the recipient is unreachable, the item is signed, sealed to its KEM prekey and put
in its DHT mailbox. Whispers and contact items travel inside the pairwise double ratchet
(:mod:`ohtchat.chat.ratchets`). Received items are deduplicated by message id, so each is shown
once.

:class:`ChatService` is the facade of the chat layer and its composition root: it builds the
parts (each in its own module, each depending only on the protocols of
:mod:`ohtchat.chat.ports`) and wires them together. Time is injected (``now``, ``sleep``), so
the whole layer runs on a virtual-time loop in tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import Any

from ohtchat.api.bus import EventBus
from ohtchat.api.events import ChannelEvent, ContactEvent
from ohtchat.api.views import MessageView
from ohtchat.chat.accounts import LocalAccount
from ohtchat.chat.channels import Channels
from ohtchat.chat.contacts import Contacts, contact_fingerprint
from ohtchat.chat.conversations import Conversations
from ohtchat.chat.delivery import DELIVER, METHODS, Delivery
from ohtchat.chat.devices import DeviceDirectory
from ohtchat.chat.directory import PresenceDirectory
from ohtchat.chat.envelopes import ChatItem
from ohtchat.chat.errors import ChatError
from ohtchat.chat.heartbeats import Heartbeats
from ohtchat.chat.inbox import Inbox, default_limiter
from ohtchat.chat.liveness import Liveness
from ohtchat.chat.mailbox import Pickup
from ohtchat.chat.names import NameBook
from ohtchat.chat.news import DeviceNews
from ohtchat.chat.ports import Now, Requester, Sleep
from ohtchat.chat.presence import DhtApi, Presence
from ohtchat.chat.ratchets import Ratchets
from ohtchat.chat.receipts import Receipts
from ohtchat.chat.sync import DeviceSync
from ohtchat.chat.tasks import Background
from ohtchat.chat.tickets import Tickets
from ohtchat.chat.whispers import Whispers
from ohtchat.ringcast.message import Broadcast
from ohtchat.session.identity import PeerIdentity
from ohtchat.store import Channel, Contact, Message, MessageState, Store
from ohtchat.wire.envelope import Fields

log = logging.getLogger(__name__)

__all__ = ["DELIVER", "METHODS", "ChatError", "ChatService"]

#: Seconds between rounds that give tickets to contacts that still lack one.
TICKET_ROUND = 3600.0


class ChatService:
    """Chat for the active account of one node."""

    def __init__(
        self,
        account: LocalAccount,
        store: Store,
        pool: Requester,
        dht: DhtApi,
        bus: EventBus,
        *,
        advertise: str,
        now: Now,
        sleep: Sleep,
        deliver_timeout: float = 20.0,
        heartbeat_interval: float = 30.0,
    ) -> None:
        self.account = account
        self.me = account.account_id
        self.store = store
        self.pool = pool
        self.dht = dht
        self.bus = bus
        self.advertise = advertise
        self.now = now
        self.sleep = sleep
        self.tasks = Background()
        self.names = NameBook(store, account)
        self.directory = PresenceDirectory(
            account, dht, self.names, advertise=advertise, now=now, sleep=sleep
        )
        #: Our device list in the DHT and verified reads of others' (docs/devices.md).
        self.devices = DeviceDirectory(account, store, dht, now=now)
        self.liveness = Liveness(store, bus, interval=heartbeat_interval, now=now, sleep=sleep)
        self.messages = Conversations(store, bus, self.me, self.names)
        #: The double ratchets with every peer device (whispers, contact items), in the store.
        self.ratchets = Ratchets(account, store)
        #: Contact tickets: ours for contacts' deposits, theirs for our deposits (kept in store).
        self.tickets = Tickets(account, store, revoke=self._revoke)
        self.delivery = Delivery(
            account,
            pool,
            dht,
            self.directory,
            self.devices,
            self.ratchets,
            self.tickets,
            on_answer=self.liveness.answered,
            timeout=deliver_timeout,
        )
        self.whispers = Whispers(
            account,
            store,
            names=self.names,
            messages=self.messages,
            sender=self.delivery,
            now=now,
        )
        self.contacts = Contacts(
            account,
            store,
            bus,
            names=self.names,
            lookup=self.directory,
            sender=self.delivery,
            messages=self.messages,
            presences=self.liveness,
            whisperer=self.whispers,
            tickets=self.tickets,
            now=now,
        )
        self.channels = Channels(
            account,
            store,
            bus,
            dht,
            sender=self.delivery,
            messages=self.messages,
            spawn=self.tasks.spawn,
            now=now,
        )
        self.receipts = Receipts(self.me, store, self.delivery, self.messages, now)
        #: Sent messages, read state and contacts, to and from our other devices.
        self.sync = DeviceSync(
            self.me,
            store,
            self.devices,
            self.delivery,
            spawn=self.tasks.spawn,
            now=now,
            on_message=self.messages.emit_message,
            on_contact=self._contact_synced,
            on_channel=self._channel_synced,
        )
        #: What happens when a device list changes (ours or a peer's).
        self.device_news = DeviceNews(
            account, store, bus, self.devices, self.delivery, spawn=self.tasks.spawn, now=now
        )
        self.messages.on_final = self.sync.sent
        self.contacts.on_change = self.sync.contact
        self.channels.on_change = self.sync.channel
        self.devices.on_link = self.device_news.linked
        self.devices.on_unlink = self.device_news.unlinked
        self.devices.on_new_device = self.device_news.new_device
        #: Per-sender token bucket on incoming items (burst 30, then 2 per second).
        self.limiter = default_limiter()
        self.inbox = Inbox(
            self.me,
            names=self.names,
            presences=self.liveness,
            messages=self.messages,
            contacts=self.contacts,
            channels=self.channels,
            receipts=self.receipts,
            ratchets=self.ratchets,
            devices=self.devices,
            sync=self.sync,
            keys=self.contacts,
            now=now,
            limiter=self.limiter,
        )
        self.inbox.on_devices_changed = self.device_news.changed
        self.pickup = Pickup(account, store, dht, self.inbox, self.receipts, self.tasks.spawn)
        self.heartbeats = Heartbeats(
            store,
            self.delivery,
            on_answer=self.liveness.answered,
            interval=heartbeat_interval,
            now=now,
            sleep=sleep,
        )

    # ------------------------------------------------------------------ settings
    @property
    def status(self) -> str:
        """What our heartbeats tell contacts we are: ``online`` or ``away``."""
        return self.heartbeats.status

    @status.setter
    def status(self, value: str) -> None:
        self.heartbeats.status = value

    @property
    def heartbeat_interval(self) -> float:
        """Seconds between heartbeats (presence ages in multiples of it)."""
        return self.heartbeats.interval

    @property
    def deliver_timeout(self) -> float:
        """How long a direct delivery waits for the recipient's receipt, seconds."""
        return self.delivery.timeout

    @property
    def presence_cache(self) -> float:
        """How long a looked-up presence is used before the DHT is asked again, seconds."""
        return self.directory.cache_for

    @property
    def last_seen(self) -> dict[str, tuple[float, str]]:
        """Account id → (when last heard from, ``online`` | ``away``)."""
        return self.liveness.last_seen

    # ------------------------------------------------------------------ lifetime
    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run ``coro`` in the background, keeping a reference until it ends."""
        self.tasks.spawn(coro)

    async def stop(self) -> None:
        """Cancel background work."""
        await self.tasks.stop()

    async def heartbeat_loop(self) -> None:
        """Heartbeats to accepted contacts, and the presence watch that ages silent ones out
        (separate loops, so a slow heartbeat never holds a stale "online")."""
        await asyncio.gather(self.heartbeats.loop(), self.liveness.watch(), self.ticket_loop())

    async def ticket_loop(self) -> None:
        """Give accepted contacts made before tickets existed a ticket for our mailbox, and
        renew the revocations of removed contacts' tickets: at start-up, then every
        :data:`TICKET_ROUND` seconds (a send that failed is tried again)."""
        while True:
            with contextlib.suppress(Exception):  # a contact's node or the DHT may be down
                await self.contacts.issue_tickets()
            if revoked := self.tickets.revoked():
                with contextlib.suppress(Exception):
                    await self.dht.mailbox_delete(self.account.key, revoked)
            await self.sleep(TICKET_ROUND)

    def _revoke(self, keys: list[bytes]) -> None:
        """Revoke ticket keys at our mailbox's holders now (deletion markers naming them)."""
        self.tasks.spawn(self.dht.mailbox_delete(self.account.key, keys))

    # ------------------------------------------------------------------ presence and names
    async def publish_presence(self) -> None:
        """Publish (or refresh) our device list, then our presence records (none once this
        device was unlinked: it no longer speaks for the account)."""
        try:
            await self.devices.publish()
        except Exception as exc:  # best effort: peers without our list reach our presence
            log.info("could not publish the device list: %s", exc)
        if self.devices.unlinked:
            self.device_news.say_unlinked()
            return
        await self.directory.publish()

    # ------------------------------------------------------------------ devices
    def _contact_synced(self, acct: str) -> None:
        try:
            c = self.store.get_contact(acct)
        except KeyError:
            self.bus.publish(ContactEvent(acct, "", "removed"))
            return
        self.bus.publish(ContactEvent(acct, c.name, c.state))

    def _channel_synced(self, ch: Channel | None, channel_id: str) -> None:
        members = ch.members if ch is not None else ()
        self.bus.publish(ChannelEvent(channel_id, ch.name if ch else "", members))

    def mark_read(self, conversation: str) -> int:
        """Mark a conversation read here and on our other devices; how many were unread."""
        count = self.store.mark_read(conversation)
        if count:
            self.sync.read(conversation)
        return count

    async def lookup(self, acct_id: str, fresh: bool = False) -> Presence:
        """The verified presence of an account (:class:`ChatError` if none); cached."""
        return await self.directory.lookup(acct_id, fresh)

    async def claim_handle(self, handle: str) -> None:
        """Claim ``handle`` (first come): ``handle:<SHA3(name)>`` → our account id."""
        await self.directory.claim_handle(handle)

    async def lookup_handle(self, handle: str) -> str:
        """The account id a handle belongs to (:class:`ChatError` if unclaimed)."""
        return await self.directory.lookup_handle(handle)

    def name_of(self, acct_id: str) -> str:
        """A display name for an account: contact name, presence name or a short id."""
        return self.names.name_of(acct_id)

    def resolve(self, ref: str) -> str:
        """An account id from a full id, a unique id prefix, or a contact name."""
        return self.names.resolve(ref)

    def contact_fingerprint(self, c: Contact) -> str:
        """The out-of-band comparable fingerprint of a contact's account key."""
        return contact_fingerprint(c)

    def safety_number(self, c: Contact) -> str:
        """The 60-digit safety number of our account and a contact's ("" if its key is
        unknown), docs/protocol.md §15.9."""
        return self.contacts.safety_number(c.account_public) if c.account_public else ""

    def verify_contact(self, ref: str) -> Contact:
        """``/verify-contact ID``: mark a contact verified under its current safety number."""
        return self.contacts.verify(ref)

    # ------------------------------------------------------------------ sending
    def failure_reason(self, msg_id: str) -> str | None:
        """Why our message ``msg_id`` failed (``unknown``, ``mailbox_full``, ``unreachable``),
        when it did recently."""
        return self.delivery.failures.get(msg_id)

    def receipted_by(self, msg_id: str) -> tuple[str, ...]:
        """The device ids that receipted our message ``msg_id`` directly (recent ones)."""
        return self.delivery.receipts.get(msg_id, ())

    async def send_item(self, to: str, item: ChatItem) -> MessageState:
        """Deliver ``item`` directly, else through the mailbox; the resulting state."""
        return await self.delivery.send_item(to, item)

    async def whisper(self, ref: str, text: str) -> Message:
        """``/whisper``: send ``text`` to an account; returns the stored message (final state)."""
        return await self.whispers.whisper(ref, text)

    # ------------------------------------------------------------------ receiving
    async def handle_rpc(self, peer: PeerIdentity, method: str, params: Fields) -> dict[str, Any]:
        """Incoming ``chat_deliver`` over an authenticated session: the reply is the receipt."""
        return await self.inbox.handle_rpc(peer, method, params)

    async def receive(self, sender_pub: bytes, item: ChatItem, direct: bool = True) -> None:
        """Handle one authenticated item (over a session when ``direct``, else a mailbox item)."""
        await self.inbox.receive(sender_pub, item, direct)

    def on_ringcast(self, b: Broadcast) -> None:
        """A ringcast arrived (or our own came back): keep it in the ``ringcast`` conversation."""
        self.messages.on_ringcast(b)

    async def drain_mailbox(self) -> int:
        """Pick up our mailbox (receipting what it stored); returns how many were new."""
        return await self.pickup.drain()

    # ------------------------------------------------------------------ conversations
    def store_sent(self, item: ChatItem) -> Message:
        """Keep an outgoing item's text as our message in its conversation (state sending)."""
        return self.messages.store_sent(item)

    def store_received(self, conversation: str, sender: str, item: ChatItem) -> bool:
        """Store a received message once; announce it. False if it was a duplicate."""
        return self.messages.store_received(conversation, sender, item)

    def set_state(self, msg: Message, state: MessageState) -> Message:
        """Record and announce a message's new delivery state."""
        return self.messages.set_state(msg, state)

    def emit_message(self, msg: Message) -> None:
        """Announce a message (sent or received) to the UIs."""
        self.messages.emit_message(msg)

    def message_view(self, msg: Message) -> MessageView:
        """A message as UIs see it, in results and events."""
        return self.messages.message_view(msg)

    def history(
        self, ref: str | None, limit: int, before: str | None = None
    ) -> tuple[str, list[Message]]:
        """The newest ``limit`` messages of a conversation, oldest first."""
        return self.messages.history(ref, limit, before)

    def conversation_of(self, ref: str) -> str:
        """A conversation id from a channel id/name, ``ringcast``, or an account reference."""
        return self.messages.conversation_of(ref)
