"""Typed errors of the tor package."""

from __future__ import annotations


class TorError(Exception):
    """Base class of every failure the tor package reports."""


class TorConfigError(TorError):
    """A configuration cannot work (path too long for a unix socket, missing testnet file…)."""


class TorStartError(TorError):
    """tor could not be started or attached to; the message carries tor's last log lines."""


class TorNotRunning(TorError):
    """An operation needs a running tor with an open control connection."""


class OnionServiceError(TorError):
    """tor refused ADD_ONION / DEL_ONION, or the descriptor was never published."""


class SocksError(TorError):
    """A SOCKS5 request through tor failed; ``code`` is the SOCKS reply code (or -1)."""

    def __init__(self, message: str, code: int = -1) -> None:
        super().__init__(message)
        self.code = code


class TestnetError(TorError):
    """The private test network could not be started, found or stopped."""
