"""The FILES commands: ``/send`` (alias ``/file``), ``/files``, ``/accept`` and ``/cancel``."""

from __future__ import annotations

from pathlib import Path

from ohtchat.api import ops
from ohtchat.api.results import CommandResult
from ohtchat.api.views import FileList, FileView
from ohtchat.app.dispatch import HandlerTable
from ohtchat.app.handlers.context import Context
from ohtchat.app.resolve import AccountRef, ChannelRef, Scope
from ohtchat.commands.errors import CommandFailed, NotFound
from ohtchat.files.errors import TransferFailed
from ohtchat.files.records import Transfer
from ohtchat.i18n import _, format_size

HANDLERS: HandlerTable[Context] = HandlerTable()
"""The handlers of this group, by operation."""


def state_text(view: FileView) -> str:
    """A transfer's state for people."""
    text = {
        "offered": _("offered"),
        "receiving": _("receiving"),
        "sending": _("sending"),
        "done": _("done"),
        "failed": _("failed"),
        "cancelled": _("cancelled"),
    }.get(view.state, view.state)
    return f"{text} ({view.error})" if view.error and view.state != "done" else text


def file_line(ctx: Context, view: FileView) -> str:
    """One transfer of a ``/files`` listing."""
    arrow = "→" if view.direction == "out" else "←"
    progress = f"{format_size(view.done)}/{format_size(view.size)}"
    line = (
        f"{view.id[:8]}  {arrow} {ctx.chat.name_of(view.peer)}  {view.name}  {progress}  "
        f"{state_text(view)}"
    )
    return f"{line}  {view.path}" if view.path and view.direction == "in" else line


def _failed(exc: TransferFailed) -> CommandFailed:
    return CommandFailed(
        _("File transfer failed: {reason}").format(reason=str(exc)),
        code="file",
        data={"reason": exc.reason},
    )


def _find(ctx: Context, ref: str) -> Transfer:
    try:
        return ctx.stack.files.find(ref)
    except KeyError:
        raise NotFound(_("No file transfer {id}.").format(id=ref)) from None


def _listing(ctx: Context, transfers: list[Transfer]) -> tuple[str, FileList]:
    views = tuple(ctx.stack.files.view(t) for t in transfers)
    return "\n".join(file_line(ctx, v) for v in views), FileList(views)


@HANDLERS.handles(ops.SendFile)
async def send_file(ctx: Context, args: ops.SendFile) -> CommandResult:
    """``/send ID PATH``: offer a file to a contact, or to each member of a channel."""
    target = ctx.resolve(args.id, Scope.CONVERSATION)
    path = Path(args.path.strip()).expanduser()
    if not path.is_file():
        raise NotFound(_("No such file: {path}").format(path=str(path)))
    me = ctx.account.account_id
    if isinstance(target, AccountRef):
        if target.account_id == me:
            raise CommandFailed(_("You cannot send a file to yourself."), code="file")
        recipients = [(target.account_id, target.account_id)]
    elif isinstance(target, ChannelRef):
        channel = ctx.store.get_channel(target.channel_id)
        recipients = [(m, channel.channel_id) for m in channel.members if m != me]
        if not recipients:
            raise CommandFailed(_("The channel has no other members."), code="file")
    else:
        raise CommandFailed(_("Files go to a contact or a channel."), code="file")
    try:
        transfers = await ctx.stack.files.offer_file(recipients, path)
    except TransferFailed as exc:
        raise _failed(exc) from exc
    text, view = _listing(ctx, transfers)
    return CommandResult.success(_("Offered:") + "\n" + text, view)


@HANDLERS.handles(ops.ListFiles)
async def list_files(ctx: Context, args: ops.ListFiles) -> CommandResult:
    """``/files``: every transfer, newest first."""
    text, view = _listing(ctx, ctx.stack.files.transfers())
    return CommandResult.success(text or _("No file transfers."), view)


@HANDLERS.handles(ops.AcceptFile)
async def accept_file(ctx: Context, args: ops.AcceptFile) -> CommandResult:
    """``/accept ID``: start receiving an offered file."""
    t = _find(ctx, args.id)
    try:
        ctx.stack.files.accept(t)
    except TransferFailed as exc:
        raise _failed(exc) from exc
    text, view = _listing(ctx, [t])
    return CommandResult.success(_("Receiving:") + "\n" + text, view)


@HANDLERS.handles(ops.CancelFile)
async def cancel_file(ctx: Context, args: ops.CancelFile) -> CommandResult:
    """``/cancel ID``: cancel a transfer that has not ended."""
    t = _find(ctx, args.id)
    try:
        await ctx.stack.files.cancel(t)
    except TransferFailed as exc:
        raise _failed(exc) from exc
    text, view = _listing(ctx, [t])
    return CommandResult.success(_("Cancelled:") + "\n" + text, view)
