"""The NETWORK commands: ``/peers``, ``/successor``, ``/predecessor``, ``/ftable``,
``/create``, ``/connect``, ``/lookup``, ``/ping`` and ``/ringcast`` (also what plain text
typed into the ringcast conversation does: :func:`broadcast`)."""

from __future__ import annotations

from typing import Any

from ohtchat.api import ops
from ohtchat.api.results import CommandResult
from ohtchat.api.views import FingerTable, FingerView, Membership, PeerList
from ohtchat.app.dispatch import HandlerTable
from ohtchat.app.handlers.common import peer_data, peer_text
from ohtchat.app.handlers.context import Context
from ohtchat.app.resolve import AccountRef, Scope
from ohtchat.app.stack import peer_view
from ohtchat.chat.service import ChatError
from ohtchat.commands.errors import CommandFailed, NotFound
from ohtchat.crypto.ids import short_id
from ohtchat.i18n import _, ngettext

HANDLERS: HandlerTable[Context] = HandlerTable()
"""The handlers of this group, by operation."""


@HANDLERS.handles(ops.ListPeers)
async def peers(ctx: Context, args: ops.ListPeers) -> CommandResult:
    """``/peers``: every verified peer, nearest first."""
    ps = ctx.ring.peers()
    return CommandResult.success(
        "\n".join(peer_text(p) for p in ps) or _("No peers known."),
        PeerList(tuple(v for p in ps if (v := peer_view(p)) is not None)),
    )


@HANDLERS.handles(ops.GetSuccessor)
async def successor(ctx: Context, args: ops.GetSuccessor) -> CommandResult:
    """``/successor``: the next node on the ring."""
    p = ctx.ring.successor()
    return CommandResult.success(peer_text(p), successor=peer_data(p))


@HANDLERS.handles(ops.GetPredecessor)
async def predecessor(ctx: Context, args: ops.GetPredecessor) -> CommandResult:
    """``/predecessor``: the previous node on the ring."""
    p = ctx.ring.predecessor()
    return CommandResult.success(peer_text(p), predecessor=peer_data(p))


@HANDLERS.handles(ops.FingerTableOp)
async def ftable(ctx: Context, args: ops.FingerTableOp) -> CommandResult:
    """``/ftable``: the distinct fingers, in ring order."""
    rows = ctx.ring.ftable()
    text = "\n".join(f"{r.first:3d}-{r.last:3d}  {peer_text(r.peer)}" for r in rows)
    view = FingerTable(
        tuple(FingerView(r.first, r.last, f"{r.start:064x}", peer_view(r.peer)) for r in rows)
    )
    return CommandResult.success(text or _("The finger table is empty."), view)


@HANDLERS.handles(ops.CreateRing)
async def create(ctx: Context, args: ops.CreateRing) -> CommandResult:
    """``/create``: a new ring with this node alone."""
    if ctx.chord.member:
        raise CommandFailed(_("Already in a ring."), code="ring")
    await ctx.ring.create()
    return CommandResult.success(_("Created a new ring."), Membership(True))


@HANDLERS.handles(ops.Connect)
async def connect(ctx: Context, args: ops.Connect) -> CommandResult:
    """``/connect ADDRESS``: join the ring of the node at ``ADDRESS``."""
    info = await ctx.ring.connect(args.address)
    return CommandResult.success(
        _("Joined the ring; successor {peer}.").format(peer=peer_text(info.successor)),
        Membership(info.member, peer_view(info.successor)),
    )


@HANDLERS.handles(ops.Lookup)
async def lookup(ctx: Context, args: ops.Lookup) -> CommandResult:
    """``/lookup ID``: the ring owner of an account id, and where that account is; a word
    that names no account is looked up as a handle."""
    try:
        ref = ctx.resolve(args.id, Scope.ACCOUNT)
    except NotFound:
        ref = None
    if not isinstance(ref, AccountRef):
        acct = await ctx.chat.lookup_handle(args.id)
        return CommandResult.success(
            _("Handle {handle} belongs to {id}").format(handle=args.id, id=acct), account_id=acct
        )
    ident = ref.account_id
    info = await ctx.ring.lookup(ident)
    text = _("Owner of {key}: {peer} ({hops} hops)").format(
        key=short_id(info.key), peer=peer_text(info.owner), hops=info.hops
    )
    found: dict[str, Any] = {}
    try:
        p = await ctx.chat.lookup(ident)
    except ChatError:
        pass
    else:
        found["account"] = {
            "account_id": ident,
            "name": p.name,
            "onion": p.onion,
            "address": p.address,
        }
        text += "\n" + _("Account {name} is at {onion}").format(name=p.name, onion=p.onion)
    return CommandResult.success(text, owner=peer_data(info.owner), hops=info.hops, **found)


@HANDLERS.handles(ops.Ping)
async def ping(ctx: Context, args: ops.Ping) -> CommandResult:
    """``/ping ADDRESS``: the round trip to a node."""
    info = await ctx.ring.ping(args.address)
    return CommandResult.success(
        _("{peer} answered in {ms} ms").format(
            peer=peer_text(info.peer), ms=round(info.seconds * 1000)
        ),
        peer=peer_data(info.peer),
        seconds=info.seconds,
    )


@HANDLERS.handles(ops.RingCast)
async def ringcast(ctx: Context, args: ops.RingCast) -> CommandResult:
    """``/ringcast MESSAGE``: a message to every node on the ring."""
    return await broadcast(ctx, args.message)


async def broadcast(ctx: Context, text: str) -> CommandResult:
    """Ringcast ``text`` (``/ringcast``, or text typed into the ringcast conversation)."""
    res = await ctx.ringcast.broadcast({"text": text, "name": ctx.account.name})
    return CommandResult.success(
        ngettext(
            "Ringcast sent to {n} branch.", "Ringcast sent to {n} branches.", res.children
        ).format(n=res.children),
        msg_id=res.msg_id.hex(),
        children=res.children,
        reached=res.reached,
    )
