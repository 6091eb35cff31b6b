"""Forward secrecy, post-compromise security (hybrid: DH alone or KEM alone is not enough),
and tampering: every flipped byte gives a typed error and leaves the state as it was."""

from __future__ import annotations

import os

import pytest

from ohtchat.crypto import kem
from ohtchat.ratchet import (
    RatchetError,
    Session,
    TamperedMessage,
    UnknownHeader,
)
from ohtchat.ratchet.message import parse
from ohtchat.ratchet.primitives import (
    AeadFailed,
    kdf_chain,
    kdf_root,
    message_keys,
    open_body,
    open_header,
    x25519,
)
from ohtchat.ratchet.state import RatchetState
from tests.ratchet.pairs import new_pair


def candidate_keys(key_material: bytes) -> list[bytes]:
    """32 bytes taken as a body key, a message key, or a chain key up to 4 steps back."""
    keys = [key_material, message_keys(key_material)[0]]
    ck = key_material
    for _ in range(4):
        mk, ck = kdf_chain(ck)
        keys.append(message_keys(mk)[0])
    return keys


def opens_any(keys: list[bytes], messages: list[bytes], ad: bytes) -> bool:
    """Whether one of ``keys`` opens the body of one of ``messages``."""
    for message in messages:
        parsed = parse(message)
        aad = parsed.body_aad(ad)
        for key in keys:
            try:
                open_body(key, parsed.body, aad)
                return True
            except AeadFailed:
                pass
    return False


def state_reopens(blob: bytes, messages: list[bytes], ad: bytes) -> bool:
    """Whether any 32-byte window of serialized state opens one of ``messages``."""
    return any(
        opens_any(candidate_keys(blob[i : i + 32]), messages, ad) for i in range(len(blob) - 31)
    )


def ad_of(session: Session) -> bytes:
    return session._ad  # the associated data is public (both account ids)


def test_forward_secrecy_nothing_in_the_state_reopens_an_old_message() -> None:
    a, b = new_pair().started()
    old = [a.encrypt(f"message {i}".encode()) for i in range(4)]
    for i, msg in enumerate(old):
        assert b.decrypt(msg) == f"message {i}".encode()
    reply = b.encrypt(b"bob's state now also holds a sending chain and KEM secrets")
    blob = b.to_bytes()
    for msg in old:
        with pytest.raises(RatchetError):
            Session.from_bytes(blob).decrypt(msg)
    assert not state_reopens(blob, old, ad_of(b))
    assert a.decrypt(reply)


def test_forward_secrecy_check_finds_a_key_that_is_still_there() -> None:
    """The window scan above is not vacuous: a skipped (kept) key is found in the state."""
    a, b = new_pair().started()
    kept, later = a.encrypt(b"kept for later"), a.encrypt(b"read now")
    assert b.decrypt(later) == b"read now"
    assert state_reopens(b.to_bytes(), [kept], ad_of(b))
    assert not state_reopens(b.to_bytes(), [later], ad_of(b))


def test_post_compromise_the_leak_reads_until_both_sides_turned() -> None:
    a, b = new_pair().started()
    leaked = a.to_bytes()  # the attacker copies Alice's whole state
    from_bob = b.encrypt(b"read by the thief")
    thief = Session.from_bytes(leaked)
    assert thief.decrypt(from_bob) == b"read by the thief"  # same chain: readable
    assert a.decrypt(from_bob) == b"read by the thief"
    b.decrypt(a.encrypt(b"alice turns"))  # Alice turns with fresh keys...
    after = b.encrypt(b"bob turns too")  # ...and Bob answers on a new chain
    assert a.decrypt(after) == b"bob turns too"
    for msg in (after, b.encrypt(b"and again")):
        # The header key of Bob's new chain was derived one turn early, so the leaked state
        # still opens its header (TamperedMessage), but never its body.
        with pytest.raises(TamperedMessage):
            Session.from_bytes(leaked).decrypt(msg)
    b.decrypt(a.encrypt(b"one more turn each"))
    later = b.encrypt(b"headers have healed too")
    with pytest.raises(UnknownHeader):
        Session.from_bytes(leaked).decrypt(later)
    assert a.decrypt(later) == b"headers have healed too"


