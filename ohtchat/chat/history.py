"""History transfer between the devices of one account (issue 16, part 3).

A newly linked device asks another device of the same account for its past messages, on
request (``/fetchhistory``), in bounded pages::

    device_history {before: str | nil, limit: int 1..MAX_PAGE}
                   → {messages: [message, ...], more: bool}
    message = {conversation: str, id: str, sender: str, text: str, sent_at: float,
               state: "sending" | "queued" | "delivered" | "failed" | "received", read: bool}

Messages come newest first across every conversation; ``before`` is the id of the last (oldest)
message of the previous page (nil for the first). A page holds at most ``limit`` messages and
at most :data:`MAX_PAGE_BYTES` of encoded messages; ``more`` says whether older ones remain.

**End to end encrypted**: the call runs over the authenticated hybrid-KEM session between the
two devices' own onions (:mod:`ohtchat.session`), so only those two devices see the messages.
The server answers only a peer whose account is ours and whose node key is a current,
non-revoked entry of our device list (the injected ``is_own_device``); anyone else gets
``not_own_device``.

The client checks every field of every message of a page before storing any of it (a bad page
stores nothing), keeps each message once by id (one already stored stays as it is), announces
nothing per message (a big import would flood the UIs) and publishes one summary at the end.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from ohtchat.api.bus import EventBus
from ohtchat.api.events import LogEvent
from ohtchat.chat.envelopes import MAX_TEXT
from ohtchat.chat.errors import ChatError
from ohtchat.chat.ports import Requester
from ohtchat.session.identity import PeerIdentity
from ohtchat.session.rpc import RpcError
from ohtchat.session.session import MAX_PLAINTEXT
from ohtchat.store import Message, MessageState, Store
from ohtchat.wire.envelope import Fields, pack
from ohtchat.wire.errors import MalformedMessage

HISTORY_METHOD = "device_history"
#: Every method this module serves (the app layer routes them to :meth:`DeviceHistory.handle_rpc`).
HISTORY_METHODS = (HISTORY_METHOD,)
#: Most messages one page holds.
MAX_PAGE = 500
#: Most bytes of one page's messages (the sum of their msgpack encodings). 1 MiB is the
#: protocol's ceiling, but a reply must fit one session frame (``MAX_PLAINTEXT``, 256 KiB less
#: the cipher overhead), so the bound is that frame less room for the reply's envelope.
MAX_PAGE_BYTES = min(1 << 20, MAX_PLAINTEXT - 8 * 1024)
#: Longest message id, conversation id and sender id (account ids are 64 hex digits).
MAX_REF = 128
#: What one ``fetch`` takes at most by default: messages, and bytes of encoded messages.
DEFAULT_LIMIT = 10_000
DEFAULT_MAX_BYTES = 8 << 20
#: Seconds one page may take (a page is up to ~250 KiB, over Tor).
PAGE_TIMEOUT = 60.0
#: The fields of a message on the wire: exactly these, no others.
FIELDS = frozenset({"conversation", "id", "sender", "text", "sent_at", "state", "read"})
#: ``LogEvent.topic`` of the summary of a fetch.
HISTORY_TOPIC = "history"

_STATES = {s.value: s for s in MessageState}


class HistoryError(ChatError):
    """A history transfer failed: refused, unreachable, or the other device sent a bad page."""


def encode_message(msg: Message) -> dict[str, Any]:
    """A stored message as it travels (texts longer than ``MAX_TEXT`` are cut)."""
    return {
        "conversation": msg.conversation,
        "id": msg.msg_id,
        "sender": msg.sender,
        "text": msg.text[:MAX_TEXT],
        "sent_at": float(msg.timestamp),
        "state": msg.state.value,
        "read": msg.read,
    }


def _ref(f: Fields, key: str) -> str:
    value = f.str_(key, MAX_REF, 1)
    if not value.isprintable():
        raise MalformedMessage(f"{f.where}: field {key!r} must be printable")
    return value


def decode_message(raw: object, where: str = "message") -> Message:
    """An untrusted wire message as a :class:`Message`; :class:`MalformedMessage` naming the
    field when any is missing, extra, of the wrong type or out of bounds."""
    if not isinstance(raw, dict):
        raise MalformedMessage(f"{where}: must be a map")
    if set(raw) != FIELDS:
        odd = sorted(str(k)[:32] for k in set(raw) ^ FIELDS)
        raise MalformedMessage(f"{where}: missing or unknown fields {', '.join(odd)}")
    f = Fields(raw, where)
    sent_at = raw["sent_at"]
    if isinstance(sent_at, bool) or not isinstance(sent_at, int | float):
        raise MalformedMessage(f"{where}: field 'sent_at' must be a number")
    if not math.isfinite(sent_at) or sent_at < 0:
        raise MalformedMessage(f"{where}: field 'sent_at' must be a finite time")
    state = _STATES.get(f.str_("state", 16, 1))
    if state is None:
        raise MalformedMessage(f"{where}: field 'state' must be one of {', '.join(_STATES)}")
    return Message(
        msg_id=_ref(f, "id"),
        conversation=_ref(f, "conversation"),
        sender=_ref(f, "sender"),
        text=f.str_("text", MAX_TEXT),
        timestamp=float(sent_at),
        state=state,
        read=f.bool_("read"),
    )


def encoded_size(doc: dict[str, Any]) -> int:
    """Bytes of one encoded message (what the page bounds count)."""
    return len(pack(doc))


def history_params(before: str | None, limit: int) -> dict[str, Any]:
    """The params of a ``device_history`` call."""
    return {"before": before, "limit": limit}


def parse_params(f: Fields) -> tuple[str | None, int]:
    """``(before, limit)`` of an untrusted ``device_history`` call."""
    before = None if f.data.get("before") is None else _ref(f, "before")
    return before, f.int_("limit", 1, MAX_PAGE)


def parse_page(
    reply: Fields, asked: int, after: tuple[float, str] | None
) -> tuple[list[Message], list[int], bool]:
    """``(messages, their encoded sizes, more)`` of an untrusted reply to a call that asked
    for ``asked`` messages older than sort key ``after``; :class:`MalformedMessage` unless
    the whole page is valid: every message, at most ``asked`` of them and ``MAX_PAGE_BYTES``,
    strictly newest first and older than ``after``, each id once, and not empty when ``more``
    (so paging always moves on and ends)."""
    raw = reply.list_("messages", asked)
    more = reply.bool_("more")
    msgs: list[Message] = []
    sizes: list[int] = []
    seen: set[str] = set()
    last = after
    for i, item in enumerate(raw):
        msg = decode_message(item, f"{reply.where}.messages[{i}]")
        if last is not None and msg.sort_key >= last:
            raise MalformedMessage(f"{reply.where}.messages[{i}]: not older than the one before")
        if msg.msg_id in seen:
            raise MalformedMessage(f"{reply.where}.messages[{i}]: id repeated")
        seen.add(msg.msg_id)
        last = msg.sort_key
        msgs.append(msg)
        sizes.append(encoded_size(item))
    if sum(sizes) > MAX_PAGE_BYTES:
        raise MalformedMessage(f"{reply.where}: page larger than {MAX_PAGE_BYTES} bytes")
    if more and not msgs:
        raise MalformedMessage(f"{reply.where}: an empty page that claims more")
    return msgs, sizes, more


class DeviceHistory:
    """Both ends of the history transfer between our own devices (see the module docstring).

    Serves :data:`HISTORY_METHODS` to our other devices only, and fetches from one of them.
    """

    def __init__(
        self,
        store: Store,
        *,
        requester: Requester,
        is_own_device: Callable[[PeerIdentity], bool],
        bus: EventBus | None = None,
        timeout: float = PAGE_TIMEOUT,
    ) -> None:
        self.store = store
        self.requester = requester
        self.is_own_device = is_own_device
        self.bus = bus
        self.timeout = timeout

    # ------------------------------------------------------------------ serving

    async def handle_rpc(self, peer: PeerIdentity, method: str, params: Fields) -> dict[str, Any]:
        """``device_history`` from an authenticated peer: a page, for our own devices only
        (over their end-to-end encrypted session)."""
        if method != HISTORY_METHOD:
            raise RpcError("unknown_method", method[:64])
        if not self.is_own_device(peer):
            raise RpcError("not_own_device", "history is served to this account's devices only")
        before, limit = parse_params(params)
        if before is not None and not self.store.has_message(before):
            raise RpcError("unknown_cursor", f"no message {before[:32]}")
        messages, more = self.page(before, limit)
        return {"messages": messages, "more": more}

    def page(self, before: str | None, limit: int) -> tuple[list[dict[str, Any]], bool]:
        """Up to ``limit`` encoded messages older than message ``before``, newest first, within
        ``MAX_PAGE_BYTES``; and whether older ones remain. A stored message that would not
        pass :func:`decode_message` is left out (the other side would refuse the page)."""
        out: list[dict[str, Any]] = []
        size = 0
        cursor = before
        while True:
            batch = self.store.all_history(limit=limit + 1, before=cursor)
            if not batch:
                return out, False
            for msg in batch:
                doc = encode_message(msg)
                try:
                    decode_message(doc)
                except MalformedMessage:
                    continue
                n = encoded_size(doc)
                if len(out) >= limit or size + n > MAX_PAGE_BYTES:
                    return out, True
                out.append(doc)
                size += n
            cursor = batch[-1].msg_id

    # ----------------------------------------------------------------- fetching

    async def fetch(
        self,
        address: str,
        onion: str,
        limit: int = DEFAULT_LIMIT,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> int:
        """Fetch our history from our device at ``address`` (proving ``onion``), newest first,
        until it has no more or ``limit`` messages / ``max_bytes`` encoded bytes were taken;
        the number of messages that were new here. Travels over the end-to-end encrypted
        session between the two devices. Each page is checked whole before any of it is
        stored; :class:`HistoryError` on a refusal, a failed call or a bad page (the pages
        stored before it stay: each was valid)."""
        taken = new = used = 0
        before: str | None = None
        after: tuple[float, str] | None = None
        while taken < limit and used < max_bytes:
            asked = min(MAX_PAGE, limit - taken)
            params = history_params(before, asked)
            try:
                reply = await self.requester.request(
                    address, onion, HISTORY_METHOD, params, self.timeout
                )
                msgs, sizes, more = parse_page(reply, asked, after)
            except RpcError as exc:
                raise HistoryError(self._failed(new, f"the device refused: {exc}")) from exc
            except MalformedMessage as exc:
                raise HistoryError(self._failed(new, f"a bad page was refused: {exc}")) from exc
            # The byte budget is kept exactly: a page is cut where it would overflow it.
            fit = 0
            while fit < len(msgs) and used + sizes[fit] <= max_bytes:
                used += sizes[fit]
                fit += 1
            new += self._keep(msgs[:fit])
            taken += fit
            if not more or fit < len(msgs):
                break
            before, after = msgs[-1].msg_id, msgs[-1].sort_key
        self._announce(f"history: {new} new message(s) from device {onion[:16]} ({taken} received)")
        return new

    def _keep(self, msgs: list[Message]) -> int:
        """Store the messages not stored yet, silently (one summary follows); how many."""
        return sum(1 for m in msgs if self.store.append_message(m))

    def _failed(self, new: int, why: str) -> str:
        text = f"history transfer stopped after {new} new message(s): {why}"
        self._announce(text, "warning")
        return text

    def _announce(self, text: str, level: str = "info") -> None:
        if self.bus is not None:
            self.bus.publish(LogEvent(level, text, HISTORY_TOPIC))
