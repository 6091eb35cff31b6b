"""Every string the client shows is translated in the German, Spanish and Russian catalogs."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]


def client_strings() -> set[str | tuple[str, str]]:
    found: set[str | tuple[str, str]] = set()
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
    for _file, _line, message, _comments, _ctx in extract_from_dir(
        ROOT / "ohtchat" / "tui", keywords=keywords, comment_tags=()
    ):
        found.add(message if isinstance(message, str) else tuple(message[:2]))
    return found


@pytest.mark.parametrize("language", ["de", "es", "ru"])
def test_client_strings_are_translated(language: str) -> None:
    with (ROOT / "locales" / language / "LC_MESSAGES" / "ohtchat.po").open("rb") as fp:
        catalog = read_po(fp, locale=language)
    strings = client_strings()
    assert len(strings) > 50
    problems = []
    for msgid in strings:
        key = msgid if isinstance(msgid, str) else msgid[0]
        entry = catalog.get(key)
        if entry is None:
            problems.append(f"{msgid!r}: not in the catalog (run python -m ohtchat.i18n update)")
            continue
        values = [entry.string] if isinstance(entry.string, str) else list(entry.string)
        if entry.fuzzy or not all(values):
            problems.append(f"{msgid!r}: untranslated or fuzzy")
    assert problems == []
