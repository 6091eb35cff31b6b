"""What a reference typed by the user means: one account, one channel, or the ringcast.

Every command that takes an ID or a conversation (``/whisper``, ``/request``, ``/add``, ``/rm``,
``/join``, ``/leave``, ``/channelcast``, ``/history``, ``/sign``, ``/verify``, ``/encrypt``,
``/decrypt``, ``/delaccount``, ``/lookup``) and plain text sent to an open conversation read
it with :func:`resolve`, under one rule. The first step that matches decides:

1. ``ringcast`` (any case): the ringcast conversation.
2. An exact id: the id of a local account, a contact or a channel (``0x`` may precede it;
   hex digits in any case). A full account id (64 hex digits) names that account even when it
   is neither local nor a contact.
3. A name: of a local account, a contact or a channel; an exact match first, else one that
   differs only in case.
4. A unique hex prefix, at least :data:`MIN_PREFIX` digits long, of the id of a local
   account, a contact or a channel.

A step that matches two different targets fails with :class:`Ambiguous`, naming them all
(never a guess); a reference no step matches fails with
:class:`~ohtchat.commands.errors.NotFound`. A :class:`Scope` says which kinds of target a
command accepts: ``/sign`` only local accounts, ``/join`` only channels, plain text any.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass

from ohtchat.api.constants import RINGCAST_CONVERSATION
from ohtchat.chat.accounts import LocalAccount
from ohtchat.commands.errors import CommandFailed, NotFound
from ohtchat.i18n import _
from ohtchat.store import Channel, Contact

#: The shortest hex prefix that may stand for an id (rule 4).
MIN_PREFIX = 4

_HEX = re.compile(r"[0-9a-f]+")
_ACCOUNT_ID_LEN = 64


class Scope(enum.Flag):
    """The kinds of target a reference may name."""

    #: The accounts of this node's store (their keys are here).
    LOCAL = enum.auto()
    #: Contacts, and any account by its full id.
    REMOTE = enum.auto()
    #: Channels this account is in.
    CHANNEL = enum.auto()
    #: The ringcast conversation.
    RINGCAST = enum.auto()
    #: Any account, local or not.
    ACCOUNT = LOCAL | REMOTE
    #: Anything plain text can be sent to.
    CONVERSATION = LOCAL | REMOTE | CHANNEL | RINGCAST


@dataclass(frozen=True)
class AccountRef:
    """An account (local, a contact, or only known by its id)."""

    account_id: str

    @property
    def conversation(self) -> str:
        """Its conversation id (the account id)."""
        return self.account_id


@dataclass(frozen=True)
class ChannelRef:
    """A channel this account is in (or, for ``/join``, one named by its full id)."""

    channel_id: str

    @property
    def conversation(self) -> str:
        """Its conversation id (the channel id)."""
        return self.channel_id


@dataclass(frozen=True)
class RingcastRef:
    """The ringcast conversation: every ringcast this node saw."""

    @property
    def conversation(self) -> str:
        """Its conversation id (``ringcast``)."""
        return RINGCAST_CONVERSATION


Ref = AccountRef | ChannelRef | RingcastRef
"""What a reference resolves to."""


@dataclass(frozen=True)
class Entry:
    """One thing a reference can name: its id, name and the scope it belongs to."""

    scope: Scope
    id: str
    name: str

    @property
    def target(self) -> AccountRef | ChannelRef:
        """What the entry stands for (a local account and a contact may be one account)."""
        return ChannelRef(self.id) if self.scope is Scope.CHANNEL else AccountRef(self.id)


@dataclass(frozen=True)
class Directory:
    """Every local account, contact and channel: what references are resolved against."""

    entries: tuple[Entry, ...]

    @classmethod
    def of(
        cls,
        accounts: Iterable[LocalAccount],
        contacts: Iterable[Contact],
        channels: Iterable[Channel],
    ) -> Directory:
        """The directory of a node's accounts and its store's contacts and channels."""
        return cls(
            (
                *(Entry(Scope.LOCAL, a.account_id, a.name) for a in accounts),
                *(Entry(Scope.REMOTE, c.account_id, c.name) for c in contacts),
                *(Entry(Scope.CHANNEL, c.channel_id, c.name) for c in channels),
            )
        )


class Ambiguous(CommandFailed):
    """A reference matches more than one target; ``data["candidates"]`` lists them."""

    def __init__(self, ref: str, candidates: list[Entry]) -> None:
        shown = ", ".join(f"{e.name} ({e.id[:12]}…)" for e in candidates)
        super().__init__(
            _("{ref!r} matches more than one: {candidates}. Type more of the id.").format(
                ref=ref, candidates=shown
            ),
            code="ambiguous",
            data={
                "ref": ref,
                "candidates": [
                    {"kind": _kind(e.scope), "id": e.id, "name": e.name} for e in candidates
                ],
            },
        )


def resolve(ref: str, directory: Directory, scope: Scope = Scope.CONVERSATION) -> Ref:
    """The one target ``ref`` names among ``directory``'s entries of ``scope`` (see the module
    docstring for the rule); raises :class:`Ambiguous` or
    :class:`~ohtchat.commands.errors.NotFound`."""
    text = ref.strip()
    if Scope.RINGCAST in scope and text.casefold() == RINGCAST_CONVERSATION:
        return RingcastRef()
    entries = [e for e in directory.entries if e.scope in scope]
    digits = text.lower().removeprefix("0x")
    is_hex = bool(_HEX.fullmatch(digits))
    if is_hex:
        exact = [e for e in entries if e.id == digits]
        if exact:
            return _one(text, exact)
        if len(digits) == _ACCOUNT_ID_LEN and Scope.REMOTE in scope:
            return AccountRef(digits)
    folded = text.casefold()
    named = [e for e in entries if e.name == text] or [
        e for e in entries if e.name.casefold() == folded
    ]
    if named:
        return _one(text, named)
    if is_hex and len(digits) >= MIN_PREFIX:
        prefixed = [e for e in entries if e.id.startswith(digits)]
        if prefixed:
            return _one(text, prefixed)
    raise NotFound(_not_found(text, scope), data={"ref": text})


def _one(ref: str, matches: list[Entry]) -> AccountRef | ChannelRef:
    targets = {e.target for e in matches}
    if len(targets) == 1:
        return targets.pop()
    raise Ambiguous(ref, matches)


def _kind(scope: Scope) -> str:
    return {Scope.LOCAL: "account", Scope.REMOTE: "contact"}.get(scope, "channel")


def _not_found(ref: str, scope: Scope) -> str:
    if not scope & ~Scope.LOCAL:
        return _("no single local account matches {ref!r}").format(ref=ref)
    if not scope & ~Scope.ACCOUNT:
        return _("no single contact matches {ref!r}: use the full account id").format(ref=ref)
    if not scope & ~Scope.CHANNEL:
        return _("no channel {ref!r}: /join ID or /channel NAME first").format(ref=ref)
    return _("no contact or channel matches {ref!r}").format(ref=ref)
