"""``ohtchat`` with no sub-command: first run or unlock, then the client on an in-process node.

The node and the Textual app share one event loop (``App.run_async``), so network work runs
in the background of the same loop while the screen stays responsive.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
from typing import Any

from ohtchat.i18n import set_language
from ohtchat.tui.app import OhtchatApp, run_setup
from ohtchat.tui.screens.setup import FirstRunResult


def _first_run(settings: Any) -> bool:
    from ohtchat.store import Store

    return not settings.memory and not Store.exists(settings.data_dir)


def _unlock_check(settings: Any) -> Any:
    """An async check of a passphrase against the store (opens and closes it)."""
    from ohtchat.store import Store
    from ohtchat.store.errors import WrongPassphrase

    async def check(passphrase: str) -> bool:
        def attempt() -> bool:
            try:
                Store.open(settings.data_dir, passphrase).close()
            except WrongPassphrase:
                return False
            return True

        return await asyncio.to_thread(attempt)

    return check


def ask_credentials(settings: Any) -> tuple[str, str, str] | None:
    """``(display name, passphrase, link code or "")`` from a passphrase source or the setup
    screens."""
    from ohtchat.serve.passphrase import PassphraseError, read_passphrase

    if settings.memory:
        return settings.name or "you", "", ""
    try:
        return settings.name, read_passphrase(settings.passphrase_file)[0], ""
    except PassphraseError:
        pass
    first = _first_run(settings)
    result = run_setup(first, check=None if first else _unlock_check(settings), lang=settings.lang)
    if result is None:
        return None
    if isinstance(result, FirstRunResult):
        return result.name, result.passphrase, result.link_code
    return settings.name, result.passphrase, ""


async def _link(node: Any, code: str, device: str) -> None:
    """Link the started node (first-run screen's code); notices and outcome show in the log."""
    from ohtchat.api.constants import LINK_TOPIC
    from ohtchat.api.device_ops import JoinLink
    from ohtchat.api.events import LogEvent

    await node.ready(300)
    result = await node.call(JoinLink(code, device))
    node.bus.publish(LogEvent("info" if result.ok else "error", result.text, LINK_TOPIC))


async def run_local(
    settings: Any, passphrase: str, *, theme: str | None = None, link_code: str = ""
) -> int:
    """Start the node, run the client until the user quits, stop the node; with a
    ``link_code``, link it to the account of the device that made the code meanwhile."""
    from ohtchat.app.node import ChatNode
    from ohtchat.serve.webui import register_webui

    node = await ChatNode.start(settings.node_options(create_if_missing=True), passphrase)
    try:
        register_webui(node.dispatcher, backend=node, replace=True)
        linking = None
        if link_code:
            linking = asyncio.get_running_loop().create_task(_link(node, link_code, settings.name))
        await OhtchatApp(node, theme=theme).run_async()
    finally:
        if linking is not None:
            linking.cancel()
        await node.stop()
    return 0


def main(settings: Any) -> int:
    """Entry point for plain ``ohtchat``."""
    set_language(settings.lang)
    creds = ask_credentials(settings)
    if creds is None:
        return 0
    name, passphrase, link_code = creds
    settings = dataclasses.replace(settings, name=name)
    try:
        return asyncio.run(run_local(settings, passphrase, link_code=link_code))
    except Exception as exc:  # a clear line, never a traceback, for start-up failures
        print(f"ohtchat: {exc}", file=sys.stderr)
        return 1


__all__ = ["main", "run_local"]
