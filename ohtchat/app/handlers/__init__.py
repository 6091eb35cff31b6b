"""The node's command handlers, one module per command group of ``ohtchat.commands.spec``.

Each handler is ``async def whisper(ctx: Context, args: ops.Whisper) -> CommandResult`` and
each module lists its handlers in ``HANDLERS``; :data:`TABLES` is every group's table, what
the node's :class:`~ohtchat.app.dispatch.Dispatcher` is built from.
"""

from __future__ import annotations

from ohtchat.app.dispatch import HandlerTable
from ohtchat.app.handlers import (
    accounts,
    channels,
    config,
    contacts,
    devices,
    dht,
    files,
    general,
    network,
    tor,
)
from ohtchat.app.handlers.context import Context

TABLES: tuple[HandlerTable[Context], ...] = (
    general.HANDLERS,
    network.HANDLERS,
    dht.HANDLERS,
    config.HANDLERS,
    tor.HANDLERS,
    accounts.HANDLERS,
    devices.HANDLERS,
    contacts.HANDLERS,
    channels.HANDLERS,
    files.HANDLERS,
)
"""The handler table of every command group."""
