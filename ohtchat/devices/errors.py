"""Typed errors of the devices layer."""

from __future__ import annotations


class DeviceError(Exception):
    """A device list or link code is malformed or does not verify; the message says which
    field and why."""


class LinkRefused(DeviceError):
    """A link attempt was refused; ``reason`` is one of ``expired``, ``used``, ``voided``,
    ``bad_proof`` (stable, for UIs and tests)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
