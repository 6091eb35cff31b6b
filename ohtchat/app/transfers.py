"""File transfers wired into a node: settings from ``config.toml``, offers as chat items.

``files.dir`` (the download folder; default the user's download dir), ``files.max_size``
(bytes per file; default 100 MiB) and ``files.rate`` (upload bytes per second; 0 = no limit)
are read at each use, so ``/set`` and SIGHUP take effect at once.
"""

from __future__ import annotations

import time
from pathlib import Path

from ohtchat.app.options import NodeOptions
from ohtchat.chat.envelopes import ChatItem
from ohtchat.chat.inbox import FILE_OFFER
from ohtchat.chat.service import ChatService
from ohtchat.config import Config, default_download_dir
from ohtchat.files.offer import DEFAULT_MAX_SIZE, FileOffer
from ohtchat.files.ports import FileSettings, Locate
from ohtchat.files.service import FileTransfers


def file_settings(config: Config, options: NodeOptions) -> FileSettings:
    """The file settings now in force."""
    folder = config.get("files.dir")
    max_size = config.get("files.max_size", DEFAULT_MAX_SIZE)
    rate = config.get("files.rate", 0)
    return FileSettings(
        folder=Path(folder).expanduser()
        if isinstance(folder, str) and folder
        else default_download_dir(options.data_dir),
        max_size=max_size if isinstance(max_size, int) and max_size > 0 else DEFAULT_MAX_SIZE,
        rate=rate if isinstance(rate, int) and rate > 0 else 0,
    )


def offer_text(offer: FileOffer) -> str:
    """The text of the file message in the conversation (the name; sizes are the UIs')."""
    return offer.name


class OfferSender:
    """Sends an offer as a ratcheted ``file_offer`` chat item, kept as our message."""

    def __init__(self, chat: ChatService) -> None:
        self.chat = chat

    async def __call__(self, to: str, conversation: str, offer: FileOffer) -> str:
        """Send ``offer`` to ``to``; the delivery state (``delivered``, ``queued``, ``failed``)."""
        extra = {"name": self.chat.account.name, "file": offer.to_wire()}
        item = ChatItem(FILE_OFFER, offer.transfer_id, to, time.time(), offer_text(offer), extra)
        msg = self.chat.store_sent(item)
        state = await self.chat.send_item(to, item)
        self.chat.set_state(msg, state)
        return str(state)


class OfferItems:
    """The inbox's handler of ``file_offer`` items: hands the offer to the transfers."""

    def __init__(self, files: FileTransfers) -> None:
        self.files = files

    def on_item(self, sender: str, sender_pub: bytes, item: ChatItem) -> None:
        """An authenticated offer from ``sender``."""
        self.files.on_offer(sender, item.extra.get("file"))


def locator(chat: ChatService) -> Locate:
    """``(account, fresh)`` → ``(address, onion)`` of the account's node, from its presence."""

    async def locate(acct_id: str, fresh: bool) -> tuple[str, str]:
        presence = await chat.lookup(acct_id, fresh)
        return presence.address, presence.onion

    return locate
