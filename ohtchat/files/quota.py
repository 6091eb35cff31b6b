"""The per-sender quota of a receiver: how many offers and bytes one account may have pending.

Offers cost nothing to make, so without a bound one sender could fill the list (and, once
accepted, the disk) with offers. Pending means offered or still receiving.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ohtchat.files.errors import TransferFailed

#: Offers one sender may have pending with us at once.
DEFAULT_MAX_OFFERS = 16
#: Bytes one sender may have pending with us at once (offered or receiving).
DEFAULT_MAX_BYTES = 1024 * 1024 * 1024


@dataclass(frozen=True)
class Quota:
    """Limits per sender."""

    max_offers: int = DEFAULT_MAX_OFFERS
    max_bytes: int = DEFAULT_MAX_BYTES

    def admit(self, size: int, pending: Iterable[int]) -> None:
        """Admit one more offer of ``size`` bytes from a sender whose pending offers have the
        sizes ``pending``; ``TransferFailed('quota')`` when it would go over a limit."""
        sizes = list(pending)
        if len(sizes) + 1 > self.max_offers:
            raise TransferFailed("quota", f"more than {self.max_offers} pending offers")
        if sum(sizes) + size > self.max_bytes:
            raise TransferFailed("quota", f"more than {self.max_bytes} pending bytes")
