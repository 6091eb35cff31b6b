"""Typed errors raised by the Chord layer."""

from __future__ import annotations


class ChordError(Exception):
    """Base class of every error the Chord layer raises."""


class RpcFailure(ChordError):
    """An outgoing call did not complete: unreachable, refused, timed out or a remote error.

    :class:`ohtchat.chord.rpc.ChordClient` implementations raise this (or a subclass) for
    every failure of the call itself; the node treats the peer as possibly dead.
    """


class RpcTimeout(RpcFailure):
    """An outgoing call got no reply within its timeout."""


class RemoteRefusal(RpcFailure):
    """The peer answered the call with an error: it is reachable, it refused (e.g. an older
    node that does not know the method)."""


class BadReply(ChordError):
    """A peer's reply was malformed or named a node outside the range it must lie in."""


class BadIdentity(BadReply):
    """A peer reference whose claimed id is not the id of the key in its onion address."""


class BadRequest(ChordError):
    """An incoming call was malformed or refused (unknown method, bad params, no ring).

    ``code`` is the RPC error code a session answers it with.
    """

    code = "bad_request"


class NotMember(BadRequest):
    """An incoming call needs a ring, and this node has not created or joined one yet."""

    code = "not_member"


class LookupFailed(ChordError):
    """A lookup gave up: hop limit, deadline, or no live candidate left."""


class JoinFailed(ChordError):
    """Joining the ring through every given peer failed."""


class NotInRing(ChordError):
    """The operation needs a ring: create one or connect first."""


class OutOfRange(BadReply):
    """A reply named a successor or finger outside the arc it must lie in."""
