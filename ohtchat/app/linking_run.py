"""``ohtchat link CODE``: start a node with a throwaway account, link it, print, stop."""

from __future__ import annotations

import asyncio
import sys

from ohtchat.api.constants import LINK_TOPIC
from ohtchat.api.device_ops import JoinLink
from ohtchat.api.events import LogEvent
from ohtchat.app.node import ChatNode
from ohtchat.app.options import NodeError, NodeOptions
from ohtchat.i18n import _
from ohtchat.store.errors import StoreError

#: Seconds to wait until the node is a ring member.
JOIN_TIMEOUT = 300.0


def _fail(message: object) -> None:
    print(f"ohtchat link: {message}", file=sys.stderr)


async def run_link(options: NodeOptions, passphrase: str, code: str, device: str) -> int:
    """Link a node started with ``options`` (its account is replaced) to the account of the
    device that showed ``code``; ``device`` names this device. The link notices (the
    verification digits) are printed as they come. Exit status: 0 linked, 1 refused or
    failed, 2 the node did not start."""
    try:
        node = await ChatNode.start(options, passphrase)
    except (StoreError, NodeError, OSError) as exc:
        _fail(exc)
        return 2

    async def show_notices() -> None:
        async for event in node.events():
            if isinstance(event, LogEvent) and event.topic == LINK_TOPIC:
                print(event.text, flush=True)

    printer = asyncio.get_running_loop().create_task(show_notices())
    try:
        print(_("Joining the ring…"), flush=True)
        await node.ready(timeout=JOIN_TIMEOUT)
        result = await node.call(JoinLink(code, device))
    except TimeoutError:
        _fail(_("could not join the ring (check --transport and --bootstrap)"))
        return 1
    finally:
        printer.cancel()
        await node.stop()
    if not result.ok:
        _fail(result.text)
        return 1
    print(result.text)
    print(_("Start it with the same options, e.g. `ohtchat --serve --data-dir DIR`."))
    return 0
