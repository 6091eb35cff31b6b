"""Typed protocol errors: every bad input a peer can send maps to one of these."""

from __future__ import annotations


class ProtocolError(Exception):
    """Base class: the peer violated the protocol; the connection must be closed."""


class FrameTooLarge(ProtocolError):
    """A frame header announced more bytes than the hard maximum."""


class TruncatedFrame(ProtocolError):
    """The stream ended inside a frame."""


class MalformedMessage(ProtocolError):
    """A frame's payload is not a valid envelope, or a field fails validation."""


class UnsupportedVersion(ProtocolError):
    """The envelope's protocol version is not one we speak."""


class ReplayedFrame(ProtocolError):
    """An encrypted frame carried a counter we have already seen."""


class OutOfOrderFrame(ProtocolError):
    """An encrypted frame carried a counter from the future (frames were dropped or reordered)."""


class TamperedFrame(ProtocolError):
    """An encrypted frame failed authentication."""


class HandshakeFailed(ProtocolError):
    """The authenticated handshake failed; ``reason`` says which check."""


class WrongIdentity(HandshakeFailed):
    """The peer's proof was not made by the key inside the onion address it claims."""


class HandshakeTimeout(HandshakeFailed):
    """The peer did not complete the handshake in time."""


class HandshakeAborted(HandshakeFailed):
    """The peer closed the connection during the handshake without sending a refusal."""


class HandshakeRefused(HandshakeFailed):
    """The peer refused the handshake and said why (a plaintext ``refuse`` message).

    ``code`` is machine-readable (see docs/protocol.md, Refusals); ``detail`` is for people.
    """

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"refused by peer: {code}" + (f": {detail}" if detail else ""))
        self.code = code
        self.detail = detail
