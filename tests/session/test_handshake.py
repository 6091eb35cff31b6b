"""The mutual handshake: success, and each way an attacker might try to cheat it."""

import time

import pytest

from ohtchat.crypto.keys import AccountKey, NodeKey
from ohtchat.session.handshake import Initiator, Responder
from ohtchat.session.identity import NodeIdentity
from ohtchat.wire import envelope
from ohtchat.wire.errors import HandshakeFailed, MalformedMessage, WrongIdentity

now = time.time


def run(initiator: Initiator, responder: Responder) -> None:
    hs2 = responder.receive(initiator.start())
    hs3 = initiator.receive(hs2)
    hs4 = responder.receive(hs3)
    assert initiator.receive(hs4) is None


def test_both_sides_authenticate_and_agree_on_keys(alice, bob):
    i, r = Initiator(alice, bob.onion, now), Responder(bob, now)
    run(i, r)
    assert i.result and r.result
    assert i.result.peer.onion == bob.onion and r.result.peer.onion == alice.onion
    assert i.result.peer.node_id == bob.node_id and r.result.peer.account_id == alice.account_id
    assert i.result.send_key == r.result.recv_key and i.result.recv_key == r.result.send_key
    assert i.result.send_key != i.result.recv_key
    assert i.result.session_id == r.result.session_id


def test_fresh_keys_every_session(alice, bob):
    a = Initiator(alice, bob.onion, now)
    run(a, Responder(bob, now))
    b = Initiator(alice, bob.onion, now)
    run(b, Responder(bob, now))
    assert a.result and b.result and a.result.send_key != b.result.send_key


def test_initiator_signing_with_another_key_is_refused(alice, bob):
    # Mallory claims Alice's onion address but only has her own node key.
    mallory = NodeIdentity(NodeKey(), alice.cert)
    forged = _ClaimingInitiator(mallory, bob.onion, claim=alice.onion)
    r = Responder(bob, now)
    hs3 = forged.receive(r.receive(forged.start()))
    with pytest.raises(WrongIdentity, match="not signed by the key"):
        r.receive(hs3)


def test_responder_signing_with_another_key_is_refused(alice, bob):
    # An impostor answers for Bob's address (e.g. a hijacked route) with its own key.
    impostor = NodeIdentity(NodeKey(), bob.cert)
    i = Initiator(alice, bob.onion, now)
    r = _ImpostorResponder(impostor, answer_for=bob.onion)
    hs3 = i.receive(r.receive(i.start()))
    with pytest.raises(WrongIdentity):
        i.receive(r.receive(hs3))


def test_transcript_replayed_from_another_session_is_refused(alice, bob):
    first = Initiator(alice, bob.onion, now)
    r1 = Responder(bob, now)
    old_hs3 = first.receive(r1.receive(first.start()))
    # A recorded hs3 from session 1 is replayed into session 2 (new cookies, new KEM keys).
    attacker = Initiator(alice, bob.onion, now)  # only to produce a well-formed hs1
    r2 = Responder(bob, now)
    r2.receive(attacker.start())
    with pytest.raises(WrongIdentity):
        r2.receive(old_hs3)


def test_reflected_proof_is_refused(alice, bob):
    i = Initiator(alice, bob.onion, now)
    r = Responder(bob, now)
    hs3 = i.receive(r.receive(i.start()))
    # The "responder" sends the initiator's own proof back as hs4.
    _kind, f = envelope.decode(hs3)
    reflected = envelope.encode("hs4", {"cert": f.data["cert"], "sig": f.data["sig"]})
    with pytest.raises(WrongIdentity):
        i.receive(reflected)


def test_reflected_hello_is_refused(alice, bob):
    i = Initiator(alice, bob.onion, now)
    hs1 = i.start()
    _, f = envelope.decode(hs1)
    fake_hs2 = envelope.encode(
        "hs2",
        {"onion": bob.onion, "cookie": f.data["cookie"], "kem": f.data["kem"], "ct": b"\0" * 1120},
    )
    with pytest.raises(HandshakeFailed, match="reflected"):
        i.receive(fake_hs2)


def test_initiator_claiming_responders_address_is_refused(bob):
    i = _ClaimingInitiator(bob, bob.onion, claim=bob.onion)
    r = Responder(bob, now)
    with pytest.raises(HandshakeFailed, match="reflected"):
        r.receive(i.receive(r.receive(i.start())))


def test_dialling_a_different_address_is_refused(alice, bob):
    carol = NodeIdentity.create(AccountKey(), int(now()))
    i = Initiator(alice, carol.onion, now)
    with pytest.raises(HandshakeFailed, match="not this node"):
        Responder(bob, now).receive(i.start())


def test_expired_certificate_is_refused(bob):
    acct, nk = AccountKey(), NodeKey()
    old = NodeIdentity(nk, acct.certify(nk.public, now=1000, lifetime=10))
    i, r = Initiator(old, bob.onion, now), Responder(bob, now)
    with pytest.raises(HandshakeFailed, match="expired"):
        r.receive(i.receive(r.receive(i.start())))


def test_certificate_for_another_node_is_refused(alice, bob):
    other_cert = AccountKey().certify(NodeKey().public, int(now()))
    wrong = NodeIdentity(alice.node_key, other_cert)
    i, r = Initiator(wrong, bob.onion, now), Responder(bob, now)
    with pytest.raises(HandshakeFailed, match="certificate"):
        r.receive(i.receive(r.receive(i.start())))


def test_messages_out_of_order_are_refused(alice, bob):
    i, r = Initiator(alice, bob.onion, now), Responder(bob, now)
    hs1 = i.start()
    with pytest.raises(HandshakeFailed, match="expected hs1"):
        r.receive(envelope.encode("hs3", {}))
    hs2 = r.receive(hs1)
    with pytest.raises(HandshakeFailed, match="expected hs2"):
        i.receive(hs1)
    with pytest.raises(HandshakeFailed, match="state start"):
        Initiator(alice, bob.onion, now).receive(hs2)
    fresh = Initiator(alice, bob.onion, now)
    fresh.start()
    with pytest.raises(MalformedMessage):
        fresh.receive(b"\x00garbage")
    assert hs2


class _ClaimingInitiator(Initiator):
    """An initiator that claims ``claim`` as its address regardless of its key."""

    def __init__(self, me, peer_onion, claim):
        super().__init__(me, peer_onion, now)
        self._claim = claim

    def receive(self, payload):
        out = super().receive(payload)
        if out is None:
            return None
        kind, f = envelope.decode(out)
        body = dict(f.data)
        # Recompute over the claimed address so only the *key* is wrong.
        from ohtchat.session import handshake as hs

        body["onion"] = self._claim
        _, f2 = envelope.decode(payload)
        t = hs.transcript_hash(
            self._claim, self.peer_onion, self._cookie, f2.data["cookie"],
            self._kem.public, f2.data["kem"], f2.data["ct"], body["ct"],
        )  # fmt: skip
        body["sig"] = self.me.node_key.sign(hs._signed_message(hs.SIG_INITIATOR, t, body["cert"]))
        return envelope.encode(kind, body)


class _ImpostorResponder(Responder):
    """A responder that answers for ``answer_for`` although its key is different."""

    def __init__(self, me, answer_for):
        super().__init__(me, now)
        self._answer_for = answer_for

    def _on_hs1(self, f):
        f.data["onion"] = self.me.onion  # accept the dial for the other address
        _, out = envelope.decode(super()._on_hs1(f))
        return envelope.encode("hs2", {**out.data, "onion": self._answer_for})  # and claim it
