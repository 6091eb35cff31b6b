"""The TOR commands: ``/tor``, ``/newtor`` and ``/newonions``."""

from __future__ import annotations

from ohtchat.api import ops
from ohtchat.api.results import CommandResult
from ohtchat.app.dispatch import HandlerTable
from ohtchat.app.handlers.context import Context
from ohtchat.app.tor import TorController
from ohtchat.commands.errors import Unavailable
from ohtchat.i18n import _

HANDLERS: HandlerTable[Context] = HandlerTable()
"""The handlers of this group, by operation."""


def _tor(ctx: Context) -> TorController:
    if ctx.tor is None:
        raise Unavailable(
            _("This node does not use tor (transport {t}).").format(t=ctx.options.transport)
        )
    return ctx.tor


@HANDLERS.handles(ops.TorControl)
async def tor(ctx: Context, args: ops.TorControl) -> CommandResult:
    """``/tor [status|start|stop]``: the node's tor process."""
    controller = _tor(ctx)
    action = args.action or "status"
    if action == "status":
        info = await controller.info()
        return CommandResult.success("\n".join(f"{k}: {v}" for k, v in info.items()), **info)
    if action == "stop":
        await controller.stop_on_purpose()
        return CommandResult.success(_("Tor stopped."))
    await controller.start_again()
    return CommandResult.success(_("Tor started."))


@HANDLERS.handles(ops.NewTor)
async def newtor(ctx: Context, args: ops.NewTor) -> CommandResult:
    """``/newtor``: fresh circuits."""
    await _tor(ctx).new_identity()
    return CommandResult.success(_("New circuits requested."))


@HANDLERS.handles(ops.NewOnions)
async def newonions(ctx: Context, args: ops.NewOnions) -> CommandResult:
    """``/newonions``: a new node key, so a new onion address and ring id, same account."""
    old = ctx.identity.onion
    identity = await ctx.node.rotate_onion()
    return CommandResult.success(
        _("New onion address {onion} (was {old}); rejoining the ring.").format(
            onion=identity.onion, old=old
        ),
        onion=identity.onion,
        previous=old,
        node_id=f"{identity.node_id:064x}",
    )
