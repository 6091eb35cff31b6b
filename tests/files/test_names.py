"""Safe names for received files: properties over arbitrary names, and the hostile classics."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ohtchat.files.names import MAX_SAFE_BYTES, candidates, publish, sanitize_name


@given(st.text(max_size=600))
def test_any_name_becomes_one_safe_component(name: str) -> None:
    safe = sanitize_name(name)
    assert safe and safe not in (".", "..")
    assert "/" not in safe and "\\" not in safe and "\x00" not in safe
    assert not safe.startswith(".")
    assert not safe.endswith((" ", "."))
    assert len(safe.encode("utf-8")) <= MAX_SAFE_BYTES
    assert all(unicodedata.category(c) not in ("Cc", "Cf", "Zl", "Zp") for c in safe)
    assert sanitize_name(safe) == safe  # idempotent: a safe name stays as it is


@given(st.text(min_size=1, max_size=300))
def test_candidates_are_distinct_and_bounded(name: str) -> None:
    safe = sanitize_name(name)
    got = [c for _, c in zip(range(5), candidates(safe), strict=False)]
    assert got[0] == safe
    assert len(set(got)) == 5
    assert all(len(c.encode("utf-8")) <= MAX_SAFE_BYTES + 8 for c in got)


@pytest.mark.parametrize(
    ("offered", "safe"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\system32\\evil.dll", "evil.dll"),
        ("/absolute/path/x.txt", "x.txt"),
        ("..", "file"),
        ("", "file"),
        (".bashrc", "bashrc"),
        ("invoice\u202egnp.exe", "invoicegnp.exe"),  # right-to-left override dropped
        ("a\nb\tc\x00d.txt", "abcd.txt"),
        ("CON.txt", "_CON.txt"),
        ('what?<is>"this".txt', "what__is__this_.txt"),
    ],
)
def test_hostile_names(offered: str, safe: str) -> None:
    assert sanitize_name(offered) == safe


def test_publish_never_overwrites(tmp_path: Path) -> None:
    (tmp_path / "cat.jpg").write_bytes(b"mine")
    (tmp_path / "cat (1).jpg").write_bytes(b"mine too")
    part = tmp_path / ".x.part"
    part.write_bytes(b"theirs")
    final = publish(part, tmp_path, "cat.jpg")
    assert final.name == "cat (2).jpg" and final.read_bytes() == b"theirs"
    assert (tmp_path / "cat.jpg").read_bytes() == b"mine"
    assert not part.exists()
