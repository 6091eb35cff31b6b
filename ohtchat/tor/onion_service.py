"""One ephemeral onion service (ADD_ONION) and the tracking of its descriptor uploads.

The address is known from the key at once; *published* means every HSDir tor started an
upload to answered (HS_DESC UPLOADED or FAILED) and at least one accepted it. stem's
``await_publication`` returns after the first upload only, and a connection attempted at
that moment can fail and make the client avoid those HSDirs for a while (pitfall 3).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path

from ohtchat.tor.errors import OnionServiceError

UPLOAD, UPLOADED, FAILED = "UPLOAD", "UPLOADED", "FAILED"


class OnionService:
    """A v3 onion service hosted by our tor; re-added automatically after a tor restart."""

    def __init__(self, address: str, key_blob: str, port: int, target: Path) -> None:
        #: The onion address, lower case with ``.onion``.
        self.address = address
        #: The virtual port clients connect to.
        self.port = port
        #: The unix socket tor forwards streams to.
        self.target = target
        self._key_blob = key_blob
        self._published = asyncio.Event()
        # One HSDir can be asked twice (current and next descriptor): count, don't set.
        self._pending: Counter[str] = Counter()
        self._uploaded: set[str] = set()
        self._failed: set[str] = set()
        #: Set by the owning TorProcess: removes and re-adds the service (a fresh upload).
        self.readd: Callable[[], Awaitable[None]] | None = None

    def __repr__(self) -> str:
        state = "published" if self.published else "unpublished"
        return f"OnionService({self.address}:{self.port}, {state})"

    @property
    def service_id(self) -> str:
        """The address without ``.onion`` (what ADD_ONION / DEL_ONION use)."""
        return self.address.removesuffix(".onion")

    @property
    def published(self) -> bool:
        """True once the descriptor reached every HSDir tor uploaded it to."""
        return self._published.is_set()

    @property
    def upload_counts(self) -> tuple[int, int, int]:
        """(pending, uploaded, failed) HSDir uploads of the current attempt."""
        return sum(self._pending.values()), len(self._uploaded), len(self._failed)

    def add_onion_command(self) -> str:
        """The ADD_ONION control command for this service."""
        return f"ADD_ONION {self._key_blob} Flags=DiscardPK Port={self.port},unix:{self.target}"

    def reset(self) -> None:
        """Forget upload progress (the service was just (re-)added)."""
        self._published.clear()
        self._pending.clear()
        self._uploaded.clear()
        self._failed.clear()

    def on_hs_desc(self, action: str, hsdir: str) -> None:
        """Feed one HS_DESC event for this service's address."""
        if action == UPLOAD:
            self._pending[hsdir] += 1
            return
        if action not in (UPLOADED, FAILED):
            return
        if self._pending[hsdir] > 0:
            self._pending[hsdir] -= 1
        if self._pending[hsdir] <= 0:
            del self._pending[hsdir]
        (self._uploaded if action == UPLOADED else self._failed).add(hsdir)
        # tor emits every UPLOAD of one upload pass before any answer arrives, so an empty
        # pending set after an answer means that pass is complete.
        if self._uploaded and not self._pending:
            self._published.set()

    async def wait_published(self, timeout: float = 60.0, attempts: int = 3) -> None:
        """Wait for publication; after each ``timeout`` re-add the service (a new upload).

        Raises :class:`OnionServiceError` when all ``attempts`` time out.
        """
        if attempts < 1 or timeout <= 0:
            raise ValueError("attempts must be ≥ 1 and timeout > 0")
        for attempt in range(attempts):
            try:
                await asyncio.wait_for(self._published.wait(), timeout)
                return
            except TimeoutError:
                if attempt + 1 < attempts and self.readd is not None:
                    await self.readd()
        pending, uploaded, failed = self.upload_counts
        raise OnionServiceError(
            f"{self.address} not published after {attempts} × {timeout:.0f} s "
            f"({uploaded} HSDirs accepted, {failed} failed, {pending} pending)"
        )
