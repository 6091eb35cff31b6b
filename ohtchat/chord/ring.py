"""Arithmetic on the 2^256 identifier circle: clockwise distance and interval tests."""

from __future__ import annotations

from ohtchat.crypto.ids import ID_BITS, ID_SPACE

__all__ = ["ID_BITS", "ID_SPACE", "dist", "finger_target", "in_half_open", "in_open"]

_MASK = ID_SPACE - 1


def dist(a: int, b: int) -> int:
    """Clockwise distance from ``a`` to ``b`` (0 when equal)."""
    return (b - a) & _MASK


def in_open(x: int, a: int, b: int) -> bool:
    """``x`` in the open arc (a, b); when ``a == b`` the arc is the whole circle but ``a``."""
    if a == b:
        return x != a
    return 0 < dist(a, x) < dist(a, b)


def in_half_open(x: int, a: int, b: int) -> bool:
    """``x`` in the arc (a, b]; when ``a == b`` the arc is the whole circle."""
    if a == b:
        return True
    return 0 < dist(a, x) <= dist(a, b)


def finger_target(ident: int, i: int) -> int:
    """The start of finger ``i``: ``ident + 2**i`` on the circle."""
    if not 0 <= i < ID_BITS:
        raise ValueError(f"finger index must be in [0, {ID_BITS}), got {i}")
    return (ident + (1 << i)) & _MASK
