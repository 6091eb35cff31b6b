"""Safety numbers: one 60-digit number per pair of accounts (docs/protocol.md §15.9).

Both sides compute the same number from the two account public keys, whatever the order; if
they match (read aloud, or compared on two screens), no one sits between the two accounts::

    d_0 = SHA-512("ohtchat safety number v1\\0" ‖ A);  d_i = SHA-512(d_{i-1} ‖ A), i = 1..5200
    digits(A) = for j in 0..5: u40(d_5200[5j : 5j+5]) mod 100000, as 5 decimal digits  (30)
    safety(A, B) = min(digits(A), digits(B)) ‖ max(digits(A), digits(B))          (60 digits)

shown as 12 groups of 5 digits. The iterations (Signal's count) make it costly to grind a key
whose digits collide with someone else's.
"""

from __future__ import annotations

import hashlib
import hmac

LABEL = b"ohtchat safety number v1\x00"
ITERATIONS = 5200
DIGITS = 60


def account_digits(account_public: bytes) -> str:
    """The 30 digits one account contributes."""
    if len(account_public) != 32:
        raise ValueError("account public key must be 32 bytes")
    d = hashlib.sha512(LABEL + account_public).digest()
    for _ in range(ITERATIONS):
        d = hashlib.sha512(d + account_public).digest()
    return "".join(f"{int.from_bytes(d[5 * j : 5 * j + 5], 'big') % 100000:05d}" for j in range(6))


def safety_number(account_a: bytes, account_b: bytes) -> str:
    """The pair's safety number as 12 space-separated groups of 5 digits (order-independent)."""
    first, second = sorted((account_digits(account_a), account_digits(account_b)))
    digits = first + second
    return " ".join(digits[i : i + 5] for i in range(0, DIGITS, 5))


def safety_numbers_match(mine: str, theirs: str) -> bool:
    """True when two renderings are the same 60 digits (spaces and line breaks ignored)."""
    a = "".join(mine.split())
    b = "".join(theirs.split())
    if len(a) != DIGITS or len(b) != DIGITS or not (a.isascii() and a.isdigit()):
        return False
    return hmac.compare_digest(a.encode(), b.encode())
