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


def ask_credentials(settings: Any) -> tuple[str, str] | None:
    """``(display name, passphrase)`` from a passphrase source or the setup screens."""
    from ohtchat.serve.passphrase import PassphraseError, read_passphrase

    if settings.memory:
        return settings.name or "you", ""
    try:
        return settings.name, read_passphrase(settings.passphrase_file)[0]
    except PassphraseError:
        pass
    first = _first_run(settings)
    result = run_setup(first, check=None if first else _unlock_check(settings), lang=settings.lang)
    if result is None:
        return None
    name = result.name if isinstance(result, FirstRunResult) else settings.name
    return name, result.passphrase


async def run_local(settings: Any, passphrase: str, *, theme: str | None = None) -> int:
    """Start the node, run the client until the user quits, stop the node."""
    from ohtchat.app.node import ChatNode
    from ohtchat.serve.webui import register_webui

    node = await ChatNode.start(settings.node_options(create_if_missing=True), passphrase)
    try:
        register_webui(node.dispatcher, backend=node, replace=True)
        await OhtchatApp(node, theme=theme).run_async()
    finally:
        await node.stop()
    return 0


def main(settings: Any) -> int:
    """Entry point for plain ``ohtchat``."""
    set_language(settings.lang)
    creds = ask_credentials(settings)
    if creds is None:
        return 0
    name, passphrase = creds
    settings = dataclasses.replace(settings, name=name)
    try:
        return asyncio.run(run_local(settings, passphrase))
    except Exception as exc:  # a clear line, never a traceback, for start-up failures
        print(f"ohtchat: {exc}", file=sys.stderr)
        return 1


__all__ = ["main", "run_local"]
