"""Safety numbers: the same 60 digits on both sides, different for other pairs."""

from __future__ import annotations

from ohtchat.crypto.keys import AccountKey
from ohtchat.ratchet import safety_number, safety_numbers_match
from ohtchat.ratchet.safety import account_digits


def test_both_sides_compute_the_same_number() -> None:
    a, b, c = AccountKey().public, AccountKey().public, AccountKey().public
    n = safety_number(a, b)
    assert n == safety_number(b, a)
    groups = n.split(" ")
    assert len(groups) == 12 and all(len(g) == 5 and g.isdigit() for g in groups)
    assert n.replace(" ", "") in (
        account_digits(a) + account_digits(b),
        account_digits(b) + account_digits(a),
    )
    assert safety_number(a, c) != n and safety_number(c, b) != n


def test_comparison_ignores_spacing_and_refuses_anything_else() -> None:
    a, b = AccountKey().public, AccountKey().public
    n = safety_number(a, b)
    assert safety_numbers_match(n, n.replace(" ", ""))
    assert safety_numbers_match(n, "\n".join(n.split(" ")))
    assert not safety_numbers_match(n, safety_number(a, AccountKey().public))
    assert not safety_numbers_match(n, n[:-1])
    assert not safety_numbers_match("x" * 60, "x" * 60)
    assert not safety_numbers_match("", "")
