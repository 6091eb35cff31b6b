"""The ratchet's behaviour: bundles, first contact, order, limits, duplicates, state bytes,
the recovery path (a new handshake) and routing."""

from __future__ import annotations

import pytest

from ohtchat.chat.presence import PREKEY_LABEL as PRESENCE_PREKEY_LABEL
from ohtchat.crypto import kem
from ohtchat.crypto.keys import AccountKey
from ohtchat.ratchet import (
    MAX_OLD_CHAINS,
    MAX_PLAINTEXT,
    MAX_SKIP,
    MAX_SKIPPED,
    BadBundle,
    BadState,
    CannotSend,
    DuplicateMessage,
    MalformedRatchetMessage,
    NewHandshake,
    PrekeyBundle,
    ReplayedHandshake,
    Session,
    TooManySkipped,
    UnknownHeader,
    UnknownPrekey,
    peek,
)
from ohtchat.ratchet.bundle import BUNDLE_LEN, PREKEY_LABEL
from ohtchat.ratchet.message import OVERHEAD, PREFIX_LEN
from ohtchat.wire.envelope import pack, unpack
from tests.ratchet.pairs import new_pair

# --------------------------------------------------------------------------- bundles


def test_the_bundle_is_the_presence_prekey_and_round_trips() -> None:
    pair = new_pair()
    bundle = pair.bundle
    assert PREKEY_LABEL == PRESENCE_PREKEY_LABEL
    raw = bundle.to_bytes()
    assert len(raw) == BUNDLE_LEN == 1313
    assert PrekeyBundle.from_bytes(raw) == bundle
    assert bundle.kem_public == pair.prekey.public
    assert bundle.account_id == pair.bob.account_id


@pytest.mark.parametrize("at", [0, 1, 40, 1300, BUNDLE_LEN - 1])
def test_a_damaged_bundle_is_refused(at: int) -> None:
    raw = bytearray(new_pair().bundle.to_bytes())
    raw[at] ^= 0x01
    with pytest.raises(BadBundle):
        PrekeyBundle.from_bytes(bytes(raw))
    with pytest.raises(BadBundle):
        PrekeyBundle.from_bytes(bytes(raw[:-1]))


def test_a_signed_bundle_with_a_low_order_prekey_is_refused_at_initiate() -> None:
    bob = AccountKey()
    kem_pub = bytes(32) + kem.mlkem_key_pair()[0]
    bundle = PrekeyBundle(bob.public, kem_pub, bob.sign(PREKEY_LABEL + kem_pub))
    with pytest.raises(BadBundle):
        Session.initiate(AccountKey(), bundle)


# --------------------------------------------------------------------------- first contact


def test_first_contact_reply_and_sizes() -> None:
    pair = new_pair()
    a = Session.initiate(pair.alice, pair.bundle)
    first = a.encrypt(b"hello")
    assert a.awaiting_reply and len(first) == len(b"hello") + OVERHEAD + PREFIX_LEN
    info = peek(first)
    assert info.initial and info.sender == pair.alice.public
    assert info.prekey_id == pair.bundle.prekey_id and info.handshake_id == a.handshake_id
    b, text = Session.accept(pair.bob, pair.prekey, first)
    assert text == b"hello" and b.peer_account == pair.alice.public and not b.initiator
    reply = b.encrypt(b"hi")
    assert len(reply) == 2 + OVERHEAD and not peek(reply).initial
    assert a.decrypt(reply) == b"hi" and not a.awaiting_reply
    assert not peek(a.encrypt(b"now a ratchet message")).initial


def test_the_responder_state_keeps_no_prekey_secret() -> None:
    pair = new_pair()
    _, b = pair.start()
    blob = b.to_bytes()
    assert pair.prekey.secret[:32] not in blob
    assert pair.prekey.secret[32:64] not in blob


def test_accept_refusals() -> None:
    pair = new_pair()
    a = Session.initiate(pair.alice, pair.bundle)
    first = a.encrypt(b"x")
    with pytest.raises(UnknownPrekey):
        Session.accept(pair.bob, kem.KemKeyPair.generate(), first)
    with pytest.raises(ReplayedHandshake):
        Session.accept(pair.bob, pair.prekey, first, seen={a.handshake_id})
    with pytest.raises(UnknownHeader):  # not addressed to this account
        Session.accept(AccountKey(), pair.prekey, first)
    b, _ = Session.accept(pair.bob, pair.prekey, first)
    with pytest.raises(MalformedRatchetMessage):
        Session.accept(pair.bob, pair.prekey, b.encrypt(b"not initial"))


def test_a_low_order_ephemeral_is_a_typed_error() -> None:
    pair = new_pair()
    first = bytearray(Session.initiate(pair.alice, pair.bundle).encrypt(b"x"))
    first[2 + 40 : 2 + 72] = bytes(32)
    with pytest.raises(MalformedRatchetMessage):
        Session.accept(pair.bob, pair.prekey, bytes(first))


def test_responder_cannot_write_first_and_big_plaintexts_are_refused() -> None:
    a, b = new_pair().start()
    with pytest.raises(CannotSend):
        a.encrypt(bytes(MAX_PLAINTEXT + 1))
    big = a.encrypt(bytes(MAX_PLAINTEXT))
    assert b.decrypt(big) == bytes(MAX_PLAINTEXT)


# --------------------------------------------------------------------------- order and limits


