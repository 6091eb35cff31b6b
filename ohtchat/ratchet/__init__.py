"""The post-quantum double ratchet between two accounts (sans-IO; docs/protocol.md §15).

What chat calls::

    bundle = PrekeyBundle.sign(account.key, account.kem)        # or from a presence record
    session = Session.initiate(account.key, bundle_of_peer)      # first contact / re-handshake
    session, text = Session.accept(account.key, account.kem, msg, seen=ids)  # initial message
    message = session.encrypt(plaintext); plaintext = session.decrypt(message)
    blob = session.to_bytes(); session = Session.from_bytes(blob)  # persist after every call
    peek(msg)               # route: initial (names sender, handshake id) or ratchet message
    safety_number(a, b); safety_numbers_match(x, y)
"""

from ohtchat.ratchet.bundle import PrekeyBundle
from ohtchat.ratchet.errors import (
    BadBundle,
    BadState,
    CannotSend,
    DuplicateMessage,
    MalformedRatchetMessage,
    NewHandshake,
    RatchetError,
    ReplayedHandshake,
    TamperedMessage,
    TooManySkipped,
    UnknownHeader,
    UnknownPrekey,
)
from ohtchat.ratchet.message import MAX_PLAINTEXT, MessageInfo, peek
from ohtchat.ratchet.primitives import OS_RANDOMNESS, RatchetRandomness
from ohtchat.ratchet.safety import safety_number, safety_numbers_match
from ohtchat.ratchet.session import Session
from ohtchat.ratchet.state import MAX_OLD_CHAINS, MAX_SKIP, MAX_SKIPPED

__all__ = [
    "MAX_OLD_CHAINS",
    "MAX_PLAINTEXT",
    "MAX_SKIP",
    "MAX_SKIPPED",
    "OS_RANDOMNESS",
    "BadBundle",
    "BadState",
    "CannotSend",
    "DuplicateMessage",
    "MalformedRatchetMessage",
    "MessageInfo",
    "NewHandshake",
    "PrekeyBundle",
    "RatchetError",
    "RatchetRandomness",
    "ReplayedHandshake",
    "Session",
    "TamperedMessage",
    "TooManySkipped",
    "UnknownHeader",
    "UnknownPrekey",
    "peek",
    "safety_number",
    "safety_numbers_match",
]
