"""Tab completion values from a node: its accounts, contacts, channels, settings and peers."""

from __future__ import annotations

from collections.abc import Iterable

from ohtchat.app.handlers.context import Context
from ohtchat.commands.spec import Completion


class NodeCompletions:
    """A :class:`~ohtchat.commands.complete.CompletionSource` over one call's context."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def candidates(self, kind: Completion) -> Iterable[str]:
        """Values for one argument kind."""
        store = self.ctx.store
        contacts = [c.name for c in store.contacts()] + [c.account_id for c in store.contacts()]
        channels = [c.name for c in store.channels()] + [c.channel_id for c in store.channels()]
        accounts = [a.name for a in self.ctx.accounts.all()]
        table: dict[Completion, list[str]] = {
            Completion.ACCOUNT: accounts,
            Completion.CONTACT: contacts,
            Completion.KNOWN_ACCOUNT: accounts + contacts,
            Completion.CHANNEL: channels,
            Completion.CONVERSATION: contacts + channels,
            Completion.CONFIG_KEY: [k for k, _v in self.ctx.config.items()],
            Completion.PEER: [p.address for p in self.ctx.ring.peers()],
        }
        return table.get(kind, [])
