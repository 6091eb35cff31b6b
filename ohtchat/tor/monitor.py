"""Watches our tor: restarts it (with backoff) when it dies or stalls, then calls back.

A restart re-adds our onion services (TorProcess does that on start); the callback is where
the upper layers rejoin the ring and re-announce themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from ohtchat.tor.control import TorState
from ohtchat.tor.errors import TorError
from ohtchat.tor.process import TorProcess

log = logging.getLogger(__name__)

RestartCallback = Callable[[], Awaitable[None]]


class TorMonitor:
    """Keeps one :class:`TorProcess` alive; ``restarts`` counts recoveries."""

    def __init__(
        self,
        tor: TorProcess,
        on_restart: RestartCallback | None = None,
        *,
        interval: float = 5.0,
        stall_after: float = 120.0,
        backoff: float = 1.0,
        max_backoff: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.tor = tor
        self.on_restart = on_restart
        self.interval = interval
        self.stall_after = stall_after
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._clock = clock
        self._sleep = sleep
        self._task: asyncio.Task[None] | None = None
        self._last_ok = clock()
        #: How many times tor was brought back.
        self.restarts = 0

    def start(self) -> None:
        """Begin watching (idempotent)."""
        if self._task is None or self._task.done():
            self._last_ok = self._clock()
            self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Stop watching (tor itself keeps running)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            died = asyncio.create_task(self.tor.wait_died())
            tick = asyncio.create_task(self._tick())
            try:
                await asyncio.wait({died, tick}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                died.cancel()
                tick.cancel()
            reason = "tor died" if not self.tor.running else await self.check_stall()
            if reason:
                await self.recover(reason)

    async def _tick(self) -> None:
        await self._sleep(self.interval)

    async def check_stall(self) -> str | None:
        """A reason to restart when tor has had no circuits for ``stall_after`` seconds."""
        now = self._clock()
        try:
            ok = self.tor.status.state is TorState.READY and await self.tor.circuit_established()
        except TorError:
            return "tor does not answer"
        if ok:
            self._last_ok = now
            return None
        if now - self._last_ok > self.stall_after:
            return f"tor stalled (no circuits for {now - self._last_ok:.0f} s)"
        return None

    async def recover(self, reason: str) -> None:
        """Restart tor until it bootstraps again (exponential backoff), then call back."""
        log.warning("%s: restarting tor", reason)
        delay = self.backoff
        while True:
            try:
                await self.tor.restart()
                await self.tor.wait_ready(self.stall_after)
                break
            except (TorError, TimeoutError) as exc:
                log.warning("tor restart failed (%s); retrying in %.0f s", exc, delay)
                await self._sleep(delay)
                delay = min(delay * 2, self.max_backoff)
        self.restarts += 1
        self._last_ok = self._clock()
        if self.on_restart is not None:
            try:
                await self.on_restart()
            except Exception:  # the monitor must survive a failing hook
                log.exception("on_restart callback failed")
