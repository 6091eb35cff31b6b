"""The Tor onion transport: streams through tor's SOCKS socket, listening as an onion service.

Addresses are v3 ``….onion`` names; every node listens on the fixed virtual port
:data:`OHTCHAT_ONION_PORT`. Inbound streams arrive on a unix socket that tor forwards to.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from ohtchat.crypto.errors import InvalidOnionAddress
from ohtchat.crypto.keys import NodeKey
from ohtchat.crypto.onion import normalize_onion
from ohtchat.tor.config import check_socket_path
from ohtchat.tor.errors import SocksError, TorError
from ohtchat.tor.onion_service import OnionService
from ohtchat.tor.process import TorProcess
from ohtchat.tor.socks import RETRYABLE, socks5_connect
from ohtchat.transport.base import (
    ByteStream,
    ConnectFailed,
    Listener,
    StreamHandler,
    Transport,
    TransportError,
)
from ohtchat.transport.streams import SocketStream

#: The virtual port of every ohtchat onion service (fixed by the protocol).
OHTCHAT_ONION_PORT = 7777
#: tor allows about 32 circuits under construction; we stay well below.
MAX_CIRCUITS_BUILDING = 16

log = logging.getLogger(__name__)


class OnionListener(Listener):
    """Our onion service: ``address`` is known at once, ``wait_published`` confirms upload."""

    def __init__(
        self, tor: TorProcess, service: OnionService, server: asyncio.AbstractServer
    ) -> None:
        self.address = service.address
        self.service = service
        self._tor = tor
        self._server = server

    @property
    def published(self) -> bool:
        """True once the descriptor reached every HSDir (tell peers only after this)."""
        return self.service.published

    async def wait_published(self, timeout: float = 60.0, attempts: int = 3) -> None:
        """Wait for publication, re-uploading after each timeout (OnionServiceError at last)."""
        await self.service.wait_published(timeout, attempts)

    async def close(self) -> None:
        """Remove the onion service and stop accepting; open streams stay open."""
        await self._tor.remove_onion(self.service)
        self._server.close()
        with contextlib.suppress(FileNotFoundError):
            self.service.target.unlink()


class OnionTransport(Transport):
    """Connects to onion addresses through our tor; listens as our node key's onion service."""

    name = "onion"

    def __init__(
        self,
        tor: TorProcess,
        node_key: NodeKey | None = None,
        *,
        socket_dir: Path | None = None,
        attempts: int = 2,
        backoff: float = 1.0,
        max_building: int = MAX_CIRCUITS_BUILDING,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if attempts < 1 or max_building < 1:
            raise ValueError("attempts and max_building must be ≥ 1")
        self.tor = tor
        self.node_key = node_key
        self._socket_dir = socket_dir
        self._attempts = attempts
        self._backoff = backoff
        self._building = asyncio.Semaphore(max_building)
        self._sleep = sleep

    async def connect(self, address: str, timeout: float = 30.0) -> ByteStream:
        """A stream to ``address`` (a v3 onion) on :data:`OHTCHAT_ONION_PORT`.

        ``timeout`` bounds each attempt; retryable failures (descriptor not found yet,
        introduction/rendezvous failures, circuit timeouts) are retried with backoff.
        """
        try:
            onion = normalize_onion(address)
        except InvalidOnionAddress as exc:
            raise ConnectFailed(str(exc)) from exc
        last = "no attempt made"
        for attempt in range(self._attempts):
            if attempt:
                await self._sleep(self._backoff * 2 ** (attempt - 1))
            try:
                reader, writer = await self._open(onion, timeout)
                return SocketStream(reader, writer, onion)
            except TimeoutError:
                last, retry = f"timed out after {timeout:.0f} s", True
            except SocksError as exc:
                last, retry = str(exc), exc.code in RETRYABLE
            except TorError as exc:
                raise ConnectFailed(f"{onion}: {exc}") from exc
            log.debug("connect %s attempt %d failed: %s", onion, attempt + 1, last)
            if not retry:
                break
        raise ConnectFailed(f"{onion}: {last}")

    async def _open(
        self, onion: str, timeout: float
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        proxy = self.tor.socks_address
        # The semaphore caps circuits under construction, not open streams.
        async with self._building, asyncio.timeout(timeout):
            return await socks5_connect(proxy, onion, OHTCHAT_ONION_PORT)

    async def listen(self, handler: StreamHandler, address: str | None = None) -> OnionListener:
        """Serve ``handler`` on our node key's onion service (published in the background)."""
        if self.node_key is None:
            raise TransportError("listening on an onion service needs a node key")
        onion = self.node_key.onion
        if address is not None and normalize_onion(address) != onion:
            raise TransportError(f"this transport can only listen on {onion}")
        path = check_socket_path(self._target_dir() / f"onion-{onion[:16]}.sock")
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        server = await asyncio.start_unix_server(_serve(handler), path=str(path))
        if self.tor.attached:
            path.chmod(0o666)  # the user's tor may run as another user (e.g. debian-tor)
        try:
            service = await self.tor.add_onion(
                self.node_key.add_onion_blob, path, OHTCHAT_ONION_PORT, onion
            )
        except BaseException:
            server.close()
            path.unlink(missing_ok=True)
            raise
        return OnionListener(self.tor, service, server)

    def _target_dir(self) -> Path:
        if self._socket_dir is not None:
            return self._socket_dir
        if self.tor.config is not None:
            return Path(self.tor.config.data_dir)
        # An attached tor may run as another user: give it a directory it can enter.
        self._socket_dir = Path(tempfile.mkdtemp(prefix="ohtchat-"))
        self._socket_dir.chmod(0o711)
        return self._socket_dir


def _serve(
    handler: StreamHandler,
) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]:
    async def on_stream(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        stream = SocketStream(reader, writer, "onion:inbound")
        try:
            await handler(stream)
        except Exception:  # a failing handler must not take the listener down
            log.exception("onion stream handler failed")
        finally:
            await stream.close()

    return on_stream
