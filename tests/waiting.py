"""Wait for a condition the program reaches asynchronously: bounded, never a fixed sleep.

Every test that reads state reached in the background (a completion, a presence, a converged
ring, a delivered message) waits with one of these instead of ``sleep(x); assert …``. The
deadline is generous because CI runs on a loaded 2-core machine; a test that passes returns as
soon as the condition holds, so a long deadline costs nothing when all is well.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, overload

T = TypeVar("T")

# One deadline for the whole suite, long enough for a loaded machine (see the module docstring).
DEADLINE = 30.0


@overload
async def eventually(
    check: Callable[[], Awaitable[T]],
    what: str = ...,
    timeout: float = ...,
    step: float = ...,
) -> T: ...


@overload
async def eventually(
    check: Callable[[], T],
    what: str = ...,
    timeout: float = ...,
    step: float = ...,
) -> T: ...


async def eventually(
    check: Callable[[], Any],
    what: str = "condition",
    timeout: float = DEADLINE,
    step: float = 0.05,
) -> Any:
    """Poll ``check()`` (sync or async) until it returns something truthy, and return that.

    Fails the test with ``what`` and the last value seen when ``timeout`` seconds pass. An
    exception raised by ``check`` counts as "not yet" until the deadline, then is re-raised.
    """
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    last: object = None
    while True:
        try:
            value = check()
            if inspect.isawaitable(value):
                value = await value
            if value:
                return value
            last = value
        except (AssertionError, LookupError, ValueError, OSError) as err:
            if loop.time() > end:
                raise
            last = err
        if loop.time() > end:
            raise AssertionError(f"{what}: not reached in {timeout:g} s (last seen: {last!r})")
        await asyncio.sleep(step)


def eventually_sync(
    check: Callable[[], T],
    what: str = "condition",
    timeout: float = DEADLINE,
    step: float = 0.05,
) -> T:
    """The blocking twin of :func:`eventually`, for tests that drive subprocesses."""
    end = time.monotonic() + timeout
    last: object = None
    while True:
        try:
            value = check()
            if value:
                return value
            last = value
        except (AssertionError, LookupError, ValueError, OSError) as err:
            if time.monotonic() > end:
                raise
            last = err
        if time.monotonic() > end:
            raise AssertionError(f"{what}: not reached in {timeout:g} s (last seen: {last!r})")
        time.sleep(step)
