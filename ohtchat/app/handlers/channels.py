"""The CHANNELS commands: ``/channels``, ``/channel``, ``/join``, ``/leave`` and
``/channelcast`` (and what plain text typed into a channel does: :func:`cast_to`)."""

from __future__ import annotations

from ohtchat.api import ops
from ohtchat.api.results import CommandResult
from ohtchat.api.views import ChannelList
from ohtchat.app.dispatch import HandlerTable
from ohtchat.app.handlers.common import sent_result
from ohtchat.app.handlers.context import Context
from ohtchat.app.resolve import ChannelRef, Scope
from ohtchat.commands.errors import NotFound
from ohtchat.i18n import _, ngettext

HANDLERS: HandlerTable[Context] = HandlerTable()
"""The handlers of this group, by operation."""


def channel_id(ctx: Context, ref: str) -> str:
    """The id of the channel ``ref`` names (one this account is in)."""
    target = ctx.resolve(ref, Scope.CHANNEL)
    assert isinstance(target, ChannelRef)  # the scope admits channels only
    return target.channel_id


@HANDLERS.handles(ops.ListChannels)
async def channels(ctx: Context, args: ops.ListChannels) -> CommandResult:
    """``/channels``: the channels this account is in."""
    rows = ctx.chat.channels.listing()
    text = "\n".join(f"{r.name:<20} {r.channel_id}  ({len(r.members)})" for r in rows)
    return CommandResult.success(text or _("No channels yet: /channel NAME."), ChannelList(rows))


@HANDLERS.handles(ops.CreateChannel)
async def channel(ctx: Context, args: ops.CreateChannel) -> CommandResult:
    """``/channel [NAME]``: a new channel, this account its owner."""
    ch = await ctx.chat.channels.create(args.name or "")
    return CommandResult.success(
        _("Created channel {name}: {id}").format(name=ch.name, id=ch.channel_id),
        channel_id=ch.channel_id,
        name=ch.name,
    )


@HANDLERS.handles(ops.JoinChannel)
async def join(ctx: Context, args: ops.JoinChannel) -> CommandResult:
    """``/join ID``: join a channel by its id (a channel already joined also by name)."""
    try:
        cid = channel_id(ctx, args.id)
    except NotFound:
        cid = args.id  # not joined yet: the id of a channel in the DHT
    ch = await ctx.chat.channels.join(cid)
    return CommandResult.success(
        ngettext(
            "Joined {name} ({n} member).", "Joined {name} ({n} members).", len(ch.members)
        ).format(name=ch.name, n=len(ch.members)),
        channel_id=ch.channel_id,
        members=list(ch.members),
    )


@HANDLERS.handles(ops.LeaveChannel)
async def leave(ctx: Context, args: ops.LeaveChannel) -> CommandResult:
    """``/leave ID``: tell the members and forget the channel (its messages stay)."""
    ch = await ctx.chat.channels.leave(channel_id(ctx, args.id))
    return CommandResult.success(_("Left {name}.").format(name=ch.name), channel_id=ch.channel_id)


@HANDLERS.handles(ops.ChannelCast)
async def channelcast(ctx: Context, args: ops.ChannelCast) -> CommandResult:
    """``/channelcast ID MESSAGE``: a message to every member of a channel."""
    return await cast_to(ctx, channel_id(ctx, args.id), args.message)


async def cast_to(ctx: Context, cid: str, text: str) -> CommandResult:
    """Send ``text`` to the channel ``cid`` (its full id); the per-member states are in
    ``data["members"]``."""
    msg, states = await ctx.chat.channels.cast(cid, text)
    result = sent_result(ctx, msg)
    return CommandResult(result.ok, result.text, {**result.data, "members": states}, result.view)
