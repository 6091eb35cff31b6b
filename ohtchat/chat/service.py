"""The chat service: whispers (online and offline), receipts, contacts, presence, channels.

Everything is keyed by account id. Delivery first tries a direct authenticated session to the
recipient's onion address (from its presence record) and takes the RPC reply as the delivery
receipt; if the recipient is unreachable, the item is signed, sealed to its KEM prekey and put
in its DHT mailbox. Received items are deduplicated by message id, so each is shown once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

from ohtchat.api.bus import EventBus
from ohtchat.api.constants import RINGCAST_CONVERSATION
from ohtchat.api.events import MessageEvent, MessageStateEvent
from ohtchat.api.views import MessageView
from ohtchat.chat.accounts import LocalAccount, fingerprint
from ohtchat.chat.envelopes import MAX_TEXT, ChatItem, new_msg_id, seal_item
from ohtchat.chat.presence import (
    PRESENCE_TTL,
    DhtApi,
    Presence,
    PresenceError,
    handle_key,
    parse_presence,
    presence_key,
    sign_prekey,
)
from ohtchat.crypto.keys import account_id
from ohtchat.ringcast.guard import RateLimiter
from ohtchat.ringcast.message import Broadcast
from ohtchat.session.identity import PeerIdentity
from ohtchat.session.pool import SessionPool
from ohtchat.session.rpc import RpcError
from ohtchat.store import Contact, Message, MessageState, Store
from ohtchat.wire.envelope import Fields
from ohtchat.wire.errors import ProtocolError

log = logging.getLogger(__name__)
DELIVER = "chat_deliver"
#: Pauses (seconds) before asking the DHT again for a presence record it did not return.
LOOKUP_RETRIES = (0.5, 1.5)
METHODS = (DELIVER,)


class ChatError(Exception):
    """A chat operation cannot be done (unknown recipient, no presence, ...)."""


class ChatService:
    """Chat for the active account of one node."""

    def __init__(
        self,
        account: LocalAccount,
        store: Store,
        pool: SessionPool,
        dht: DhtApi,
        bus: EventBus,
        *,
        advertise: str,
        deliver_timeout: float = 20.0,
        heartbeat_interval: float = 30.0,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.account = account
        self.me = account.account_id
        self.store = store
        self.pool = pool
        self.dht = dht
        self.bus = bus
        self.advertise = advertise
        self.deliver_timeout = deliver_timeout
        self.heartbeat_interval = heartbeat_interval
        self.now = now
        self.status = "online"
        self._tasks: set[asyncio.Task[Any]] = set()
        self._presence: dict[str, tuple[float, Presence]] = {}
        self.presence_cache = 60.0
        #: Per-sender token bucket on incoming items (burst 30, then 2 per second).
        self.limiter = RateLimiter(rate=2.0, burst=30, max_keys=4096)
        self.last_seen: dict[str, tuple[float, str]] = {}
        self._presence_shown: dict[str, str] = {}
        self._names: dict[str, str] = {}
        # Imported here to keep the module graph simple: channels use this service to send.
        from ohtchat.chat.channels import Channels
        from ohtchat.chat.contacts import Contacts
        from ohtchat.chat.receipts import Pickup

        self.contacts = Contacts(self)
        self.channels = Channels(self)
        self.pickup = Pickup(self)

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run ``coro`` in the background, keeping a reference until it ends."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def stop(self) -> None:
        """Cancel background work."""
        for t in list(self._tasks):
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # ------------------------------------------------------------------ presence
    async def publish_presence(self) -> None:
        """Publish (or refresh) our presence record."""
        acct = self.account
        ident = acct.identity(int(self.now()))
        p = Presence(
            self.me,
            acct.key.public,
            acct.name,
            ident.onion,
            self.advertise,
            acct.kem.public,
            self.now(),
        )
        value = p.to_value(ident.cert.to_bytes(), sign_prekey(acct.key.sign, acct.kem.public))
        await self.dht.put(presence_key(self.me), value, PRESENCE_TTL)

    async def lookup(self, acct_id: str, fresh: bool = False) -> Presence:
        """The verified presence of an account (:class:`ChatError` if none).

        Cached for ``presence_cache`` seconds, so a conversation costs one DHT lookup, not one
        per message; a failed delivery drops the cache entry (the peer may have moved).
        """
        cached = self._presence.get(acct_id)
        if cached is not None and not fresh and self.now() - cached[0] < self.presence_cache:
            return cached[1]
        record = await self.dht.get(presence_key(acct_id))
        for pause in LOOKUP_RETRIES:
            if record is not None:
                break
            # While the ring converges (a node just joined) a lookup can reach a node that does
            # not hold the record yet; ask again shortly before concluding there is none.
            await asyncio.sleep(pause)
            record = await self.dht.get(presence_key(acct_id))
        if record is None:
            raise ChatError(f"no presence record for {acct_id[:16]}…")
        try:
            p = parse_presence(acct_id, record.owner, record.value, self.now())
        except PresenceError as exc:
            raise ChatError(str(exc)) from exc
        self._names[acct_id] = p.name
        self._presence[acct_id] = (self.now(), p)
        return p

    async def claim_handle(self, handle: str) -> None:
        """Claim ``handle`` (first come): ``handle:<SHA3(name)>`` → our account id."""
        await self.dht.put(handle_key(handle), self.me.encode(), PRESENCE_TTL)

    async def lookup_handle(self, handle: str) -> str:
        """The account id a handle belongs to (:class:`ChatError` if unclaimed)."""
        record = await self.dht.get(handle_key(handle))
        if record is None:
            raise ChatError(f"nobody has claimed the handle {handle!r}")
        acct = str(record.value.decode(errors="replace"))
        if account_id(record.owner) != acct:
            raise ChatError("the handle record is not owned by the account it names")
        return acct

    def name_of(self, acct_id: str) -> str:
        """A display name for an account: contact name, presence name or a short id."""
        if acct_id == self.me:
            return self.account.name
        with contextlib.suppress(KeyError):
            return self.store.get_contact(acct_id).name
        return self._names.get(acct_id, acct_id[:12])

    def resolve(self, ref: str) -> str:
        """An account id from a full id, a unique id prefix, or a contact name."""
        ref = ref.strip()
        low = ref.lower().removeprefix("0x")
        if len(low) == 64 and all(c in "0123456789abcdef" for c in low):
            return low
        matches = [
            c.account_id
            for c in self.store.contacts()
            if c.name == ref or c.account_id.startswith(low)
        ]
        if len(set(matches)) != 1:
            raise ChatError(f"no single contact matches {ref!r}: use the full account id")
        return matches[0]

    # ------------------------------------------------------------------ sending
    async def send_item(self, to: str, item: ChatItem) -> MessageState:
        """Deliver ``item`` directly, else through the mailbox; the resulting state."""
        try:
            presence = await self.lookup(to)
        except ChatError:
            return MessageState.FAILED
        if await self._direct(presence, item):
            return MessageState.DELIVERED
        # The cached presence may be stale (a new onion after /newonions): look again once.
        try:
            fresh = await self.lookup(to, fresh=True)
        except ChatError:
            fresh = presence
        if fresh.onion != presence.onion and await self._direct(fresh, item):
            return MessageState.DELIVERED
        try:
            await self.dht.mailbox_put(to, seal_item(self.account.key, fresh.kem_pub, item))
        except Exception as exc:  # the DHT raises its own typed errors; any means "not queued"
            log.warning("mailbox put for %s failed: %s", to[:12], exc)
            return MessageState.FAILED
        return MessageState.QUEUED

    async def _direct(self, presence: Presence, item: ChatItem) -> bool:
        """Try one direct delivery; True when the recipient's node sent the receipt."""
        try:
            reply = await self.pool.request(
                presence.address, presence.onion, DELIVER, item.body(), self.deliver_timeout
            )
            receipt = reply.bool_("receipt")
        except (RpcError, ProtocolError, TimeoutError, OSError) as exc:
            log.info("direct delivery to %s failed (%s)", presence.account_id[:12], exc)
            self._presence.pop(presence.account_id, None)
            return False
        if receipt:
            self.contacts.answered(presence.account_id)
        return receipt

    def store_sent(self, item: ChatItem) -> Message:
        """Keep an outgoing item's text as our message in its conversation (state sending)."""
        msg = Message(
            item.msg_id, item.to, self.me, item.text, item.sent_at, MessageState.SENDING, read=True
        )
        self.store.append_message(msg)
        self.emit_message(msg)
        return msg

    async def whisper(self, ref: str, text: str) -> Message:
        """``/whisper``: send ``text`` to an account; returns the stored message (final state)."""
        to = self.resolve(ref)
        if to == self.me:
            raise ChatError("cannot whisper to yourself")
        item = ChatItem("whisper", new_msg_id(), to, self.now(), text, {"name": self.account.name})
        msg = self.store_sent(item)
        state = await self.send_item(to, item)
        current = self.store.get_message(msg.msg_id)
        if current.state is MessageState.DELIVERED:
            return current  # the recipient's receipt came back before the mailbox put returned
        return self.set_state(msg, state)

    def set_state(self, msg: Message, state: MessageState) -> Message:
        """Record and announce a message's new delivery state."""
        updated = self.store.update_message_state(msg.msg_id, state)
        self.bus.publish(MessageStateEvent(msg.msg_id, msg.conversation, str(state)))
        return updated

    def emit_message(self, msg: Message) -> None:
        """Announce a message (sent or received) to the UIs."""
        self.bus.publish(MessageEvent.of(self.message_view(msg)))

    def message_view(self, msg: Message) -> MessageView:
        """A message as UIs see it, in results and events."""
        return MessageView(
            msg_id=msg.msg_id,
            conversation=msg.conversation,
            sender=msg.sender,
            sender_name=self.name_of(msg.sender),
            text=msg.text,
            timestamp=msg.timestamp,
            state=str(msg.state),
            outgoing=msg.sender == self.me,
        )

    # ------------------------------------------------------------------ receiving
    async def handle_rpc(self, peer: PeerIdentity, method: str, params: Fields) -> dict[str, Any]:
        """Incoming ``chat_deliver`` over an authenticated session: the reply is the receipt."""
        item = ChatItem.from_fields(params)
        if item.to != self.me:
            raise RpcError("not_here", "this node does not serve that account")
        if not self.limiter.allow(peer.account_public, self.now()):
            # A flooding peer gets refused, not stored: memory and disk stay bounded.
            raise RpcError("rate_limited", "too many items; slow down")
        await self.receive(peer.account_public, item)
        return {"receipt": True}

    async def receive(self, sender_pub: bytes, item: ChatItem, direct: bool = True) -> None:
        """Handle one authenticated item from ``sender_pub``: over a session (``direct``) or a
        signed mailbox item. A direct item shows the sender online at once; a mailbox item
        says nothing of where its sender is now."""
        sender = account_id(sender_pub)
        if sender == self.me:
            return
        claimed = item.extra.get("name")
        if isinstance(claimed, str) and claimed.strip():
            # The sender's own display name (unverified, like any chat nickname).
            self._names[sender] = claimed.strip()[:64]
        if direct:
            status = item.extra.get("status") if item.kind == "heartbeat" else "online"
            self.last_seen[sender] = (self.now(), "away" if status == "away" else "online")
        self._dispatch(sender, sender_pub, item)
        if direct:
            self.contacts.refresh_presence()

    def _dispatch(self, sender: str, sender_pub: bytes, item: ChatItem) -> None:
        """Hand an item to what handles its kind (heartbeats only update presence)."""
        if item.kind == "heartbeat":
            return
        if item.kind == "receipt":
            self.pickup.on_receipt(sender, item)
        elif item.kind.startswith("contact_"):
            self.contacts.on_item(sender, sender_pub, item)
        elif item.kind.startswith("channel_"):
            self.channels.on_item(sender, item)
        else:
            self.store_received(sender, sender, item)
            if not self._is_contact(sender):
                self.contacts.remember_stranger(sender, sender_pub)

    def on_ringcast(self, b: Broadcast) -> None:
        """A ringcast arrived (or our own came back): keep it in the ``ringcast`` conversation."""
        payload = b.payload if isinstance(b.payload, dict) else {}
        sender = account_id(b.origin_account_public)
        name = payload.get("name")
        mine = sender == self.me
        if isinstance(name, str) and name.strip() and not mine:
            self._names.setdefault(sender, name.strip()[:64])
        msg = Message(
            b.msg_id.hex(),
            RINGCAST_CONVERSATION,
            sender,
            str(payload.get("text", ""))[:MAX_TEXT],
            b.sent_at,
            MessageState.DELIVERED if mine else MessageState.RECEIVED,
            read=mine,
        )
        if self.store.append_message(msg):
            self.emit_message(msg)

    def store_received(self, conversation: str, sender: str, item: ChatItem) -> bool:
        """Store a received message once; announce it. False if it was a duplicate."""
        if self.store.has_message(item.msg_id):
            return False
        msg = Message(
            item.msg_id, conversation, sender, item.text, item.sent_at, MessageState.RECEIVED
        )
        if not self.store.append_message(msg):
            return False
        self.emit_message(msg)
        return True

    def _is_contact(self, acct_id: str) -> bool:
        try:
            self.store.get_contact(acct_id)
        except KeyError:
            return False
        return True

    async def drain_mailbox(self) -> int:
        """Pick up our mailbox (receipting what it stored); returns how many were new."""
        return await self.pickup.drain()

    # ------------------------------------------------------------------ queries
    def history(
        self, ref: str | None, limit: int, before: str | None = None
    ) -> tuple[str, list[Message]]:
        """The newest ``limit`` messages of a conversation, oldest first."""
        conv = self.conversation_of(ref) if ref else self._latest_conversation()
        msgs = self.store.history(conv, limit=limit, before=before)
        return conv, list(reversed(msgs))

    def conversation_of(self, ref: str) -> str:
        """A conversation id from a channel id/name, ``ringcast``, or an account reference."""
        if ref == "ringcast":
            return ref
        for ch in self.store.channels():
            if ref in (ch.channel_id, ch.name) or (len(ref) >= 6 and ch.channel_id.startswith(ref)):
                return ch.channel_id
        return self.resolve(ref)

    def _latest_conversation(self) -> str:
        convs = self.store.conversations()
        if not convs:
            raise ChatError("no conversations yet")
        return convs[0].conversation

    def contact_fingerprint(self, c: Contact) -> str:
        """The out-of-band comparable fingerprint of a contact's account key."""
        return fingerprint(c.account_public) if c.account_public else ""

    # ------------------------------------------------------------------ timers
    async def heartbeat_loop(self) -> None:
        """Heartbeats to accepted contacts, and the presence watch that ages silent ones out
        (separate loops, so a slow heartbeat never holds a stale "online")."""
        await asyncio.gather(self.contacts.heartbeat_loop(), self.contacts.presence_loop())
