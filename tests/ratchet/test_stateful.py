"""Hypothesis state machine: random sends both ways, delivered in any order, dropped,
duplicated, with crashes (reload from the persisted bytes) — every delivered message decrypts
exactly once to its plaintext, duplicates are refused, drops never break later messages."""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from ohtchat.ratchet import (
    DuplicateMessage,
    RatchetError,
    Session,
    UnknownHeader,
    peek,
)
from tests.ratchet.pairs import new_pair

PAIR = new_pair()


@dataclass
class Party:
    """One side: its live session, what it last persisted, and the handshakes it accepted."""

    name: str
    session: Session | None = None
    saved: bytes | None = None
    seen: set[bytes] = field(default_factory=set)
    saved_seen: frozenset[bytes] = frozenset()

    def persist(self) -> None:
        assert self.session is not None
        self.saved = self.session.to_bytes()
        self.saved_seen = frozenset(self.seen)

    def crash(self) -> None:
        """Lose everything not persisted."""
        self.session = None if self.saved is None else Session.from_bytes(self.saved)
        self.seen = set(self.saved_seen)


@dataclass(frozen=True)
class Sent:
    """A message in flight."""

    serial: int
    to: str
    plaintext: bytes
    ciphertext: bytes


class RatchetMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.parties = {"a": Party("a"), "b": Party("b")}
        a = self.parties["a"]
        a.session = Session.initiate(PAIR.alice, PAIR.bundle)
        a.persist()
        self.in_flight: list[Sent] = []
        self.delivered: list[Sent] = []
        self.serial = 0

    # ------------------------------------------------------------------ helpers

    def receive(self, msg: Sent) -> bytes:
        """What the receiving chat layer would do; the receiver persists on success."""
        party = self.parties[msg.to]
        info = peek(msg.ciphertext)
        if party.session is None or (
            info.initial and info.handshake_id != party.session.handshake_id
        ):
            session, text = Session.accept(PAIR.bob, PAIR.prekey, msg.ciphertext, seen=party.seen)
            assert info.handshake_id is not None
            party.session = session
            party.seen.add(info.handshake_id)
        else:
            text = party.session.decrypt(msg.ciphertext)
        return text

    # ------------------------------------------------------------------ rules

    @rule(sender=st.sampled_from("ab"), text=st.binary(max_size=40))
    def send(self, sender: str, text: bytes) -> None:
        party = self.parties[sender]
        if party.session is None:
            return  # Bob cannot write before Alice's first message reached him
        ct = party.session.encrypt(text)
        party.persist()  # before the message leaves
        self.serial += 1
        self.in_flight.append(Sent(self.serial, "b" if sender == "a" else "a", text, ct))

    @rule(sender=st.sampled_from("ab"), count=st.integers(2, 4))
    def send_burst(self, sender: str, count: int) -> None:
        """Several messages at once: their delivery order decides which keys get skipped."""
        for i in range(count):
            self.send(sender, b"burst %d" % i)

    @rule(sender=st.sampled_from("ab"), text=st.binary(max_size=8))
    def send_then_crash(self, sender: str, text: bytes) -> None:
        """Encrypt, crash before persisting: the message never leaves."""
        party = self.parties[sender]
        if party.session is not None:
            party.session.encrypt(text)
            party.crash()

    @precondition(lambda self: self.in_flight)
    @rule(data=st.data())
    def deliver(self, data: st.DataObject) -> None:
        msg = self.in_flight.pop(data.draw(st.integers(0, len(self.in_flight) - 1)))
        assert self.receive(msg) == msg.plaintext
        self.parties[msg.to].persist()
        self.delivered.append(msg)

    @precondition(lambda self: self.in_flight)
    @rule(data=st.data())
    def deliver_then_crash(self, data: st.DataObject) -> None:
        """Decrypt, crash before persisting: the message is still owed (it is redelivered)."""
        index = data.draw(st.integers(0, len(self.in_flight) - 1))
        msg = self.in_flight[index]
        assert self.receive(msg) == msg.plaintext
        self.parties[msg.to].crash()

    @precondition(lambda self: self.in_flight)
    @rule(data=st.data())
    def drop(self, data: st.DataObject) -> None:
        self.in_flight.pop(data.draw(st.integers(0, len(self.in_flight) - 1)))

    @precondition(lambda self: self.delivered)
    @rule(data=st.data())
    def duplicate(self, data: st.DataObject) -> None:
        last = len(self.delivered) - 1
        recent = st.integers(max(0, last - 2), last)  # often one just read, maybe a skipped one
        msg = self.delivered[data.draw(recent | st.integers(0, last))]
        party = self.parties[msg.to]
        assert party.session is not None
        before = party.session.to_bytes()
        try:
            self.receive(msg)
        except (DuplicateMessage, UnknownHeader):
            pass
        else:
            raise AssertionError("a duplicate decrypted again")
        assert party.session.to_bytes() == before

    @precondition(lambda self: self.in_flight)
    @rule(data=st.data(), position=st.integers(-24, 40) | st.integers(0, 4000))
    def tampered_copy(self, data: st.DataObject, position: int) -> None:
        """A copy with one flipped byte is refused and changes nothing; the original is
        still owed."""
        msg = self.in_flight[data.draw(st.integers(0, len(self.in_flight) - 1))]
        party = self.parties[msg.to]
        if party.session is None:
            return
        raw = bytearray(msg.ciphertext)
        raw[position % len(raw)] ^= 0x40  # negative positions: the body and its tag
        before = party.session.to_bytes()
        try:
            party.session.decrypt(bytes(raw))
        except RatchetError:
            pass
        else:
            raise AssertionError("a tampered message decrypted")
        assert party.session.to_bytes() == before

    @rule(who=st.sampled_from("ab"))
    def crash(self, who: str) -> None:
        self.parties[who].crash()

    # ------------------------------------------------------------------ checks

    @invariant()
    def persisted_state_round_trips(self) -> None:
        for party in self.parties.values():
            if party.saved is not None:
                assert Session.from_bytes(party.saved).to_bytes() == party.saved

    def teardown(self) -> None:
        """Everything still in flight decrypts, in reverse order (the worst case)."""
        for msg in reversed(self.in_flight):
            assert self.receive(msg) == msg.plaintext


RatchetMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
TestRatchetMachine = RatchetMachine.TestCase
