"""The DHT commands: ``/put``, ``/get`` and ``/delete``."""

from __future__ import annotations

from ohtchat.api import ops
from ohtchat.api.results import CommandResult
from ohtchat.app.dispatch import HandlerTable
from ohtchat.app.handlers.context import Context
from ohtchat.commands.errors import NotFound
from ohtchat.i18n import _, ngettext

HANDLERS: HandlerTable[Context] = HandlerTable()
"""The handlers of this group, by operation."""


@HANDLERS.handles(ops.Put)
async def put(ctx: Context, args: ops.Put) -> CommandResult:
    """``/put KEY VALUE``: store a signed value on the key's responsible nodes."""
    res = await ctx.dht.put(args.key, args.value.encode())
    return CommandResult.success(
        ngettext("Stored on {n} node.", "Stored on {n} nodes.", res.stored_on).format(
            n=res.stored_on
        ),
        stored_on=res.stored_on,
    )


@HANDLERS.handles(ops.Get)
async def get(ctx: Context, args: ops.Get) -> CommandResult:
    """``/get KEY``: the newest valid value under a key."""
    rec = await ctx.dht.get(args.key)
    if rec is None:
        raise NotFound(_("No value under {key}.").format(key=args.key))
    value = rec.value.decode(errors="replace")
    return CommandResult.success(value, key=args.key, value=value, seq=rec.seq)


@HANDLERS.handles(ops.Delete)
async def delete(ctx: Context, args: ops.Delete) -> CommandResult:
    """``/delete KEY``: a signed tombstone for one of our own keys."""
    n = await ctx.dht.delete(args.key)
    return CommandResult.success(
        ngettext("Deleted on {n} node.", "Deleted on {n} nodes.", n).format(n=n), deleted_on=n
    )
