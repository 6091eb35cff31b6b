"""The new device's side of linking (``ohtchat link CODE``, ``/joinlink``; docs/devices.md).

The node runs with a throwaway account until the bundle arrives. It finds the device that
made the code (its onion key is in the code), dials it, proves the code on that session,
shows the verification string, polls ``link_fetch`` until the other device's user confirmed,
checks the bundle, and adopts the account: same node key and KEM key, the account key
received, the throwaway account deleted (:meth:`ohtchat.app.node.ChatNode.adopt_account`).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from ohtchat.api.constants import LINK_TOPIC
from ohtchat.api.events import LogEvent
from ohtchat.app.handlers.context import Context
from ohtchat.app.linking import MAX_BUNDLE, PART_SIZE, sas_digits
from ohtchat.app.linking_bundle import Bundle, BundleError, parse_bundle
from ohtchat.chat.accounts import LocalAccount
from ohtchat.commands.errors import CommandFailed, Unavailable
from ohtchat.crypto.ids import node_id
from ohtchat.crypto.keys import AccountKey
from ohtchat.crypto.onion import onion_address
from ohtchat.devices import LINK_TTL, DeviceError, LinkCode, link_proof, verification_string
from ohtchat.i18n import _
from ohtchat.session.rpc import RpcConnection, RpcError
from ohtchat.wire.errors import MalformedMessage

#: Seconds between two ``link_fetch`` polls while the other device's user decides.
POLL_INTERVAL = 1.0
#: Seconds to wait for one link RPC.
RPC_TIMEOUT = 30.0


@dataclass(frozen=True)
class JoinOutcome:
    """The account this node now runs as."""

    account_id: str
    name: str
    devices: int


Adopt = Callable[[LocalAccount, Bundle], Awaitable[Any]]


def _fail(exc: RpcError) -> CommandFailed:
    messages = {
        "link_none": _("The other device has no pending link code: run /link there again."),
        "link_expired": _("The link code expired: run /link again on the other device."),
        "link_used": _("This link code was already used: run /link again on the other device."),
        "link_voided": _("The link code is void after bad attempts: run /link again."),
        "link_bad_proof": _("The other device refused the proof for this code."),
        "link_refused": _("The other device refused this link (wrong digits, or cancelled)."),
    }
    text = messages.get(exc.code, _("Linking failed: {error}").format(error=exc))
    return CommandFailed(text, code=exc.code if exc.code.startswith("link_") else "link_failed")


async def _dial(ctx: Context, code: LinkCode) -> RpcConnection:
    """A session to the device that made ``code``, authenticated as its onion key."""
    onion = onion_address(code.onion_public)
    if ctx.options.transport == "onion":
        address = onion
    else:
        # The ring id of a node is H(its node key): the Chord successor of that id is the
        # node itself, whose ring entry says how to dial it.
        if not ctx.chord.member:
            raise Unavailable(_("Not on the ring yet: wait until this node has joined."))
        owner = (await ctx.ring.lookup(node_id(code.onion_public))).owner
        if owner.onion != onion:
            raise CommandFailed(
                _("The device that made this code is not on the ring: is it running?"),
                code="link_unreachable",
            )
        address = owner.address
    try:
        conn = await ctx.stack.pool.connection(address, onion)
    except (RpcError, OSError) as exc:
        raise CommandFailed(
            _("Cannot reach the device that made this code: {error}").format(error=exc),
            code="link_unreachable",
        ) from exc
    if conn.peer.node_public != code.onion_public:  # the session proved another key
        raise CommandFailed(_("The session reached another node."), code="link_unreachable")
    return conn


async def _fetch_bundle(conn: RpcConnection, deadline: float, poll: float) -> bytes:
    """Poll ``link_fetch`` until the bundle is ready, then fetch every part."""
    while True:
        try:
            first = await conn.request("link_fetch", {"part": 0}, RPC_TIMEOUT)
            if first.str_("status", 16) == "linked":
                break
        except RpcError as exc:
            raise _fail(exc) from exc
        if time.time() > deadline:
            raise CommandFailed(_("The other device did not confirm in time."), code="link_expired")
        await asyncio.sleep(poll)
    try:
        total = first.int_("parts", 1, MAX_BUNDLE // PART_SIZE)
        digest = first.bytes_("digest", 32)
        parts = [first.bytes_("data", max_len=PART_SIZE)]
        for i in range(1, total):
            r = await conn.request("link_fetch", {"part": i}, RPC_TIMEOUT)
            if r.int_("part", 0, total) != i or r.bytes_("digest", 32) != digest:
                raise CommandFailed(_("The account arrived garbled."), code="link_bundle")
            parts.append(r.bytes_("data", max_len=PART_SIZE))
    except RpcError as exc:
        raise _fail(exc) from exc
    except MalformedMessage as exc:
        raise CommandFailed(str(exc), code="link_bundle") from exc
    raw = b"".join(parts)
    if not hmac.compare_digest(hashlib.sha3_256(raw).digest(), digest):
        raise CommandFailed(_("The account arrived garbled."), code="link_bundle")
    return raw


async def join_link(
    ctx: Context, code_text: str, device_name: str, adopt: Adopt, *, poll: float = POLL_INTERVAL
) -> JoinOutcome:
    """Link this fresh node to the account of the device that showed ``code_text``."""
    try:
        code = LinkCode.parse(code_text)
    except DeviceError as exc:
        raise CommandFailed(str(exc), code="link_code") from exc
    if len(ctx.accounts.all()) > 1 or ctx.store.contacts() or ctx.store.channels():
        raise CommandFailed(
            _(
                "Linking replaces this node's account: use a fresh data directory "
                "(ohtchat link CODE --data-dir NEW_DIR)."
            ),
            code="link_not_fresh",
        )
    me = ctx.identity.node_key.public
    if code.onion_public == me:
        raise CommandFailed(_("This code was made on this device."), code="link_code")
    conn = await _dial(ctx, code)
    binding = conn.peer.binding
    params = {
        "node_pub": me,
        "name": device_name.strip()[:64] or "device",
        "proof": link_proof(code.secret, binding, me),
    }
    try:
        answer = await conn.request("link_request", params, RPC_TIMEOUT)
        expires = float(answer.int_("expires"))
    except RpcError as exc:
        raise _fail(exc) from exc
    sas = verification_string(code.secret, binding)
    text = _(
        "Verification: {sas}. Type these digits on your other device: /link confirm {digits}"
    ).format(sas=sas, digits=sas_digits(sas))
    ctx.stack.spec.bus.publish(LogEvent("info", text, LINK_TOPIC))
    deadline = min(expires, time.time() + LINK_TTL)
    raw = await _fetch_bundle(conn, deadline, poll)
    try:
        bundle = parse_bundle(raw, me, int(time.time()))
    except BundleError as exc:
        raise CommandFailed(
            _("The account sent by the other device is invalid: {error}").format(error=exc),
            code="link_bundle",
        ) from exc
    acct = ctx.account
    adopted = LocalAccount(
        bundle.name, AccountKey(bundle.seed), acct.node_key, acct.kem, bundle.created
    )
    await adopt(adopted, bundle)
    return JoinOutcome(adopted.account_id, adopted.name, len(bundle.devices.devices))
