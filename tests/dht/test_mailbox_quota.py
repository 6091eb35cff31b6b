"""Mailbox pools at a holder (issue 19, item 2): signed deposits, tickets, shares, eviction."""

from __future__ import annotations

import dataclasses

import pytest

from ohtchat.crypto.keys import AccountKey, SigningKey
from ohtchat.dht import (
    BadRecord,
    DeleteMarker,
    Deposit,
    DhtConfig,
    ForgedRecord,
    MailboxItem,
    MemoryReplicas,
    QuotaExceeded,
    StaleRecord,
    Ticket,
)
from ohtchat.dht.holder import Holdings
from ohtchat.dht.metrics import DhtMetrics
from ohtchat.dht.record import DELETE_LABEL, mailbox_of_key

NOW = 1_700_000_000
BOB = AccountKey(b"\x0b" * 32)
MALLORY = AccountKey(b"\x0c" * 32)
MBOX = mailbox_of_key(BOB.public)
#: A small mailbox: 8 items, 4 of them open to unticketed deposits, 2 per key, 3 per ticket.
SMALL = DhtConfig(mailbox_max_items=8, mailbox_open_items=4, mailbox_key_items=2)
SMALL = dataclasses.replace(SMALL, mailbox_ticket_items=3)


def holdings(config: DhtConfig = SMALL, replicas: MemoryReplicas | None = None) -> Holdings:
    return Holdings(replicas or MemoryReplicas(), config, DhtMetrics())


def key(n: int) -> SigningKey:
    return SigningKey(bytes([n]) * 32)


def ticketed(n: int) -> Deposit:
    """A contact's deposit: ticket key ``n`` with Bob's ticket for it."""
    k = key(n)
    return Deposit(k, Ticket.issue(BOB, k.public))


def item(deposit: Deposit, text: str, expires: int = NOW + 3600) -> MailboxItem:
    return MailboxItem.create(deposit, MBOX, text.encode(), expires)


def held(h: Holdings) -> set[bytes]:
    return {it.data for it in h.items.get(MBOX, {}).values()}


def test_each_unticketed_key_has_a_share_and_gets_the_true_error() -> None:
    h = holdings()
    a = Deposit(key(1))
    assert h.accept_item(item(a, "a1"), NOW) and h.accept_item(item(a, "a2"), NOW)
    with pytest.raises(QuotaExceeded, match="share"):
        h.accept_item(item(a, "a3"), NOW)
    assert h.metrics.refused["quota"] == 1


def test_a_full_pool_evicts_the_oldest_item_of_the_heaviest_signer() -> None:
    h = holdings()
    a, b, c, d = (Deposit(key(n)) for n in (1, 2, 3, 4))
    h.accept_item(item(a, "a-old", NOW + 100), NOW)
    h.accept_item(item(a, "a-new", NOW + 200), NOW)
    h.accept_item(item(b, "b1"), NOW)
    h.accept_item(item(c, "c1"), NOW)  # the open pool (4 items) is full
    assert h.accept_item(item(d, "d1"), NOW)
    assert held(h) == {b"a-new", b"b1", b"c1", b"d1"} and h.metrics.mailbox_evicted == 1
    # Now everyone holds one item: nobody holds more than a depositor that has one already.
    with pytest.raises(QuotaExceeded, match="full"):
        h.accept_item(item(b, "b2"), NOW)
    # A fresh key still gets in (it holds nothing), at the cost of the oldest of the rest.
    assert h.accept_item(item(Deposit(key(5)), "e1", NOW + 300), NOW)
    assert len(held(h)) == 4


def test_fresh_identities_cannot_push_out_contacts_items() -> None:
    h = holdings()
    alice = ticketed(7)
    assert h.accept_item(item(alice, "from alice 1"), NOW)
    assert h.accept_item(item(alice, "from alice 2"), NOW)
    for n in range(100):  # a flood from 100 fresh keys
        h.accept_item(item(Deposit(SigningKey()), f"junk {n}"), NOW)
    assert {b"from alice 1", b"from alice 2"} <= held(h)
    assert len(held(h)) == 2 + SMALL.mailbox_open_items
    assert h.accept_item(item(alice, "from alice 3"), NOW)  # and there is room for more


def test_each_ticket_has_a_share_and_the_heaviest_contact_makes_room() -> None:
    h = holdings()
    carol, dave = ticketed(8), ticketed(9)
    for n in range(3):
        h.accept_item(item(carol, f"carol {n}", NOW + 100 + n), NOW)
    with pytest.raises(QuotaExceeded, match="share"):
        h.accept_item(item(carol, "carol 3"), NOW)
    h.accept_item(item(dave, "dave 0"), NOW)  # the ticketed pool (4) is full
    assert h.accept_item(item(ticketed(10), "erin 0"), NOW)
    assert b"carol 0" not in held(h) and b"dave 0" in held(h)
    assert h.accept_item(item(ticketed(10), "erin 1"), NOW)  # carol still holds the most
    assert b"carol 1" not in held(h) and b"carol 2" in held(h)
    # Now erin holds the most: nobody is cut below her to make room for her third item.
    with pytest.raises(QuotaExceeded, match="full"):
        h.accept_item(item(ticketed(10), "erin 2"), NOW)
    assert held(h) == {b"carol 2", b"dave 0", b"erin 0", b"erin 1"}


