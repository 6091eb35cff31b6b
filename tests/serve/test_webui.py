"""``/webui``: the token gate (HTTP) and, in headless chromium, the Textual UI of a served node."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from ohtchat.app.dispatch import Dispatcher
from ohtchat.serve.control import ControlServer, socket_is_live
from ohtchat.serve.webui import COOKIE, WebUI, register_webui
from tests.serve.served import cmd_json, memory_node
from tests.waiting import eventually


async def test_token_gate(backend: Any, short_tmp: Path) -> None:
    sock = short_tmp / "c.sock"
    async with ControlServer(backend, sock):
        webui = WebUI(control_socket=sock)
        url = await webui.start()
        base = f"http://127.0.0.1:{webui.port}"
        assert url == f"{base}/?token={webui.token}" and len(webui.token) >= 32
        try:
            jar = aiohttp.CookieJar(unsafe=True)  # the default jar ignores cookies of IPs
            async with aiohttp.ClientSession(cookie_jar=jar) as http:
                for path in ("/", "/static/js/textual.js", "/ws", f"/?token={webui.token}x"):
                    async with http.get(base + path, allow_redirects=False) as r:
                        assert r.status == 403, path
                        assert 'name="token"' in await r.text()
                async with http.post(base + "/login", data={"token": "nope"}) as r:
                    assert r.status == 403 and "Wrong token." in await r.text()
                    assert COOKIE not in r.cookies
                async with http.get(url, allow_redirects=False) as r:
                    assert r.status == 303 and r.headers["Location"] == "/"
                    assert r.cookies[COOKIE].value == webui.token
                    assert (
                        r.cookies[COOKIE]["httponly"] and r.cookies[COOKIE]["samesite"] == "Strict"
                    )
                async with http.get(base + "/") as r:  # the cookie now opens the page
                    assert r.status == 200
                    page = await r.text()
                    csp = r.headers["Content-Security-Policy"]
                assert "textual.js" in page and "data-session-websocket-url" in page
                assert "https:" not in page and "googleapis" not in page
                assert "default-src 'self'" in csp and "font-src 'self'" in csp
                async with http.get(base + "/static/js/textual.js") as r:
                    assert r.status == 200
                async with http.get(base + "/ws", headers={"Origin": "http://evil.example"}) as r:
                    assert r.status == 403
            jar = aiohttp.CookieJar(unsafe=True)
            async with (
                aiohttp.ClientSession(cookie_jar=jar) as fresh,  # login form → cookie
                fresh.post(base + "/login", data={"token": webui.token}) as r,
            ):
                assert r.status == 200 and "textual.js" in await r.text()
        finally:
            await webui.stop()
        assert not webui.running
        with pytest.raises(aiohttp.ClientConnectionError):
            async with aiohttp.ClientSession() as http, http.get(base + "/"):
                pass


async def test_webui_command(backend: Any) -> None:
    dispatcher: Dispatcher[None] = Dispatcher()
    webui = register_webui(dispatcher, backend=backend)
    assert (await dispatcher.execute(None, "/webui")).data == {"running": False}
    started = await dispatcher.execute(None, "/webui start")
    try:
        assert started.ok and started.data["url"] == webui.url and webui.running
        assert (await dispatcher.execute(None, "/webui start")).data[
            "url"
        ] == webui.url  # idempotent
        status = await dispatcher.execute(None, "/webui status")
        assert status.data["running"] is True
        # an in-process node gets a private control socket while the web UI runs
        assert webui._private is not None and socket_is_live(webui._private.path)
    finally:
        stopped = await dispatcher.execute(None, "/webui stop")
    assert stopped.ok and not webui.running and stopped.text == "Web UI stopped."
    assert (await dispatcher.execute(None, "/webui stop")).text == "The web UI is not running."
    assert (await dispatcher.execute(None, "/webui bogus")).data["error"] == "usage"


# ---------------------------------------------------------------------- the browser test


@pytest.fixture
def served_node(short_tmp: Path) -> Iterator[Path]:
    """A real ``ohtchat --serve`` (memory store, tcp) with a channel called "book club"."""
    with memory_node(short_tmp, "Web", "book club") as data:
        yield data


@pytest.mark.browser
async def test_webui_in_headless_chromium(served_node: Path, tmp_path: Path) -> None:
    cdp = _load_cdp()
    chromium_page, find_chromium = cdp.chromium_page, cdp.find_chromium

    binary = find_chromium()
    assert binary is not None, (
        "chromium is missing: the test set-up installs it (apt-get install chromium)"
    )
    started = await asyncio.to_thread(cmd_json, served_node, "/webui start")
    assert started["ok"], started
    base, token = started["data"]["url"].split("/?token=")
    async with chromium_page(binary) as page:
        # Without the token: refused (403), only the token form is shown.
        await page.send("Page.navigate", url=base + "/")
        await page.wait_for("document.getElementById('login') !== null")
        assert await eventually(page.document_statuses, "the document's status") == [403]
        assert await page.evaluate("document.getElementById('terminal') === null")
        # Enter the token: the Textual UI of the served node appears.
        await page.evaluate(
            f"document.getElementById('token').value = {json.dumps(token)};"
            "document.getElementById('enter').click()"
        )
        await page.wait_for("document.getElementById('terminal') !== null")
        await page.wait_for("document.body.classList.contains('-first-byte')")
        # The main screen arrives over the websocket: the sidebar lists the channel, and the
        # input's placeholder shows.
        for text in ("book club", "Type a message"):
            await eventually(lambda text=text: text in page.websocket_text(), f"{text!r} shown")
        await page.screenshot(tmp_path / "webui.png")
        # Nothing was loaded from outside this machine.
        urls = page.requested_urls()
        assert urls and all(u.startswith(("http://127.0.0.1:", "ws://127.0.0.1:")) for u in urls)
    stopped = await asyncio.to_thread(cmd_json, served_node, "/webui stop")
    assert stopped["ok"]


def _load_cdp() -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "serve_tests_cdp", Path(__file__).with_name("cdp.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
