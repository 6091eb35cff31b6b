"""Helpers for the ratchet tests: two accounts, a prekey, a session between them."""

from __future__ import annotations

from dataclasses import dataclass

from ohtchat.crypto import kem
from ohtchat.crypto.keys import AccountKey
from ohtchat.ratchet import PrekeyBundle, Session


@dataclass
class Pair:
    """Alice (initiator) and Bob (responder, with his signed prekey)."""

    alice: AccountKey
    bob: AccountKey
    prekey: kem.KemKeyPair

    @property
    def bundle(self) -> PrekeyBundle:
        """Bob's bundle."""
        return PrekeyBundle.sign(self.bob, self.prekey)

    def start(self, first: bytes = b"hi bob") -> tuple[Session, Session]:
        """Alice's and Bob's sessions after Alice's first message reached Bob."""
        a = Session.initiate(self.alice, self.bundle)
        b, text = Session.accept(self.bob, self.prekey, a.encrypt(first))
        assert text == first
        return a, b

    def started(self) -> tuple[Session, Session]:
        """Sessions after one message each way (both sides have turned once)."""
        a, b = self.start()
        assert a.decrypt(b.encrypt(b"hi alice")) == b"hi alice"
        return a, b


def new_pair() -> Pair:
    """Fresh keys."""
    return Pair(AccountKey(), AccountKey(), kem.KemKeyPair.generate())
