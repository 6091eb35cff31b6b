"""One private network per test process, shared by every test directory that needs tor.

Test suites define a thin session fixture around :func:`shared_testnet` (see docs/tor.md);
starting a network costs 15–40 s, so it is started once and stopped at exit.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import shutil
import tempfile
import threading
from pathlib import Path

from ohtchat.tor.testnet import DEFAULT_RELAYS, Testnet

_lock = threading.Lock()
_shared: Testnet | None = None


def shared_testnet(relays: int = DEFAULT_RELAYS) -> Testnet:
    """The process-wide private network, started on first use (blocking; not in a loop)."""
    global _shared
    with _lock:
        if _shared is None:
            base = Path(tempfile.mkdtemp(prefix="ohtchat-testnet-"))
            # A private event loop in a helper thread: the caller may already run a loop, and
            # Testnet processes are plain subprocesses that outlive the loop.
            with concurrent.futures.ThreadPoolExecutor(1) as pool:
                start = Testnet.start(base / "net", relays=relays, owned=True)
                _shared = pool.submit(asyncio.run, start).result()
            atexit.register(_cleanup, _shared, base)
        return _shared


def _cleanup(net: Testnet, base: Path) -> None:
    net.stop()
    shutil.rmtree(base, ignore_errors=True)
