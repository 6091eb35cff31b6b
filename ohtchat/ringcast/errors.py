"""Typed errors of the ringcast layer (incoming bad input raises Chord's ``BadRequest``)."""

from __future__ import annotations

from ohtchat.chord.errors import ChordError


class RingcastError(ChordError):
    """Base class of errors a local :meth:`~ohtchat.ringcast.node.Ringcast.broadcast` raises."""


class PayloadTooLarge(RingcastError):
    """The payload exceeds ``RingcastConfig.max_payload`` bytes (after encoding)."""


class BadPayload(RingcastError):
    """The payload is neither ``bytes`` nor a msgpack-encodable map with string keys."""


class RateLimited(RingcastError):
    """This origin has used up its broadcast budget (the receivers would refuse more)."""
