"""The injected RPC interface of a Chord node, and strict codecs for its messages.

The Chord layer never opens connections itself. Outgoing calls go through a
:class:`ChordClient` (bound by the session layer to authenticated, pooled sessions, or by
:mod:`ohtchat.sim` to an in-process network); incoming calls arrive at
:meth:`ohtchat.chord.node.ChordNode.handle`. Params and results are plain msgpack-able dicts:
ids are 32-byte big-endian ``bytes``, peers are ``{"id", "onion", "addr"}`` dicts.

Every reply comes from an untrusted peer, so every decoder here checks type, size and
identity and raises :class:`BadReply` / :class:`BadIdentity` instead of trusting it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol, runtime_checkable

from ohtchat.chord.errors import BadIdentity, BadReply
from ohtchat.chord.ring import dist
from ohtchat.crypto.errors import InvalidOnionAddress
from ohtchat.crypto.ids import node_id, short_id
from ohtchat.crypto.onion import onion_address, pubkey_from_onion

#: Largest peer list accepted in any reply (a successor list is at most this long).
MAX_LIST = 64
#: Longest transport address accepted.
MAX_ADDRESS = 255

# Wire method names.
PING = "ping"
FIND_SUCCESSOR = "find_successor"
GET_PREDECESSOR = "get_predecessor"
GET_SUCCESSOR_LIST = "get_successor_list"
NOTIFY = "notify"
GET_PEERS = "get_peers"
LEAVE = "leave"
FIND_OWNER = "find_owner"
METHODS = (
    PING,
    FIND_SUCCESSOR,
    GET_PREDECESSOR,
    GET_SUCCESSOR_LIST,
    NOTIFY,
    GET_PEERS,
    LEAVE,
    FIND_OWNER,
)


@dataclass(frozen=True, slots=True)
class PeerRef:
    """What the ring knows of a node.

    ``id`` is ``node_id`` of the key inside ``onion`` (never chosen by the peer);
    ``address`` is what the transport dials (the onion itself on Tor, ``host:port`` on TCP,
    a name on the in-memory network).
    """

    id: int
    onion: str
    address: str

    @classmethod
    def from_onion(cls, onion: str, address: str | None = None) -> PeerRef:
        """The reference of the node owning ``onion``; ``address`` defaults to the onion."""
        ident = onion_id(onion)
        canon = onion.strip().lower()
        if not canon.endswith(".onion"):
            canon += ".onion"
        return cls(ident, canon, canon if address is None else address)

    def __str__(self) -> str:
        return f"{short_id(self.id)}@{self.address}"


class ChordClient(Protocol):
    """Outgoing calls of one node. Implementations authenticate the remote end.

    ``call`` must raise :class:`~ohtchat.chord.errors.RpcFailure` (or a subclass) when the
    call does not complete, including when the remote end is not the holder of
    ``peer.onion``; the node additionally enforces ``timeout`` itself.
    """

    async def call(
        self, peer: PeerRef, method: str, params: dict[str, Any], timeout: float
    ) -> dict[str, Any]:
        """Send ``method(params)`` to ``peer`` and return its reply dict."""
        ...

    async def identify(self, address: str, timeout: float) -> PeerRef:
        """Dial ``address`` and return the authenticated reference of whoever answers."""
        ...


@runtime_checkable
class WarmthAware(Protocol):
    """A :class:`ChordClient` that can tell whether a call would reuse an open session.

    The node then allows a cold call ``dial_timeout`` more, counts cold dials, and lookups
    prefer hops over open sessions. Clients without it are treated as always warm.
    """

    def is_warm(self, peer: PeerRef) -> bool:
        """True when a session to ``peer`` is open (a call needs no dial)."""
        ...


@lru_cache(maxsize=1 << 16)
def _onion_id_cached(onion: str) -> int:
    pub = pubkey_from_onion(onion)
    if onion_address(pub) != onion:
        raise InvalidOnionAddress(onion, "not in canonical form (lower case, .onion)")
    return node_id(pub)


def onion_id(onion: str) -> int:
    """The ring id of the node behind a v3 onion address (validated; cached)."""
    if not isinstance(onion, str) or len(onion) > 70:
        raise BadIdentity("onion address must be a short string")
    canon = onion.strip().lower()
    if not canon.endswith(".onion"):
        canon += ".onion"
    try:
        return _onion_id_cached(canon)
    except InvalidOnionAddress as exc:
        raise BadIdentity(str(exc)) from exc


def encode_id(ident: int) -> bytes:
    """A 256-bit id as 32 big-endian bytes."""
    return ident.to_bytes(32, "big")


def decode_id(value: object, name: str = "id") -> int:
    """A 32-byte big-endian id from field ``name``; :class:`BadReply` (naming it) otherwise."""
    if not isinstance(value, bytes | bytearray) or len(value) != 32:
        raise BadReply(f"field {name!r} must be 32 bytes (bin), got {describe(value)}")
    return int.from_bytes(value, "big")


def describe(value: object) -> str:
    """A short description of an untrusted value's type and size, for error texts."""
    if value is None:
        return "nil or nothing"
    if isinstance(value, bytes | bytearray):
        return f"{len(value)} bytes"
    if isinstance(value, str):
        return f"a string of {len(value)} characters"
    if isinstance(value, list | tuple):
        return f"an array of {len(value)}"
    return {bool: "a boolean", int: "an integer", float: "a float", dict: "a map"}.get(
        type(value), type(value).__name__
    )


