"""The Textual UI in a browser: one browser tab = one ``ohtchat --attach`` under textual-serve's
``AppService``, its terminal bytes relayed over a websocket. The token gate, the page and the
HTTP server are in :mod:`ohtchat.serve.webui`; this module is the textual side of it."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aiohttp import web


async def run_session(request: web.Request, command: str) -> web.StreamResponse:
    """One browser tab: the attached TUI in a subprocess, bytes relayed both ways."""
    from aiohttp import WSMsgType, web
    from textual_serve.app_service import AppService
    from textual_serve.download_manager import DownloadManager

    websocket = web.WebSocketResponse(heartbeat=15, max_msg_size=1 << 16)
    width = _clamp(request.query.get("width"), 80)
    height = _clamp(request.query.get("height"), 24)
    await websocket.prepare(request)
    service = AppService(
        command,
        write_bytes=websocket.send_bytes,
        write_str=websocket.send_str,
        close=_closer(websocket),
        download_manager=DownloadManager(),
    )
    await service.start(width, height)
    try:
        async for message in websocket:
            if message.type != WSMsgType.TEXT:
                continue
            with contextlib.suppress(ValueError, KeyError, TypeError, IndexError):
                await _relay(message.json(), service, websocket)
    finally:
        with contextlib.suppress(Exception):
            await service.stop()
    return websocket


def _closer(websocket: web.WebSocketResponse) -> Callable[[], Awaitable[None]]:
    async def close() -> None:
        await websocket.close()

    return close


async def _relay(envelope: Any, service: Any, websocket: Any) -> None:
    kind, data = envelope[0], envelope[1]
    if kind == "stdin":
        await service.send_bytes(str(data).encode("utf-8"))
    elif kind == "resize":
        await service.set_terminal_size(_clamp(data["width"], 80), _clamp(data["height"], 24))
    elif kind == "ping":
        await websocket.send_json(["pong", data])
    elif kind == "blur":
        await service.blur()
    elif kind == "focus":
        await service.focus()


def _clamp(value: object, default: int) -> int:
    try:
        n = int(str(value))
    except ValueError:
        return default
    return min(max(n, 10), 1000)


def static_dir() -> Path:
    """textual-serve's bundled assets (textual.js with xterm.js, xterm.css, the font)."""
    import textual_serve

    return Path(textual_serve.__file__).parent / "static"
