"""Local accounts: keys kept in the store, the active identity, and account-level crypto.

An account holds three secrets: the account key (ed25519, the user's identity), the node key
(ed25519, the onion service key) and a hybrid KEM key pair (its public half is published in the
presence record as a signed prekey, for offline messages and ``/encrypt``).
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from dataclasses import dataclass

from ohtchat.crypto import kem
from ohtchat.crypto.errors import BadSignature, CryptoError
from ohtchat.crypto.keys import AccountKey, NodeKey, account_id, verify_signature
from ohtchat.session.identity import NodeIdentity
from ohtchat.store import Store, StoredAccount

ACTIVE = "account.active"
SIGN_LABEL = b"ohtchat signed text v1\x00"


class AccountError(Exception):
    """An account operation failed (unknown account, bad signature text, ...)."""


@dataclass(frozen=True)
class LocalAccount:
    """An unlocked local account."""

    name: str
    key: AccountKey
    node_key: NodeKey
    kem: kem.KemKeyPair
    created: float

    @property
    def account_id(self) -> str:
        """The account id (hex SHA3-256 of the account public key)."""
        return self.key.account_id

    def identity(self, now: int) -> NodeIdentity:
        """The node identity: our node key, certified by the account key."""
        return NodeIdentity(self.node_key, self.key.certify(self.node_key.public, now))

    @classmethod
    def from_stored(cls, s: StoredAccount) -> LocalAccount:
        """Rebuild from the store's record."""
        return cls(
            s.name,
            AccountKey(s.account_seed),
            NodeKey(s.node_seed),
            kem.KemKeyPair.from_secret(s.kem_secret),
            s.created,
        )

    def to_stored(self) -> StoredAccount:
        """The store's record of this account."""
        return StoredAccount(
            self.name,
            self.key.seed,
            self.node_key.seed,
            self.kem.secret,
            self.created,
            self.kem.public,
        )


def fingerprint(account_public: bytes) -> str:
    """A short, human-comparable fingerprint of an account key: 8 groups of 5 digits."""
    digest = account_id(account_public)
    num = int(digest[:40], 16)
    groups = [f"{(num >> (17 * i)) % 100000:05d}" for i in range(8)]
    return " ".join(groups)


class Accounts:
    """The accounts in one store; one of them is active (the node runs as it)."""

    def __init__(self, store: Store, now: Callable[[], float] = time.time) -> None:
        self.store = store
        self.now = now

    def all(self) -> list[LocalAccount]:
        """Every local account, oldest first."""
        return sorted(
            (LocalAccount.from_stored(a) for a in self.store.accounts()), key=lambda a: a.created
        )

    def generate(self, name: str) -> LocalAccount:
        """Create and store a new account with fresh keys."""
        name = name.strip() or "anonymous"
        if any(a.name == name for a in self.all()):
            raise AccountError(f"an account named {name!r} already exists")
        acct = LocalAccount(name, AccountKey(), NodeKey(), kem.KemKeyPair.generate(), self.now())
        self.store.put_account(acct.to_stored())
        if self.store.get_setting(ACTIVE) is None:
            self.store.set_setting(ACTIVE, name)
        return acct

    def find(self, ref: str) -> LocalAccount:
        """An account by name, full id or unique id prefix."""
        ref = ref.strip().lower().removeprefix("0x")
        matches = [a for a in self.all() if a.name.lower() == ref or a.account_id.startswith(ref)]
        if len(matches) != 1:
            raise AccountError(f"no single local account matches {ref!r}")
        return matches[0]

    def active(self) -> LocalAccount:
        """The account the node runs as (the first one if none is marked)."""
        name = self.store.get_setting(ACTIVE)
        accounts = self.all()
        if not accounts:
            raise AccountError("no account yet: /generate NAME creates one")
        for a in accounts:
            if a.name == name:
                return a
        return accounts[0]

    def delete(self, ref: str) -> LocalAccount:
        """Delete a local account (never the active one: a running node needs its keys)."""
        acct = self.find(ref)
        if acct.name == self.active().name:
            raise AccountError("cannot delete the active account")
        self.store.delete_account(acct.name)
        return acct

    def sign(self, ref: str, text: str) -> str:
        """A base64 signature of ``text`` by a local account."""
        sig = self.find(ref).key.sign(SIGN_LABEL + text.encode())
        return base64.b64encode(sig).decode()


def verify_text(account_public: bytes, text: str, signature_b64: str) -> bool:
    """Check a ``/sign`` signature; False for a wrong or malformed one."""
    try:
        sig = base64.b64decode(signature_b64, validate=True)
        verify_signature(account_public, SIGN_LABEL + text.encode(), sig)
    except (ValueError, BadSignature):
        return False
    return True


def encrypt_text(kem_public: bytes, text: str) -> str:
    """Seal ``text`` to a KEM public key; base64 text safe to paste anywhere."""
    return base64.b64encode(kem.seal(kem_public, text.encode(), b"ohtchat /encrypt")).decode()


def decrypt_text(acct: LocalAccount, ciphertext_b64: str) -> str:
    """Open a ``/encrypt`` ciphertext with a local account's KEM key."""
    try:
        box = base64.b64decode(ciphertext_b64.strip(), validate=True)
        return kem.open_sealed(acct.kem.secret, box, b"ohtchat /encrypt").decode()
    except (ValueError, CryptoError, UnicodeDecodeError) as exc:
        raise AccountError("cannot decrypt: not a ciphertext for this account") from exc
