"""A minimal Chrome DevTools Protocol client (aiohttp websocket) for the web UI browser test."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import re
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp

from tests.waiting import DEADLINE, eventually


def find_chromium() -> str | None:
    """Debian's chromium (or another Chrome) on PATH."""
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class Page:
    """One tab: send commands, collect events (network requests, websocket frames)."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self._ids = 0
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.events: list[dict[str, Any]] = []
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for msg in self.ws:
            data = json.loads(msg.data)
            if "id" in data and data["id"] in self._pending:
                self._pending.pop(data["id"]).set_result(data)
            elif "method" in data:
                self.events.append(data)

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        self._ids += 1
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[self._ids] = fut
        await self.ws.send_json({"id": self._ids, "method": method, "params": params})
        reply = await asyncio.wait_for(fut, 30)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    async def evaluate(self, expression: str) -> Any:
        result = await self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    async def wait_for(self, expression: str, timeout: float = DEADLINE) -> Any:
        """Evaluate ``expression`` until it is truthy (an evaluation error counts as not yet)."""

        async def check() -> Any:
            with contextlib.suppress(RuntimeError):  # e.g. the page is navigating
                return await self.evaluate(expression)
            return None

        return await eventually(check, expression, timeout, 0.1)

    def document_statuses(self) -> list[int]:
        return [
            e["params"]["response"]["status"]
            for e in self.events
            if e["method"] == "Network.responseReceived" and e["params"].get("type") == "Document"
        ]

    def requested_urls(self) -> list[str]:
        urls = [
            e["params"]["request"]["url"]
            for e in self.events
            if e["method"] == "Network.requestWillBeSent"
        ]
        urls += [
            e["params"]["url"] for e in self.events if e["method"] == "Network.webSocketCreated"
        ]
        return urls

    def websocket_text(self) -> str:
        """Everything the page received over websockets (binary frames decoded)."""
        out = []
        for e in self.events:
            if e["method"] != "Network.webSocketFrameReceived":
                continue
            frame = e["params"]["response"]
            data = frame["payloadData"]
            if frame.get("opcode") == 2:
                data = base64.b64decode(data).decode("utf-8", "replace")
            out.append(data)
        return "".join(out)

    async def screenshot(self, path: Path) -> None:
        shot = await self.send("Page.captureScreenshot", format="png")
        path.write_bytes(base64.b64decode(shot["data"]))


@contextlib.asynccontextmanager
async def chromium_page(binary: str) -> AsyncIterator[Page]:
    """A headless chromium with one page, closed afterwards."""
    profile = tempfile.mkdtemp(prefix="ohtchat-chromium-")
    proc = subprocess.Popen(
        [
            binary,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--remote-debugging-port=0",
            "--remote-allow-origins=*",
            f"--user-data-dir={profile}",
            "--window-size=1200,800",
            "about:blank",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        port = await asyncio.to_thread(_devtools_port, proc)
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/json/list") as resp:
                targets = await resp.json(content_type=None)
            page_target = next(t for t in targets if t.get("type") == "page")
            async with http.ws_connect(page_target["webSocketDebuggerUrl"], max_msg_size=0) as ws:
                page = Page(ws)
                await page.send("Network.enable")
                await page.send("Page.enable")
                yield page
    finally:
        proc.kill()
        proc.wait(10)
        shutil.rmtree(profile, ignore_errors=True)


def _devtools_port(proc: subprocess.Popen[bytes]) -> int:
    assert proc.stderr is not None
    for _ in range(200):
        line = proc.stderr.readline().decode("utf-8", "replace")
        if not line:
            break
        m = re.search(r"DevTools listening on ws://[^:]+:(\d+)/", line)
        if m:
            return int(m.group(1))
    raise RuntimeError("chromium did not start its DevTools server")
