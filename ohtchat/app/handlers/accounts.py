"""The ACCOUNT commands: ``/accounts``, ``/generate``, ``/delaccount``, ``/sign``,
``/verify``, ``/encrypt`` and ``/decrypt``."""

from __future__ import annotations

import contextlib

from ohtchat.api import ops
from ohtchat.api.results import CommandResult
from ohtchat.app.dispatch import HandlerTable
from ohtchat.app.handlers.context import Context
from ohtchat.app.resolve import AccountRef, Scope
from ohtchat.chat.accounts import LocalAccount, decrypt_text, encrypt_text, verify_text
from ohtchat.i18n import _

HANDLERS: HandlerTable[Context] = HandlerTable()
"""The handlers of this group, by operation."""


def account_id(ctx: Context, ref: str, scope: Scope = Scope.ACCOUNT) -> str:
    """The account ``ref`` names (a local one only, with ``Scope.LOCAL``)."""
    target = ctx.resolve(ref, scope)
    assert isinstance(target, AccountRef)  # the scope admits accounts only
    return target.account_id


def local_account(ctx: Context, ref: str) -> LocalAccount:
    """The local account ``ref`` names (its keys are in this store)."""
    return ctx.accounts.find(account_id(ctx, ref, Scope.LOCAL))


@HANDLERS.handles(ops.ListAccounts)
async def accounts(ctx: Context, args: ops.ListAccounts) -> CommandResult:
    """``/accounts``: the local accounts, the active one marked."""
    active = ctx.account.name
    rows = [
        {
            "name": a.name,
            "account_id": a.account_id,
            "active": a.name == active,
            "onion": a.node_key.onion,
        }
        for a in ctx.accounts.all()
    ]
    text = "\n".join(f"{'*' if r['active'] else ' '} {r['name']}  {r['account_id']}" for r in rows)
    return CommandResult.success(text, accounts=rows)


@HANDLERS.handles(ops.GenerateAccount)
async def generate(ctx: Context, args: ops.GenerateAccount) -> CommandResult:
    """``/generate [NAME]``: a new local account with fresh keys."""
    acct = ctx.accounts.generate(args.name or "")
    return CommandResult.success(
        _("Generated account {name} ({id}).").format(name=acct.name, id=acct.account_id),
        name=acct.name,
        account_id=acct.account_id,
    )


@HANDLERS.handles(ops.DeleteAccount)
async def delaccount(ctx: Context, args: ops.DeleteAccount) -> CommandResult:
    """``/delaccount ID``: delete a local account (never the active one)."""
    acct = ctx.accounts.delete(account_id(ctx, args.id, Scope.LOCAL))
    return CommandResult.success(
        _("Deleted account {name}.").format(name=acct.name), account_id=acct.account_id
    )


@HANDLERS.handles(ops.Sign)
async def sign(ctx: Context, args: ops.Sign) -> CommandResult:
    """``/sign ID MESSAGE``: sign with a local account's key."""
    sig = ctx.accounts.sign(account_id(ctx, args.id, Scope.LOCAL), args.message)
    return CommandResult.success(sig, signature=sig)


@HANDLERS.handles(ops.Verify)
async def verify(ctx: Context, args: ops.Verify) -> CommandResult:
    """``/verify ID MESSAGE SIGNATURE``: check a ``/sign`` signature of any account."""
    ok = verify_text(await _account_public(ctx, args.id), args.message, args.signature)
    return CommandResult(
        ok,
        _("Valid signature.") if ok else _("Invalid signature."),
        {"valid": ok, **({} if ok else {"error": "invalid"})},
    )


@HANDLERS.handles(ops.Encrypt)
async def encrypt(ctx: Context, args: ops.Encrypt) -> CommandResult:
    """``/encrypt ID MESSAGE``: seal a message to any account's published KEM key."""
    acct_id = account_id(ctx, args.id)
    local = ctx.local_account(acct_id)
    kem_pub = local.kem.public if local else (await ctx.chat.lookup(acct_id)).kem_pub
    ct = encrypt_text(kem_pub, args.message)
    return CommandResult.success(ct, ciphertext=ct)


@HANDLERS.handles(ops.Decrypt)
async def decrypt(ctx: Context, args: ops.Decrypt) -> CommandResult:
    """``/decrypt ID CIPHERTEXT``: open an ``/encrypt`` ciphertext with a local account."""
    text = decrypt_text(local_account(ctx, args.id), args.ciphertext)
    return CommandResult.success(text, plaintext=text)


async def _account_public(ctx: Context, ref: str) -> bytes:
    """An account's public key: local, a contact's (kept), or from its presence record."""
    acct_id = account_id(ctx, ref)
    local = ctx.local_account(acct_id)
    if local is not None:
        return local.key.public
    with contextlib.suppress(KeyError):
        c = ctx.store.get_contact(acct_id)
        if c.account_public:
            return c.account_public
    return (await ctx.chat.lookup(acct_id)).account_pub
