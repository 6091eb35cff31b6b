"""The DEVICES commands: ``/link``, ``/joinlink``, ``/devices`` and ``/unlink`` (issue 16).

``/link`` runs on the device that has the account (:mod:`ohtchat.app.linking`), ``/joinlink``
on the fresh node that joins it (:mod:`ohtchat.app.linking_join`; ``ohtchat link CODE`` runs
it). The device list itself is the chat layer's (``chat.devices``).
"""

from __future__ import annotations

import socket
import time
from typing import Any

from ohtchat.api.device_ops import JoinLink, Link, ListDevices, Unlink
from ohtchat.api.results import CommandResult
from ohtchat.api.views import DeviceList as DeviceListView
from ohtchat.api.views import DeviceView, LinkState
from ohtchat.app.dispatch import HandlerTable
from ohtchat.app.handlers.context import Context
from ohtchat.app.linking_bundle import pack_bundle
from ohtchat.app.linking_join import join_link
from ohtchat.chat.devices import device_id
from ohtchat.chat.errors import ChatError
from ohtchat.commands.errors import CommandFailed, NotFound
from ohtchat.crypto.onion import onion_address
from ohtchat.devices import DeviceEntry, DeviceError
from ohtchat.i18n import _

HANDLERS: HandlerTable[Context] = HandlerTable()
"""The handlers of this group, by operation."""


def short_node(node_public: bytes) -> str:
    """How a device is shown: the first 8 hex digits of its device id."""
    return device_id(node_public)[:8]


@HANDLERS.handles(Link)
async def link(ctx: Context, args: Link) -> CommandResult:
    """``/link [new|confirm DIGITS|cancel|status]``."""
    host = ctx.node.linking
    action = (args.action or "new").lower()
    if action == "cancel":
        had = host.cancel()
        text = _("Link cancelled.") if had else _("No link was pending.")
        return CommandResult.success(text, host.state())
    if action == "status":
        state = host.state()
        return CommandResult.success(_("Link: {state}").format(state=state.state), state)
    if action == "confirm":
        return await _confirm(ctx, args.digits or "")
    if ctx.chat.devices.unlinked:
        raise CommandFailed(
            _("This device was unlinked from the account: it cannot link others."),
            code="unlinked",
        )
    code = str(host.new_code(ctx.identity.node_key.public))
    text = "\n".join(
        [
            _("Link code (valid for 10 minutes, works once):"),
            code,
            _(
                "On the new device run: ohtchat link CODE --data-dir NEW_DIR (with the same "
                "--transport and --bootstrap options as this node), or paste the code on the "
                "first-run screen. Then compare the digits both devices show."
            ),
        ]
    )
    return CommandResult.success(text, LinkState("waiting", code, int(host.expires())))


async def _confirm(ctx: Context, digits: str) -> CommandResult:
    host = ctx.node.linking
    attempt = host.confirm(digits)
    try:
        await ctx.chat.devices.link(attempt.node_public, attempt.name)
    except (ChatError, DeviceError) as exc:
        host.fail("certify")
        raise CommandFailed(
            _("Cannot add the device: {error}").format(error=exc), code="link_failed"
        ) from exc
    acct, store = ctx.account, ctx.store
    try:
        bundle = pack_bundle(
            acct.name,
            acct.key,
            acct.created,
            ctx.chat.devices.own(),
            store.contacts(),
            store.channels(),
            ctx.config.items(),
        )
    except Exception:
        host.fail("bundle")  # the waiting device gets a clear refusal, not a silent wait
        raise
    host.deliver(bundle)
    text = _("Device {name} ({id}) linked; it is receiving the account now.").format(
        name=attempt.name, id=short_node(attempt.node_public)
    )
    state = LinkState("confirmed", expires=int(host.expires()), device=attempt.name)
    return CommandResult.success(text, state, node_id=short_node(attempt.node_public))


@HANDLERS.handles(JoinLink)
async def joinlink(ctx: Context, args: JoinLink) -> CommandResult:
    """``/joinlink CODE [NAME]``: become a device of the account that made the code."""
    name = (args.name or socket.gethostname() or "device").strip()[:64]
    outcome = await join_link(ctx, args.code, name, ctx.node.adopt_account)
    text = _("Linked: this device now runs as {name} ({id}), one of {n} devices.").format(
        name=outcome.name, id=outcome.account_id[:16], n=outcome.devices
    )
    return CommandResult.success(
        text, account_id=outcome.account_id, name=outcome.name, devices=outcome.devices
    )


def _view(entry: DeviceEntry, me: bytes) -> DeviceView:
    return DeviceView(
        name=entry.name,
        node_id=device_id(entry.node_public),
        onion=onion_address(entry.node_public),
        added=entry.added,
        expires=entry.cert.expires,
        this_device=entry.node_public == me,
    )


@HANDLERS.handles(ListDevices)
async def devices(ctx: Context, args: ListDevices) -> CommandResult:
    """``/devices``: our account's devices."""
    own = ctx.chat.devices.own()
    me = ctx.identity.node_key.public
    views = tuple(_view(e, me) for e in own.devices)
    lines = [_("Devices of {name}:").format(name=ctx.account.name)]
    for v in views:
        mark = "  " + _("(this device)") if v.this_device else ""
        lines.append(
            "  "
            + _("{name} {id} added {added}, certificate until {expires}").format(
                name=v.name, id=v.node_id[:8], added=_date(v.added), expires=_date(v.expires)
            )
            + mark
        )
    if own.revoked:
        lines.append(_("{n} unlinked device key(s) revoked.").format(n=len(own.revoked)))
    return CommandResult.success("\n".join(lines), DeviceListView(views, len(own.revoked)))


def _date(ts: int) -> str:
    return time.strftime("%Y-%m-%d", time.localtime(ts))


@HANDLERS.handles(Unlink)
async def unlink(ctx: Context, args: Unlink) -> CommandResult:
    """``/unlink DEVICE``: revoke a device (name or node id prefix) of our account."""
    own = ctx.chat.devices.own()
    ref = args.device.strip().lower()
    matches = [
        e
        for e in own.devices
        if e.name.lower() == ref or (len(ref) >= 4 and device_id(e.node_public).startswith(ref))
    ]
    if len(matches) != 1:
        raise NotFound(_("No single device matches '{ref}': see /devices.").format(ref=args.device))
    entry = matches[0]
    if entry.node_public == ctx.identity.node_key.public:
        raise CommandFailed(
            _("This is the device you are using: unlink it from another device."),
            code="this_device",
        )
    await ctx.chat.devices.unlink(entry.node_public)
    data: dict[str, Any] = {"node_id": device_id(entry.node_public)}
    text = _("Unlinked {name} ({id}): its key is revoked.").format(
        name=entry.name, id=short_node(entry.node_public)
    )
    return CommandResult.success(text, **data)
