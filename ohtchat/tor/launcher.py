"""Starting and stopping one tor child process (asyncio subprocess, log capture, pid tie)."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import sys
from collections import deque
from collections.abc import Callable

from ohtchat.tor.config import TorConfig
from ohtchat.tor.control import forget_owned_pid, register_owned_pid
from ohtchat.tor.errors import TorStartError

_PR_SET_PDEATHSIG = 1
# Resolved before any fork: the child must not load libraries between fork and exec.
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


def die_with_parent_hook(parent: int) -> Callable[[], None]:
    """A preexec hook: the kernel sends tor SIGTERM (a clean stop) when we die.

    tor's own ``__OwningControllerProcess`` watch polls only every 15 s; the parent-death
    signal is immediate. (It fires when the forking *thread* exits; we fork from the event
    loop thread, which lives as long as the app.)
    """

    def hook() -> None:
        if _LIBC is not None:
            _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:  # we were orphaned before the hook ran
            os._exit(1)

    return hook


class TorChild:
    """A running tor process launched from a :class:`TorConfig`."""

    def __init__(self, config: TorConfig, log_lines: int = 40) -> None:
        self.config = config
        self.proc: asyncio.subprocess.Process | None = None
        self.log: deque[str] = deque(maxlen=log_lines)
        self._control_ready = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None

    @property
    def pid(self) -> int | None:
        """The process id while running."""
        return self.proc.pid if self.proc is not None and self.proc.returncode is None else None

    async def start(self, timeout: float = 30.0) -> None:
        """Launch tor and return once its control socket accepts connections."""
        cfg = self.config
        owner = os.getpid() if cfg.owned else None
        cfg.prepare(owner)
        for sock in (cfg.control_socket, cfg.socks_socket):
            with contextlib.suppress(FileNotFoundError):
                sock.unlink()  # a stale socket from a killed tor would block the bind
        try:
            self.proc = await asyncio.create_subprocess_exec(
                cfg.tor_binary,
                "-f",
                str(cfg.torrc_path),
                "--defaults-torrc",
                str(cfg.empty_file),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                # Own session: a terminal's Ctrl-C reaches us, and we stop tor ourselves.
                start_new_session=True,
                preexec_fn=die_with_parent_hook(os.getpid()) if cfg.owned else None,
            )
        except OSError as exc:
            raise TorStartError(f"cannot run {cfg.tor_binary!r}: {exc}") from exc
        if cfg.owned:
            register_owned_pid(self.proc.pid)
        self._reader = asyncio.create_task(self._read_log(self.proc))
        await self._wait_control(timeout)

    async def _read_log(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stdout is not None
        # Drain stdout for tor's whole life, or tor would block writing its log.
        while line := await proc.stdout.readline():
            text = line.decode("utf-8", "replace").rstrip()
            self.log.append(text)
            if "Opened Control listener" in text:
                self._control_ready.set()

    async def _wait_control(self, timeout: float) -> None:
        assert self.proc is not None
        ready = asyncio.create_task(self._control_ready.wait())
        exited = asyncio.create_task(self.proc.wait())
        try:
            done, _ = await asyncio.wait(
                {ready, exited}, timeout=timeout, return_when="FIRST_COMPLETED"
            )
        finally:
            ready.cancel()
            if not exited.done():
                exited.cancel()
        if ready in done and self.proc.returncode is None:
            return
        if exited in done:
            if self._reader is not None:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._reader, 2)
            raise TorStartError(f"tor exited with status {self.proc.returncode}:\n{self.tail()}")
        await self.stop()
        raise TorStartError(
            f"tor did not open its control socket within {timeout} s:\n{self.tail()}"
        )

    def tail(self, n: int = 12) -> str:
        """tor's last ``n`` log lines (for error messages)."""
        return "\n".join(list(self.log)[-n:]) or "(no output)"

    async def wait(self) -> int:
        """Wait until tor exits; its exit status."""
        if self.proc is None:
            return 0
        return await self.proc.wait()

    async def stop(self, grace: float = 5.0) -> None:
        """SIGTERM (tor cleans up and exits), SIGKILL after ``grace`` seconds; idempotent."""
        proc = self.proc
        if proc is None:
            return
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), grace)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        forget_owned_pid(proc.pid)
        if self._reader is not None:
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(self._reader, 2)
        for sock in (self.config.control_socket, self.config.socks_socket):
            with contextlib.suppress(FileNotFoundError):
                sock.unlink()