def encode_peer(peer: PeerRef) -> dict[str, Any]:
    """A peer reference as a plain dict."""
    return {"id": encode_id(peer.id), "onion": peer.onion, "addr": peer.address}


def decode_peer(value: object, name: str = "peer") -> PeerRef:
    """A peer reference from field ``name``, refusing one whose id does not match its key.

    Errors name the offending field, e.g. ``field 'succs[2].onion'``.
    """
    if not isinstance(value, dict):
        raise BadReply(f"field {name!r} must be a peer map, got {describe(value)}")
    ident = decode_id(value.get("id"), f"{name}.id")
    onion = value.get("onion")
    addr = value.get("addr")
    if not isinstance(onion, str) or onion != onion.lower() or not onion.endswith(".onion"):
        raise BadReply(f"field '{name}.onion' must be a canonical .onion string")
    if not isinstance(addr, str) or not 0 < len(addr) <= MAX_ADDRESS:
        raise BadReply(f"field '{name}.addr' must be a string of 1..{MAX_ADDRESS} characters")
    try:
        key_id = onion_id(onion)
    except BadIdentity as exc:
        raise BadIdentity(f"field '{name}.onion': {exc}") from exc
    if key_id != ident:
        raise BadIdentity(
            f"field '{name}.id' claims {short_id(ident)} but the key in '{name}.onion' says "
            f"{short_id(key_id)}"
        )
    return PeerRef(ident, onion, addr)


def encode_peers(peers: Sequence[PeerRef]) -> list[dict[str, Any]]:
    """A list of peer references as plain dicts."""
    return [encode_peer(p) for p in peers]


def decode_peers(value: object, limit: int = MAX_LIST, name: str = "peers") -> list[PeerRef]:
    """A bounded list of peer references from field ``name``."""
    if not isinstance(value, list | tuple):
        raise BadReply(f"field {name!r} must be an array of peers, got {describe(value)}")
    if len(value) > limit:
        raise BadReply(f"field {name!r} has {len(value)} entries, more than {limit}")
    return [decode_peer(v, f"{name}[{i}]") for i, v in enumerate(value)]


def decode_optional_peer(value: object, name: str = "peer") -> PeerRef | None:
    """``None`` or a peer reference."""
    return None if value is None else decode_peer(value, name)


def check_ordered_from(origin: int, peers: Sequence[PeerRef], name: str = "succs") -> None:
    """Require a successor list of ``origin``: strictly clockwise from it, no origin, no repeats."""
    last = 0
    for i, p in enumerate(peers):
        d = dist(origin, p.id)
        if d <= last:
            raise BadReply(
                f"field '{name}[{i}]' breaks the order: the list must run strictly clockwise "
                "from its owner, without the owner and without repeats"
            )
        last = d


def reply_field(reply: dict[str, Any], name: str) -> object:
    """A required field of a reply dict."""
    if name not in reply:
        raise BadReply(f"missing field {name!r}")
    return reply[name]