def test_out_of_order_within_and_across_turns() -> None:
    a, b = new_pair().started()
    chain1 = [a.encrypt(b"a1-%d" % i) for i in range(4)]
    assert b.decrypt(chain1[2]) == b"a1-2"
    assert a.decrypt(b.encrypt(b"bob")) == b"bob"
    chain2 = [a.encrypt(b"a2-%d" % i) for i in range(3)]
    # the new chain first: the rest of chain 1 is skipped up to PN = 4
    assert b.decrypt(chain2[1]) == b"a2-1"
    for i in (3, 0, 1):
        assert b.decrypt(chain1[i]) == b"a1-%d" % i
    assert b.decrypt(chain2[0]) == b"a2-0"
    assert b.decrypt(chain2[2]) == b"a2-2"
    for msg in chain1 + chain2:
        with pytest.raises(DuplicateMessage):
            b.decrypt(msg)


def test_max_skip_per_chain() -> None:
    a, b = new_pair().started()
    msgs = [a.encrypt(b"%d" % i) for i in range(MAX_SKIP + 2)]
    before = b.to_bytes()
    with pytest.raises(TooManySkipped):
        b.decrypt(msgs[MAX_SKIP + 1])
    assert b.to_bytes() == before
    assert b.decrypt(msgs[MAX_SKIP]) == b"%d" % MAX_SKIP
    assert b.decrypt(msgs[0]) == b"0" and b.decrypt(msgs[MAX_SKIP - 1])


def test_skipped_keys_are_capped_oldest_first() -> None:
    a, b = new_pair().started()
    chains = []
    for c in range(3):
        msgs = [a.encrypt(b"%d-%d" % (c, i)) for i in range(MAX_SKIP + 1)]
        assert b.decrypt(msgs[-1])  # skips MAX_SKIP keys of this chain
        assert a.decrypt(b.encrypt(b"turn"))
        chains.append(msgs)
    assert len(b._state.skipped) == MAX_SKIPPED
    with pytest.raises(DuplicateMessage):  # evicted with the oldest chain's keys
        b.decrypt(chains[0][0])
    assert b.decrypt(chains[1][0]) == b"1-0" and b.decrypt(chains[2][5]) == b"2-5"


def test_old_chains_are_remembered_up_to_the_cap() -> None:
    a, b = new_pair().started()
    late = a.encrypt(b"late")
    a.encrypt(b"skipped over")  # so the late one's chain keeps a skipped key
    for turn in range(MAX_OLD_CHAINS + 2):  # turn 0 stays on the same chain
        assert b.decrypt(a.encrypt(b"turn %d" % turn))
        assert a.decrypt(b.encrypt(b"back"))
        if turn == 0:
            dup = late
            assert b.decrypt(late) == b"late"
        if turn == MAX_OLD_CHAINS:  # its chain is the oldest one remembered
            with pytest.raises(DuplicateMessage):
                b.decrypt(dup)
    with pytest.raises(UnknownHeader):  # its chain's header key is gone
        b.decrypt(dup)


# --------------------------------------------------------------------------- state bytes


def test_state_bytes_are_exact_and_checked() -> None:
    a, b = new_pair().started()
    a.encrypt(b"skipped")
    assert b.decrypt(a.encrypt(b"read")) == b"read"
    blob = b.to_bytes()
    assert Session.from_bytes(blob).to_bytes() == blob
    obj = unpack(blob)
    assert list(obj)[:2] == ["v", "init"] and len(obj["skip"]) == 1
    for bad in (
        blob[:-1],
        b"",
        pack({**obj, "v": 2}),
        pack({**obj, "extra": 1}),
        pack({**obj, "rk": b"short"}),
        pack({**obj, "ns": -1}),
        pack({**obj, "skip": [b"x" * 67]}),
        pack({**obj, "dhs": bytes(32), "kpk": None}),
        pack({k: obj[k] for k in reversed(list(obj))}),
    ):
        with pytest.raises(BadState):
            Session.from_bytes(bad)


# --------------------------------------------------------------------------- recovery, routing


def test_recovery_after_a_lost_state_is_a_new_handshake() -> None:
    pair = new_pair()
    a, b = pair.start()
    snapshot = b.to_bytes()  # Bob's backup, taken early
    for _ in range(2):
        assert a.decrypt(b.encrypt(b"bob")) and b.decrypt(a.encrypt(b"alice"))
    lost = a.encrypt(b"bob lost his state; he cannot read this")
    # Bob restores the old backup: Alice's messages no longer open.
    with pytest.raises(UnknownHeader):
        Session.from_bytes(snapshot).decrypt(lost)
    # Bob starts over from Alice's bundle; Alice sees an initial message of a new handshake.
    alice_bundle = PrekeyBundle.sign(pair.alice, alice_prekey := kem.KemKeyPair.generate())
    b2 = Session.initiate(pair.bob, alice_bundle)
    hello = b2.encrypt(b"let us start over")
    with pytest.raises(NewHandshake):
        a.decrypt(hello)
    info = peek(hello)
    assert info.initial and info.sender == pair.bob.public
    a2, text = Session.accept(pair.alice, alice_prekey, hello)
    assert text == b"let us start over" and a2.initiator is False
    assert b2.decrypt(a2.encrypt(b"resent")) == b"resent"
    assert a2.safety_number() == a.safety_number() == b2.safety_number()


def test_owns_routes_a_message_to_its_session() -> None:
    pair = new_pair()
    a, b = pair.started()
    _, other = new_pair().started()
    msg = a.encrypt(b"for bob")
    before = b.to_bytes()
    assert b.owns(msg) and not other.owns(msg) and not b.owns(b"junk")
    assert b.to_bytes() == before and b.decrypt(msg) == b"for bob"
    assert b.owns(msg)  # its chain is still bob's (a duplicate now)
