"""Text and results shared by the handler groups: peers, delivery states, sent messages."""

from __future__ import annotations

from typing import Any

from ohtchat.api.codec import to_data
from ohtchat.api.results import CommandResult
from ohtchat.api.views import MessageSent
from ohtchat.app.handlers.context import Context
from ohtchat.chord.rpc import PeerRef
from ohtchat.crypto.ids import short_id
from ohtchat.i18n import _, format_datetime, ngettext
from ohtchat.store import Message


def peer_data(p: PeerRef | None) -> dict[str, Any] | None:
    """A peer as JSON-able data."""
    return None if p is None else {"id": f"{p.id:064x}", "onion": p.onion, "address": p.address}


def peer_text(p: PeerRef | None) -> str:
    """A peer as one short line."""
    return _("(none)") if p is None else f"{short_id(p.id)}  {p.onion}  {p.address}"


def state_text(state: str) -> str:
    """A message's delivery state, for people."""
    return {
        "sending": _("sending"),
        "delivered": _("delivered"),
        "queued": _("queued for offline delivery"),
        "failed": _("failed"),
        "received": _("received"),
    }.get(state, state)


def message_line(ctx: Context, m: Message) -> str:
    """One message of a history or search listing."""
    when = format_datetime(m.timestamp, "short")
    return f"[{when}] <{ctx.chat.name_of(m.sender)}> {m.text}"


def sent_result(ctx: Context, msg: Message) -> CommandResult:
    """The result of sending ``msg`` (a whisper or a channel message): failed when nobody
    could be reached."""
    state = str(msg.state)
    data = to_data(ctx.chat.message_view(msg))
    if state == "failed":
        why = ctx.chat.failure_reason(msg.msg_id) or "unknown"
        text = {
            "mailbox_full": _(
                "Message could not be sent: the recipient is offline and its mailbox is full."
            ),
            "unreachable": _(
                "Message could not be sent: the recipient is offline and its mailbox "
                "cannot be reached."
            ),
            "unlinked": _("Message could not be sent: this device was unlinked from its account."),
        }.get(why, _("Message could not be sent: the recipient is unknown."))
        return CommandResult(False, text, {**data, "error": "undeliverable", "reason": why})
    text = _("Message {state}.").format(state=state_text(state))
    # Which devices of the recipient receipted it (an account may have several).
    devices = ctx.chat.receipted_by(msg.msg_id)
    if len(devices) > 1:
        text = ngettext(
            "Message delivered to {n} device.", "Message delivered to {n} devices.", len(devices)
        ).format(n=len(devices))
    sent = MessageSent(msg.msg_id, msg.conversation, state)
    return CommandResult.success(text, sent, **data, devices=list(devices))