def test_an_evicted_item_pushed_back_by_a_replica_is_refused_and_evictions_persist() -> None:
    reps = MemoryReplicas()
    h = holdings(replicas=reps)
    a = Deposit(key(1))
    first = item(a, "a1", NOW + 100)
    h.accept_item(first, NOW)
    h.accept_item(item(a, "a2", NOW + 200), NOW)
    h.accept_item(item(Deposit(key(2)), "b1"), NOW)
    h.accept_item(item(Deposit(key(3)), "c1"), NOW)
    h.accept_item(item(Deposit(key(4)), "d1"), NOW)  # evicts a1
    with pytest.raises(QuotaExceeded):  # re-replication would only evict a's own item
        h.accept_item(first, NOW)
    again = holdings(replicas=reps)
    assert held(again) == held(h) and again.total_bytes == h.total_bytes


def test_forged_deposits_and_tickets_are_refused_with_a_clear_error() -> None:
    h = holdings()
    good = item(ticketed(7), "hello")
    bad_sig = dataclasses.replace(good, signature=bytes(64))
    other_expiry = dataclasses.replace(good, expires=good.expires + 1)
    k = key(11)
    # Mallory vouches for her own key in Bob's mailbox; and Bob's ticket for another key.
    not_owner = item(Deposit(k, Ticket(BOB.public, Ticket.issue(MALLORY, k.public).signature)), "x")
    other_mbox = item(Deposit(k, Ticket.issue(MALLORY, k.public)), "y")
    stolen = item(Deposit(k, ticketed(7).ticket), "z")
    cases = [
        (bad_sig, "deposit signature does not verify"),
        (other_expiry, "deposit signature does not verify"),
        (not_owner, "not signed by the mailbox owner"),
        (other_mbox, "for another mailbox"),
        (stolen, "not signed by the mailbox owner"),
    ]
    for forged, why in cases:
        with pytest.raises(ForgedRecord, match=why):
            h.accept_item(forged, NOW)
    # Stripping the ticket off a ticketed deposit breaks its signature (the flag is signed).
    with pytest.raises(ForgedRecord):
        h.accept_item(dataclasses.replace(good, ticket=None), NOW)
    assert h.metrics.refused["forged"] == len(cases) + 1 and not h.items
    assert h.accept_item(good, NOW)


def test_the_envelope_codec() -> None:
    it = item(ticketed(7), "hello")
    assert MailboxItem.from_wire(it.to_wire()) == it
    plain = item(Deposit(key(1)), "hi")
    assert "t" not in plain.to_wire() and MailboxItem.from_wire(plain.to_wire()) == plain
    with pytest.raises(BadRecord, match="field 't'"):
        MailboxItem.from_wire({**plain.to_wire(), "t": 5})
    with pytest.raises(BadRecord, match="field 's'"):
        MailboxItem.from_wire({k: v for k, v in plain.to_wire().items() if k != "s"})


def test_the_owner_revokes_a_deposit_key_with_a_deletion_marker_naming_it() -> None:
    h = holdings()
    carol, dave = ticketed(8), ticketed(9)
    h.accept_item(item(carol, "carol 0"), NOW)
    h.accept_item(item(carol, "carol 1"), NOW)
    h.accept_item(item(dave, "dave 0"), NOW)
    revoke = DeleteMarker.create(BOB, carol.key.public, NOW + 100)
    assert h.accept_marker(revoke, NOW)
    assert held(h) == {b"dave 0"}  # carol's items are gone, and her deposits refused
    with pytest.raises(StaleRecord, match="revoked"):
        h.accept_item(item(carol, "carol 2"), NOW)
    # Someone else cannot revoke (only the owner signs markers); a renewal lasts longer.
    with pytest.raises(ForgedRecord):
        signed = MALLORY.sign(DELETE_LABEL + MBOX + dave.key.public)
        h.accept_marker(DeleteMarker(MBOX, dave.key.public, MALLORY.public, signed, NOW + 100), NOW)
    assert not h.accept_marker(revoke, NOW)
    assert h.accept_marker(DeleteMarker.create(BOB, carol.key.public, NOW + 500), NOW)
    assert h.markers[MBOX][carol.key.public].expires == NOW + 500
    with pytest.raises(StaleRecord):
        h.accept_item(item(carol, "carol 3"), NOW + 200)
