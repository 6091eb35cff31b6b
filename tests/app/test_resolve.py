"""The one reference rule: ringcast, exact id, name, unique hex prefix; ambiguity named."""

from __future__ import annotations

import pytest

from ohtchat.app.resolve import (
    MIN_PREFIX,
    AccountRef,
    Ambiguous,
    ChannelRef,
    Directory,
    Entry,
    RingcastRef,
    Scope,
    resolve,
)
from ohtchat.commands.errors import NotFound

ME = "a1" * 32  # a local account
BOB = "b0b0" + "1" * 60  # a contact
BOBBY = "b0b0" + "2" * 60  # another contact sharing bob's first 4 digits
CLUB = "c1ab" + "3" * 28  # a channel (32 hex digits)
CAFE = "cafe" + "4" * 60  # a contact named like a hex word
STRANGER = "5" * 64  # neither local nor a contact

DIR = Directory(
    (
        Entry(Scope.LOCAL, ME, "me"),
        Entry(Scope.REMOTE, ME, "me"),  # our own account is also a contact: one target
        Entry(Scope.REMOTE, BOB, "bob"),
        Entry(Scope.REMOTE, BOBBY, "Bobby"),
        Entry(Scope.REMOTE, CAFE, "dead"),
        Entry(Scope.CHANNEL, CLUB, "club"),
    )
)


def test_ringcast_in_any_case_where_the_scope_admits_it() -> None:
    assert resolve("ringcast", DIR) == RingcastRef()
    assert resolve(" RingCast ", DIR).conversation == "ringcast"
    with pytest.raises(NotFound):
        resolve("ringcast", DIR, Scope.ACCOUNT)


def test_exact_ids_in_any_case_with_or_without_0x() -> None:
    assert resolve(ME, DIR) == AccountRef(ME)
    assert resolve(BOB.upper(), DIR, Scope.REMOTE) == AccountRef(BOB)
    assert resolve("0x" + CLUB, DIR) == ChannelRef(CLUB)
    assert resolve(CLUB, DIR).conversation == CLUB


def test_a_full_account_id_names_any_account_but_not_a_local_one_that_is_not_here() -> None:
    assert resolve(STRANGER, DIR, Scope.ACCOUNT) == AccountRef(STRANGER)
    with pytest.raises(NotFound, match="no single local account matches"):
        resolve(STRANGER, DIR, Scope.LOCAL)
    with pytest.raises(NotFound, match="no channel"):
        resolve(STRANGER, DIR, Scope.CHANNEL)


def test_names_exact_first_then_ignoring_case() -> None:
    assert resolve("me", DIR, Scope.LOCAL) == AccountRef(ME)
    assert resolve("bob", DIR) == AccountRef(BOB)
    assert resolve("BOB", DIR) == AccountRef(BOB)  # no exact match: case is ignored
    assert resolve("bobby", DIR) == AccountRef(BOBBY)
    assert resolve("club", DIR) == ChannelRef(CLUB)


def test_a_name_wins_over_a_hex_prefix() -> None:
    assert resolve("dead", DIR) == AccountRef(CAFE)  # the contact named "dead"
    assert resolve("cafe", DIR) == AccountRef(CAFE)  # the prefix of the same contact's id


def test_unique_prefixes_of_at_least_min_prefix_digits() -> None:
    assert MIN_PREFIX == 4
    assert resolve("c1ab", DIR) == ChannelRef(CLUB)
    assert resolve("0xB0B01", DIR) == AccountRef(BOB)
    with pytest.raises(NotFound):
        resolve("c1a", DIR)  # too short to stand for an id
    with pytest.raises(NotFound):
        resolve("c1ab", DIR, Scope.ACCOUNT)  # a channel's prefix, but only accounts count


def test_ambiguity_names_every_candidate() -> None:
    with pytest.raises(Ambiguous) as caught:
        resolve("b0b0", DIR)
    exc = caught.value
    assert exc.code == "ambiguous"
    assert "bob" in exc.message and "Bobby" in exc.message
    assert {c["id"] for c in exc.data["candidates"]} == {BOB, BOBBY}
    both = Directory((*DIR.entries, Entry(Scope.CHANNEL, "f" * 32, "bob")))
    with pytest.raises(Ambiguous):
        resolve("bob", both)  # a contact and a channel called bob
    assert resolve("bob", both, Scope.CHANNEL) == ChannelRef("f" * 32)
    assert resolve("bob", both, Scope.ACCOUNT) == AccountRef(BOB)


def test_unknown_references_say_what_was_looked_for() -> None:
    with pytest.raises(NotFound, match="no single contact matches 'nobody'"):
        resolve("nobody", DIR, Scope.ACCOUNT)
    with pytest.raises(NotFound, match="no single contact matches"):
        resolve("nobody", DIR, Scope.REMOTE)
    with pytest.raises(NotFound, match="no channel 'nobody'"):
        resolve("nobody", DIR, Scope.CHANNEL)
    with pytest.raises(NotFound, match="no contact or channel matches 'nobody'") as caught:
        resolve("nobody", DIR)
    assert caught.value.data == {"ref": "nobody"}
