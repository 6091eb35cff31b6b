"""Typed errors of the double ratchet. A failed call never changes a session's state."""

from __future__ import annotations


class RatchetError(Exception):
    """Base class of every error the ratchet raises."""


class BadBundle(RatchetError):
    """A prekey bundle is malformed, its signature does not verify, or a key in it is unusable."""


class BadState(RatchetError):
    """Serialized session state is malformed or of an unknown version."""


class MalformedRatchetMessage(RatchetError):
    """A message has the wrong version, kind or length, or an unusable key in its prefix."""


class UnknownHeader(RatchetError):
    """No header key of the session opens the message: it belongs to another session, the pair
    is desynchronised (see the recovery path in docs/protocol.md), or it was altered."""


class TamperedMessage(RatchetError):
    """The header opened but the message is inconsistent or its body does not authenticate."""


class DuplicateMessage(RatchetError):
    """The message was decrypted before (or its skipped key was evicted by the caps)."""


class TooManySkipped(RatchetError):
    """The message is further ahead in its chain than ``MAX_SKIP`` messages."""


class NewHandshake(RatchetError):
    """An initial message of another handshake: the peer started a new session
    (``Session.accept`` it, then replace this session)."""


class ReplayedHandshake(RatchetError):
    """An initial message whose handshake id was accepted before."""


class UnknownPrekey(RatchetError):
    """An initial message names a prekey other than the one given to ``Session.accept``."""


class CannotSend(RatchetError):
    """This side cannot encrypt: the plaintext is too large or the sending chain is exhausted."""