class Recording:
    """OS randomness that remembers what it handed out (the attacker's view of a turn)."""

    def __init__(self) -> None:
        self.x25519: list[bytes] = []
        self.encaps: list[tuple[bytes, bytes]] = []

    def x25519_secret(self) -> bytes:
        self.x25519.append(os.urandom(32))
        return self.x25519[-1]

    def mlkem_key_pair(self) -> tuple[bytes, bytes]:
        return kem.mlkem_key_pair()

    def mlkem_encapsulate(self, ek: bytes) -> tuple[bytes, bytes]:
        self.encaps.append(kem.mlkem_encapsulate(ek))
        return self.encaps[-1]


@pytest.mark.parametrize(
    ("knows_dh", "knows_kem", "reads"),
    [(True, True, True), (True, False, False), (False, True, False)],
    ids=["dh-and-kem: readable (control)", "dh-only: not readable", "kem-only: not readable"],
)
def test_a_turn_needs_both_the_dh_and_the_kem_secret(
    knows_dh: bool, knows_kem: bool, reads: bool
) -> None:
    """Bob's whole state leaks; Bob then turns. An attacker who also learns Bob's new X25519
    ratchet secret (but not the ML-KEM randomness), or the ML-KEM secret (but not the X25519
    one), cannot read Bob's new chain; knowing both, it can (so the test can fail)."""
    pair = new_pair()
    a, b0 = pair.started()
    b0.decrypt(a.encrypt(b"alice turns: bob's next message turns"))
    leaked = RatchetState.from_bytes(b0.to_bytes())
    rec = Recording()
    b = Session.from_bytes(b0.to_bytes(), randomness=rec)
    msg = b.encrypt(b"after the turn")
    assert a.decrypt(msg) == b"after the turn"
    (dh_secret,), ((_, ss),) = rec.x25519, rec.encaps
    assert leaked.dhr is not None and leaked.nhks is not None
    dh = x25519(dh_secret if knows_dh else os.urandom(32), leaked.dhr)
    _, ck, _ = kdf_root(leaked.rk, dh, ss if knows_kem else os.urandom(32))
    parsed = parse(msg)
    # the header key of the new chain was already in the leaked state: headers do not heal yet
    assert open_header(leaked.nhks, parsed.nonce, parsed.enc_header, parsed.header_aad(ad_of(b)))
    mk, _ = kdf_chain(ck)
    try:
        open_body(message_keys(mk)[0], parsed.body, parsed.body_aad(ad_of(b)))
        opened = True
    except AeadFailed:
        opened = False
    assert opened is reads


def all_positions_refused(session: Session, message: bytes) -> int:
    """Flip each byte of ``message`` in turn: a typed error, and the state unchanged."""
    before = session.to_bytes()
    for i in range(len(message)):
        raw = bytearray(message)
        raw[i] ^= 0x01
        with pytest.raises(RatchetError):
            session.decrypt(bytes(raw))
        assert session.to_bytes() == before
    return len(message)


def test_every_flipped_byte_of_a_turning_message_is_refused() -> None:
    a, b = new_pair().started()
    msg = a.encrypt(b"turning message")  # Alice's next chain: a turn at Bob
    assert all_positions_refused(b, msg) > 2000
    assert b.decrypt(msg) == b"turning message"


def test_every_flipped_byte_of_an_in_chain_message_is_refused() -> None:
    a, b = new_pair().started()
    b.decrypt(a.encrypt(b"first"))
    msg = a.encrypt(b"second, same chain")
    all_positions_refused(b, msg)
    assert b.decrypt(msg) == b"second, same chain"


def test_flipped_bytes_of_an_initial_message_are_refused_by_accept() -> None:
    pair = new_pair()
    a = Session.initiate(pair.alice, pair.bundle)
    msg = a.encrypt(b"first contact")
    for i in range(0, len(msg), 7):
        raw = bytearray(msg)
        raw[i] ^= 0x01
        with pytest.raises(RatchetError):
            Session.accept(pair.bob, pair.prekey, bytes(raw))
    assert Session.accept(pair.bob, pair.prekey, msg)[1] == b"first contact"


def test_truncated_or_extended_messages_are_refused() -> None:
    a, b = new_pair().started()
    msg = a.encrypt(b"length matters")
    before = b.to_bytes()
    for bad in (msg[:-1], msg + b"\x00", msg[:100], b"", bytes([2]) + msg[1:]):
        with pytest.raises(RatchetError):
            b.decrypt(bad)
    assert b.to_bytes() == before
    with pytest.raises(TamperedMessage):
        b.decrypt(msg[:-1] + bytes([msg[-1] ^ 1]))
