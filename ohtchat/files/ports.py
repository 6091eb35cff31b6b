"""What file transfers need from the node, as small interfaces (injected, so the transfers run
on virtual time in tests), and the settings the user chose."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ohtchat.files.offer import DEFAULT_MAX_SIZE, FileOffer
from ohtchat.files.quota import Quota
from ohtchat.wire.envelope import Fields


class Requester(Protocol):
    """One RPC over an authenticated session (``SessionPool`` provides it)."""

    async def request(
        self, address: str, onion: str, method: str, params: dict[str, Any], timeout: float
    ) -> Fields:
        """Call ``method`` on the node at ``address`` proving ``onion``; its reply."""
        ...


#: ``(account id, fresh)`` → ``(address, onion)`` of that account's node.
Locate = Callable[[str, bool], Awaitable[tuple[str, str]]]
#: ``(to, conversation, offer)`` → the delivery state of the chat item carrying the offer.
SendOffer = Callable[[str, str, FileOffer], Awaitable[str]]


@dataclass(frozen=True)
class FileSettings:
    """What the user configured: where files go, the size limit, the upload rate."""

    folder: Path
    max_size: int = DEFAULT_MAX_SIZE
    #: Upload limit in bytes per second (0: none).
    rate: int = 0
    quota: Quota = field(default_factory=Quota)


#: Runs a blocking call off the event loop (``asyncio.to_thread`` in a node).
Offload = Callable[..., Awaitable[Any]]
