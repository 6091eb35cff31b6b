"""An asyncio event loop on virtual time.

``time()`` returns a virtual clock, and the selector, instead of sleeping until the next
timer, advances that clock to it. Unchanged ``asyncio.sleep`` / ``wait_for`` /
``asyncio.timeout`` code therefore runs on simulated time, as fast as the CPU allows.
There is no real I/O in a simulation: if nothing is scheduled and nothing is ready the
loop raises :class:`SimDeadlock` instead of blocking forever.
"""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Coroutine, Mapping
from typing import Any, TypeVar

T = TypeVar("T")


class SimDeadlock(RuntimeError):
    """Every task waits for something that no timer or callback will ever bring."""


class _VirtualSelector(selectors.BaseSelector):
    """Wraps a real selector (asyncio's self-pipe lives there) but never blocks."""

    def __init__(self, loop: VirtualTimeLoop) -> None:
        self._loop = loop
        self._real = selectors.DefaultSelector()

    def register(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._real.register(fileobj, events, data)

    def unregister(self, fileobj: Any) -> selectors.SelectorKey:
        return self._real.unregister(fileobj)

    def modify(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._real.modify(fileobj, events, data)

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready = self._real.select(0)
        if ready:
            return ready
        if timeout is None:
            raise SimDeadlock("virtual loop has nothing scheduled: every task waits forever")
        if timeout > 0:
            self._loop.advance(timeout)
        return []

    def close(self) -> None:
        self._real.close()

    def get_map(self) -> Mapping[Any, selectors.SelectorKey]:
        return self._real.get_map()


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """A selector event loop whose clock is virtual and jumps from timer to timer."""

    def __init__(self, start: float = 0.0) -> None:
        self._vnow = float(start)
        super().__init__(selector=_VirtualSelector(self))

    def time(self) -> float:
        """The virtual time, seconds."""
        return self._vnow

    def advance(self, seconds: float) -> None:
        """Move the virtual clock forward (never backwards)."""
        if seconds > 0:
            self._vnow += seconds


def run_virtual(coro: Coroutine[Any, Any, T], start: float = 0.0) -> T:
    """Run ``coro`` to completion on a fresh :class:`VirtualTimeLoop`, then close it."""
    loop = VirtualTimeLoop(start)
    try:
        return loop.run_until_complete(coro)
    finally:
        try:
            _cancel_all(loop)
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()


def _cancel_all(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel what the simulation left running (timers, background checks), as asyncio.run."""
    tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for t in tasks:
        t.cancel()
    if tasks:
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
