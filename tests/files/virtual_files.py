"""File transfers on the chat nodes of :mod:`tests.chat.virtual` (memory network, virtual time).

:func:`attach` gives a running :class:`~tests.chat.virtual.ChatPeer` its
:class:`~ohtchat.files.service.FileTransfers`, wired as :class:`ohtchat.app.stack.NodeStack`
wires them (the ``file_*`` methods on its router, offers from its inbox, offers sent as chat
items); after a restart, attach again (the records are in the peer's store).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from ohtchat.app.transfers import OfferItems, OfferSender, locator
from ohtchat.files.ports import FileSettings
from ohtchat.files.protocol import METHODS as FILE_METHODS
from ohtchat.files.service import FileTransfers
from ohtchat.session.router import Router
from tests.chat.virtual import ChatPeer, clock

T = TypeVar("T")


async def inline(fn: Callable[..., T], *args: Any) -> T:
    """Run blocking file work inline: on virtual time a thread's real-time wait would let the
    clock race ahead."""
    return fn(*args)


def attach(
    peer: ChatPeer,
    folder: Path,
    *,
    rate: int = 0,
    max_size: int = 100 * 1024 * 1024,
    checkpoint: int = 256 * 1024,
    window: int = 8,
    cls: type[FileTransfers] = FileTransfers,
) -> FileTransfers:
    """Run file transfers on ``peer`` (received files go to ``folder``)."""
    settings = FileSettings(folder, max_size=max_size, rate=rate)
    files = cls(
        peer.id,
        peer.store,
        peer.bus,
        requester=peer.pool,
        locate=locator(peer.chat),
        send_offer=OfferSender(peer.chat),
        settings=lambda: settings,
        now=clock,
        sleep=asyncio.sleep,
        window=window,
        checkpoint=checkpoint,
        timeout=20.0,
        offload=inline,
    )
    router = peer.pool.handler
    assert isinstance(router, Router)
    router.add(FILE_METHODS, files.handle_rpc)
    peer.chat.inbox.files = OfferItems(files)
    files.start()
    return files


def sha256(path: Path) -> str:
    """The hex SHA-256 of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()
