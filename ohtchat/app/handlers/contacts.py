"""The CONTACTS commands: ``/contacts``, ``/request``, ``/add``, ``/rm``, ``/safety``,
``/verify-contact``, ``/whisper`` and ``/contactcast`` (and what plain text typed into a
contact's conversation does: :func:`whisper_to`)."""

from __future__ import annotations

from ohtchat.api import ops
from ohtchat.api.results import CommandResult
from ohtchat.api.views import ContactList
from ohtchat.app.dispatch import HandlerTable
from ohtchat.app.handlers.accounts import account_id
from ohtchat.app.handlers.common import sent_result, state_text
from ohtchat.app.handlers.context import Context
from ohtchat.app.resolve import Scope
from ohtchat.commands.errors import NotFound
from ohtchat.i18n import _, ngettext
from ohtchat.store import Contact

HANDLERS: HandlerTable[Context] = HandlerTable()
"""The handlers of this group, by operation."""


@HANDLERS.handles(ops.ListContacts)
async def contacts(ctx: Context, args: ops.ListContacts) -> CommandResult:
    """``/contacts``: every contact with presence, state and fingerprint."""
    rows = ctx.chat.contacts.listing()
    text = "\n".join(
        f"{r.name:<20} {r.presence:<8} {r.state:<10} {r.account_id[:16]}…  [{r.fingerprint}]"
        for r in rows
    )
    return CommandResult.success(
        text or _("No contacts yet: /request ID MESSAGE."), ContactList(rows)
    )


@HANDLERS.handles(ops.RequestContact)
async def request(ctx: Context, args: ops.RequestContact) -> CommandResult:
    """``/request ID [MESSAGE]``: ask an account to become a contact."""
    contact, state = await ctx.chat.contacts.request(account_id(ctx, args.id), args.message or "")
    return CommandResult.success(
        _("Contact request to {name}: {state}.").format(
            name=contact.name, state=state_text(str(state))
        ),
        account_id=contact.account_id,
        state=str(state),
    )


@HANDLERS.handles(ops.AddContact)
async def add(ctx: Context, args: ops.AddContact) -> CommandResult:
    """``/add ID``: accept a request, or send one."""
    contact, state = await ctx.chat.contacts.add(account_id(ctx, args.id))
    return CommandResult.success(
        _("Added {name} ({state}).").format(name=contact.name, state=state_text(str(state))),
        account_id=contact.account_id,
        contact_state=contact.state,
        state=str(state),
    )


@HANDLERS.handles(ops.RemoveContact)
async def rm(ctx: Context, args: ops.RemoveContact) -> CommandResult:
    """``/rm ID``: forget a contact (its messages stay)."""
    try:
        contact = ctx.chat.contacts.remove(account_id(ctx, args.id, Scope.REMOTE))
    except KeyError as exc:
        raise NotFound(_("No such contact.")) from exc
    return CommandResult.success(
        _("Removed {name}.").format(name=contact.name), account_id=contact.account_id
    )


def _contact(ctx: Context, ref: str) -> Contact:
    """The saved contact ``ref`` names, with a known key (``NotFound`` otherwise)."""
    try:
        contact = ctx.chat.store.get_contact(account_id(ctx, ref, Scope.REMOTE))
    except KeyError as exc:
        raise NotFound(_("No such contact.")) from exc
    if not contact.account_public:
        raise NotFound(_("The key of {name} is not known yet.").format(name=contact.name))
    return contact


def _grouped(number: str) -> str:
    """A safety number on two lines of 6 groups (as it is read aloud)."""
    groups = number.split()
    return " ".join(groups[:6]) + "\n" + " ".join(groups[6:])


@HANDLERS.handles(ops.SafetyNumber)
async def safety(ctx: Context, args: ops.SafetyNumber) -> CommandResult:
    """``/safety ID``: the safety number shared with a contact, and whether it is verified."""
    contact = _contact(ctx, args.id)
    number = ctx.chat.safety_number(contact)
    verified = contact.verified == number
    status = (
        _("Verified.")
        if verified
        else _("Not verified: compare it with {name}'s, then /verify-contact {name}.").format(
            name=contact.name
        )
    )
    return CommandResult.success(
        _("Safety number with {name}:").format(name=contact.name)
        + "\n"
        + _grouped(number)
        + "\n"
        + status,
        account_id=contact.account_id,
        safety=number,
        verified=verified,
    )


@HANDLERS.handles(ops.VerifyContact)
async def verify_contact(ctx: Context, args: ops.VerifyContact) -> CommandResult:
    """``/verify-contact ID``: mark a contact verified under its current safety number."""
    contact = ctx.chat.verify_contact(_contact(ctx, args.id).account_id)
    return CommandResult.success(
        _("{name} is verified. Safety number:").format(name=contact.name)
        + "\n"
        + _grouped(contact.verified),
        account_id=contact.account_id,
        safety=contact.verified,
        verified=True,
    )


@HANDLERS.handles(ops.Whisper)
async def whisper(ctx: Context, args: ops.Whisper) -> CommandResult:
    """``/whisper ID MESSAGE``: a private message to an account."""
    return await whisper_to(ctx, account_id(ctx, args.id), args.message)


async def whisper_to(ctx: Context, acct_id: str, text: str) -> CommandResult:
    """Whisper ``text`` to the account ``acct_id`` (a full id)."""
    return sent_result(ctx, await ctx.chat.whisper(acct_id, text))


@HANDLERS.handles(ops.ContactCast)
async def contactcast(ctx: Context, args: ops.ContactCast) -> CommandResult:
    """``/contactcast MESSAGE``: whisper to every accepted contact."""
    msgs = await ctx.chat.contacts.contactcast(args.message)
    states = {m.conversation: str(m.state) for m in msgs}
    return CommandResult.success(
        ngettext("Sent to {n} contact.", "Sent to {n} contacts.", len(msgs)).format(n=len(msgs)),
        states=states,
    )
