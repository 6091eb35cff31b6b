"""The GENERAL commands: ``/status``, ``/history``, ``/fetchhistory``, ``/search`` and ``/quit``,
and plain text typed into the open conversation (:class:`~ohtchat.api.ops.SendText`). ``/help``
is built into the dispatcher (:func:`ohtchat.app.dispatch.help_handler`)."""

from __future__ import annotations

from ohtchat.api import ops
from ohtchat.api.codec import to_data
from ohtchat.api.results import CommandResult
from ohtchat.api.views import MessageList, QuitRequested
from ohtchat.app.dispatch import HandlerTable, no_conversation_text
from ohtchat.app.handlers.channels import cast_to
from ohtchat.app.handlers.common import message_line, peer_text
from ohtchat.app.handlers.contacts import whisper_to
from ohtchat.app.handlers.context import Context
from ohtchat.app.handlers.network import broadcast
from ohtchat.app.resolve import AccountRef, ChannelRef, Scope
from ohtchat.chat.devices import device_id
from ohtchat.chat.history import DEFAULT_LIMIT, HistoryError
from ohtchat.chat.service import ChatError
from ohtchat.commands.errors import CommandFailed, NotFound
from ohtchat.i18n import _

HANDLERS: HandlerTable[Context] = HandlerTable()
"""The handlers of this group, by operation."""

MAX_HISTORY = 1000
"""The most messages ``/history`` shows at once."""


@HANDLERS.handles(ops.GetStatus)
async def status(ctx: Context, args: ops.GetStatus) -> CommandResult:
    """``/status``: account, onion, node id, ring neighbours, transport and tor."""
    view = ctx.node.status_view()
    data = to_data(view)
    info = ctx.ring.info()
    lines = [
        _("Account: {name} ({id})").format(name=view.name, id=view.account_id),
        _("Onion: {onion}").format(onion=view.onion),
        _("Node id: {id}").format(id=view.node_id),
        _("Ring member: {member}; peers: {peers}").format(
            member=_("yes") if view.member else _("no"), peers=view.peers
        ),
        _("Successor: {peer}").format(peer=peer_text(info.successor)),
        _("Predecessor: {peer}").format(peer=peer_text(info.predecessor)),
        _("Transport: {transport}; tor: {tor}").format(
            transport=view.transport, tor=data["tor"]["state"]
        ),
    ]
    return CommandResult.success("\n".join(lines), view)


@HANDLERS.handles(ops.GetHistory)
async def history(ctx: Context, args: ops.GetHistory) -> CommandResult:
    """``/history [CONVERSATION] [N]``: the newest messages of a conversation (the one named,
    else the open one, else the latest), oldest first; marks them read."""
    ref = args.conversation or ctx.conversation
    conv = ctx.resolve(ref).conversation if ref else None
    count = max(1, min(args.count or 50, MAX_HISTORY))
    try:
        conv, msgs = ctx.chat.history(conv, count)
    except ChatError as exc:
        raise NotFound(str(exc)) from exc
    ctx.chat.mark_read(conv)
    return CommandResult.success(
        "\n".join(message_line(ctx, m) for m in msgs) or _("No messages."),
        MessageList(conv, tuple(ctx.chat.message_view(m) for m in msgs)),
    )


@HANDLERS.handles(ops.FetchHistory)
async def fetch_history(ctx: Context, args: ops.FetchHistory) -> CommandResult:
    """``/fetchhistory [DEVICE] [LIMIT]``: receive past messages from another device of this
    account (the one named by device name or node id prefix, else the first that answers),
    over the end-to-end encrypted session between the two devices."""
    devices = ctx.chat.devices
    names = {e.node_public: e.name for e in devices.own().devices}
    online = await devices.presences(ctx.chat.me)
    ref = (args.device or "").strip().lower()
    found = [p for p in online if not ref or _is_device(p.node_public, names, ref)]
    if not found:
        if ref:
            raise NotFound(_("No other online device of yours is called {ref}.").format(ref=ref))
        raise NotFound(_("No other device of yours is online."))
    if ref and len(found) > 1:
        raise CommandFailed(_("{ref} names several devices: give more of its id.").format(ref=ref))
    limit = args.limit or DEFAULT_LIMIT
    errors = []
    for p in found:
        label = f"{device_id(p.node_public)[:8]} {names.get(p.node_public, '')}".strip()
        try:
            new = await ctx.stack.history.fetch(p.address, p.onion, limit=limit)
        except HistoryError as exc:
            errors.append(f"{label}: {exc}")
            continue
        text = _("{count} new message(s) received from device {device}.")
        return CommandResult.success(
            text.format(count=new, device=label), received=new, device=device_id(p.node_public)
        )
    raise CommandFailed("\n".join(errors), code="unavailable")


def _is_device(node_public: bytes, names: dict[bytes, str], ref: str) -> bool:
    """Whether ``ref`` (lowercase) is the device's name or a prefix of its node id."""
    return names.get(node_public, "").lower() == ref or device_id(node_public).startswith(ref)


@HANDLERS.handles(ops.Search)
async def search(ctx: Context, args: ops.Search) -> CommandResult:
    """``/search TEXT``: messages of every conversation containing ``TEXT``."""
    msgs = ctx.store.search(args.text, limit=100)
    return CommandResult.success(
        "\n".join(message_line(ctx, m) for m in msgs) or _("Nothing found."),
        MessageList("", tuple(ctx.chat.message_view(m) for m in msgs), args.text),
    )


@HANDLERS.handles(ops.Quit)
async def quit_(ctx: Context, args: ops.Quit) -> CommandResult:
    """``/quit``: the UI should end."""
    return CommandResult.success(_("Goodbye."), QuitRequested())


@HANDLERS.handles(ops.SendText)
async def send_text(ctx: Context, args: ops.SendText) -> CommandResult:
    """Plain text typed into ``args.conversation``: resolved once, then sent to exactly that
    (a contact: a whisper; a channel: a channel message; ``ringcast``: a ringcast)."""
    if not args.conversation:
        raise CommandFailed(no_conversation_text(), code="no_conversation")
    target = ctx.resolve(args.conversation, Scope.CONVERSATION)
    if isinstance(target, AccountRef):
        return await whisper_to(ctx, target.account_id, args.text)
    if isinstance(target, ChannelRef):
        return await cast_to(ctx, target.channel_id, args.text)
    return await broadcast(ctx, args.text)
