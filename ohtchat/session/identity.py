"""Who a node is (its keys) and who a peer proved to be (after the handshake)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ohtchat.crypto.ids import node_id
from ohtchat.crypto.keys import AccountKey, NodeCertificate, NodeKey


@dataclass(frozen=True)
class NodeIdentity:
    """Our side: the node (onion) key and the account certificate for it."""

    node_key: NodeKey
    cert: NodeCertificate

    @classmethod
    def create(cls, account: AccountKey, now: int, node_key: NodeKey | None = None) -> NodeIdentity:
        """A node identity for ``account``: a fresh (or given) node key, certified now."""
        nk = node_key or NodeKey()
        return cls(nk, account.certify(nk.public, now))

    @property
    def onion(self) -> str:
        """Our onion address (derived from the node key)."""
        return self.node_key.onion

    @property
    def node_id(self) -> int:
        """Our ring id."""
        return node_id(self.node_key.public)

    @property
    def account_id(self) -> str:
        """The id of the account this node serves."""
        return self.cert.account_id


@dataclass(frozen=True)
class PeerIdentity:
    """A peer as the handshake authenticated it: the key inside its onion address signed the
    transcript, and its account signed the certificate for that key."""

    onion: str
    node_public: bytes
    cert: NodeCertificate
    #: The session binding: the handshake's transcript hash, the same on both ends and unique
    #: to this session (a proof that includes it cannot be replayed on another session).
    binding: bytes = field(default=b"", compare=False, repr=False)

    @property
    def node_id(self) -> int:
        """The peer's ring id (derived from its authenticated key)."""
        return node_id(self.node_public)

    @property
    def account_id(self) -> str:
        """The peer's account id (from its verified certificate)."""
        return self.cert.account_id

    @property
    def account_public(self) -> bytes:
        """The peer's account public key."""
        return self.cert.account_public
