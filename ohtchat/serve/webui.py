"""``/webui start|stop``: the Textual UI in a browser, on 127.0.0.1, behind a random token.

Each browser session runs ``ohtchat --attach`` in a subprocess under textual's web driver
(textual-serve's ``AppService``, driven from :mod:`ohtchat.tui.web`: only the TUI package
imports textual), attached to the node's control socket; the page and its
assets (xterm.js, font) are served from this machine only, and a Content-Security-Policy
forbids the page to load anything from elsewhere. The token is asked once (form, or
``?token=`` in the URL printed by ``/webui start``) and kept in a strict same-site cookie.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import secrets
import shlex
import shutil
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ohtchat.api.backend import Backend
from ohtchat.api.ops import WebUi
from ohtchat.api.results import CommandResult
from ohtchat.app.dispatch import OperationRegistry
from ohtchat.commands.errors import Unavailable
from ohtchat.i18n import _
from ohtchat.serve.control import ControlServer
from ohtchat.serve.protocol import SOCKET_NAME
from ohtchat.serve.webui_page import app_page, login_page

if TYPE_CHECKING:
    from aiohttp import web

_log = logging.getLogger(__name__)

COOKIE = "ohtchat_webui"
MAX_SESSIONS = 4
"""Browser sessions (each one an attached TUI process) served at once."""


class WebUI:
    """The web server; ``control_socket`` or, failing that, ``backend`` (served privately)."""

    def __init__(
        self,
        *,
        control_socket: Path | None = None,
        backend: Backend | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        if control_socket is None and backend is None:
            raise ValueError("WebUI needs a control socket or a backend")
        self.control_socket = control_socket
        self.backend = backend
        self.host = host
        self.port = port
        self.token = ""
        self._runner: web.AppRunner | None = None
        self._private: ControlServer | None = None
        self._private_dir: str | None = None
        self._sessions: set[asyncio.Task[Any]] = set()

    @property
    def running(self) -> bool:
        """True while the web server is up."""
        return self._runner is not None

    @property
    def url(self) -> str:
        """The address to open, token included."""
        return f"http://{self.host}:{self.port}/?token={self.token}"

    async def start(self) -> str:
        """Start serving (no-op if running); returns :attr:`url`."""
        if self._runner is not None:
            return self.url
        try:
            from aiohttp import web
        except ImportError:
            raise Unavailable(_("The web UI needs the textual-serve package.")) from None
        socket_path = await self._socket()
        self.token = secrets.token_urlsafe(24)
        self._command = (
            " ".join(
                shlex.quote(p)
                for p in (sys.executable, "-m", "ohtchat.cli", "--attach", "--control-socket")
            )
            + " "
            + shlex.quote(str(socket_path))
        )

        @web.middleware
        async def guard(request: web.Request, handler: Any) -> web.StreamResponse:
            return await self._guard(request, handler)

        from ohtchat.tui.web import static_dir

        app = web.Application(middlewares=[guard], client_max_size=4096)
        app.add_routes(
            [
                web.get("/", self._index),
                web.post("/login", self._login),
                web.get("/ws", self._websocket),
                web.static("/static", static_dir()),
            ]
        )
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        try:
            await site.start()
        except OSError:
            await runner.cleanup()
            raise
        self._runner = runner
        self.port = _bound_port(runner, self.port)
        _log.info("web UI on http://%s:%d/", self.host, self.port)
        return self.url

    async def stop(self) -> None:
        """Stop serving and end every browser session."""
        for task in list(self._sessions):
            task.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._private is not None:
            await self._private.stop()
            self._private = None
        if self._private_dir is not None:
            shutil.rmtree(self._private_dir, ignore_errors=True)
            self._private_dir = None
        self.token = ""

    async def _socket(self) -> Path:
        if self.control_socket is not None:
            return self.control_socket
        assert self.backend is not None
        self._private_dir = tempfile.mkdtemp(prefix="ohtchat-webui-")  # mode 0700
        path = Path(self._private_dir) / SOCKET_NAME
        self._private = ControlServer(self.backend, path)
        await self._private.start()
        return path

    # ------------------------------------------------------------------ HTTP

    def _authorized(self, request: web.Request) -> bool:
        given = request.query.get("token") or request.cookies.get(COOKIE) or ""
        return bool(self.token) and hmac.compare_digest(given.encode(), self.token.encode())

    @staticmethod
    def _headers(response: web.StreamResponse, ws: str) -> None:
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; script-src 'self' 'unsafe-inline'; "
            f"style-src 'self' 'unsafe-inline'; connect-src 'self' {ws}; "
            "img-src 'self' data:; font-src 'self'; form-action 'self'; frame-ancestors 'none'"
        )
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "no-store"

    @property
    def _ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}/ws"

    async def _guard(self, request: web.Request, handler: Any) -> web.StreamResponse:
        from aiohttp import web

        if request.path != "/login" and not self._authorized(request):
            response: web.StreamResponse = web.Response(
                status=403, text=login_page(), content_type="text/html"
            )
        else:
            response = await handler(request)
        if not isinstance(response, web.WebSocketResponse):
            self._headers(response, self._ws_url)
        return response

    async def _index(self, request: web.Request) -> web.StreamResponse:
        from aiohttp import web

        if "token" in request.query:  # keep the token out of the address bar and history
            return self._to_root()
        size = request.query.get("fontsize", "16")
        font = int(size) if size.isdigit() and 6 <= int(size) <= 48 else 16
        page = app_page("/static/", self._ws_url, font)
        return web.Response(text=page, content_type="text/html")

    async def _login(self, request: web.Request) -> web.StreamResponse:
        from aiohttp import web

        form = await request.post()
        given = str(form.get("token", ""))
        if not hmac.compare_digest(given.encode(), self.token.encode()):
            return web.Response(
                status=403, text=login_page(_("Wrong token.")), content_type="text/html"
            )
        return self._to_root()

    def _to_root(self) -> web.StreamResponse:
        """See-other to ``/`` with the token cookie set."""
        from aiohttp import web

        response = web.Response(status=303, headers={"Location": "/"})
        self._set_cookie(response)
        return response

    def _set_cookie(self, response: web.StreamResponse) -> None:
        response.set_cookie(COOKIE, self.token, httponly=True, samesite="Strict", path="/")

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        from aiohttp import web

        origin = request.headers.get("Origin")
        if origin is not None and origin != f"http://{self.host}:{self.port}":
            raise web.HTTPForbidden(text="cross-origin websocket refused")
        if len(self._sessions) >= MAX_SESSIONS:
            raise web.HTTPServiceUnavailable(text="too many web UI sessions")
        task = asyncio.current_task()
        assert task is not None
        self._sessions.add(task)
        try:
            from ohtchat.tui.web import run_session

            return await run_session(request, self._command)
        finally:
            self._sessions.discard(task)


def _bound_port(runner: Any, fallback: int) -> int:
    for server in getattr(runner, "addresses", []) or []:
        if isinstance(server, tuple) and len(server) >= 2:
            return int(server[1])
    return fallback


def register_webui(
    registry: OperationRegistry,
    *,
    control_socket: Path | None = None,
    backend: Backend | None = None,
    replace: bool = False,
    port: int = 0,
) -> WebUI:
    """Install the ``/webui`` handler on ``registry`` (a node's dispatcher); returns the
    :class:`WebUI` it drives.

    A served node passes its ``control_socket``; an in-process node passes itself as
    ``backend`` (a private control socket is then opened while the web UI runs).
    """
    webui = WebUI(control_socket=control_socket, backend=backend, port=port)

    async def handle(ctx: object, args: WebUi) -> CommandResult:
        action = args.action or "status"
        if action == "start":
            url = await webui.start()
            return CommandResult.success(
                _("Web UI running at {url}").format(url=url), url=url, port=webui.port
            )
        if action == "stop":
            was = webui.running
            await webui.stop()
            return CommandResult.success(
                _("Web UI stopped.") if was else _("The web UI is not running."), running=False
            )
        if webui.running:
            return CommandResult.success(
                _("Web UI running at {url}").format(url=webui.url), url=webui.url, running=True
            )
        return CommandResult.success(_("The web UI is not running."), running=False)

    registry.register(WebUi, handle, replace=replace)
    return webui
