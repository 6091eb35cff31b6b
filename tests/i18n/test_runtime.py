"""Language selection, translated help, Russian plurals and Babel formatting."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ohtchat.commands import UsageError, help_text, parse
from ohtchat.i18n import (
    UnknownLanguage,
    _,
    available_languages,
    current_language,
    current_locale,
    format_date,
    format_datetime,
    format_number,
    format_time,
    format_timedelta,
    ngettext,
    resolve_language,
    set_language,
    using_language,
)

ARGS = ("/{name} takes at most {n} argument.", "/{name} takes at most {n} arguments.")


def test_available_languages() -> None:
    assert {"en", "de", "es", "ru"} <= set(available_languages())


@pytest.mark.parametrize(
    ("requested", "environ", "expected"),
    [
        ("de", {"LANG": "ru_RU.UTF-8"}, ("de", "de")),
        (None, {"LANG": "es_MX.UTF-8"}, ("es", "es_MX")),
        (None, {"LANGUAGE": "fr:ru", "LANG": "de_DE.UTF-8"}, ("ru", "ru")),
        (None, {"LC_ALL": "de_AT.UTF-8@euro", "LANG": "ru_RU"}, ("de", "de_AT")),
        (None, {"LC_MESSAGES": "ru_RU.KOI8-R", "LANG": "de_DE"}, ("ru", "ru_RU")),
        (None, {"LANG": "C.UTF-8"}, ("en", "en")),
        (None, {}, ("en", "en")),
        ("xx", {}, ("en", "en")),
        ("de-CH", {}, ("de", "de_CH")),
    ],
)
def test_resolve_language(requested, environ, expected) -> None:
    assert resolve_language(requested, environ) == expected


def test_strict_language_choice() -> None:
    with pytest.raises(UnknownLanguage) as info:
        set_language("fr", strict=True)
    assert "de" in info.value.available
    assert current_language() == "en"
    assert set_language("en_US", strict=True) == "en"
    assert set_language(None, environ={"LANG": "de_DE.UTF-8"}) == "de"
    assert str(current_locale()) == "de_DE"


def test_german_help_and_errors() -> None:
    set_language("de")
    text = help_text()
    assert text.startswith("Befehle:")
    assert "/whisper ID NACHRICHT" in text
    assert "Einem Kontakt eine private Nachricht senden" in text
    with pytest.raises(UsageError) as info:
        parse("/whisper alice")
    assert str(info.value) == "NACHRICHT fehlt.\nAufruf: /whisper ID NACHRICHT"


def test_spanish_unknown_command() -> None:
    with using_language("es"), pytest.raises(UsageError) as info:
        parse("/whipser a b")
    assert "Comando desconocido /whipser. ¿Quisiste decir /whisper?" in str(info.value)
    assert current_language() == "en"


@pytest.mark.parametrize(
    ("n", "word"),
    [(1, "аргумент."), (2, "аргумента."), (4, "аргумента."), (5, "аргументов."),
     (11, "аргументов."), (21, "аргумент."), (22, "аргумента."), (25, "аргументов.")],
)  # fmt: skip
def test_russian_has_three_plural_forms(n: int, word: str) -> None:
    with using_language("ru"):
        text = ngettext(*ARGS, n).format(name="tor", n=n)
    assert text == f"/tor принимает максимум {n} {word}"


def test_russian_usage_error_uses_the_plural() -> None:
    with using_language("ru"), pytest.raises(UsageError) as info:
        parse("/history a 1 2")
    assert "/history принимает максимум 2 аргумента." in info.value.reason


def test_english_plural_and_empty_message() -> None:
    assert ngettext(*ARGS, 1).format(name="x", n=1).endswith("1 argument.")
    assert _("") == ""
    with using_language("de"):
        assert _("") == ""
        assert _("not in any catalog") == "not in any catalog"


def test_babel_formatting_follows_the_locale() -> None:
    moment = datetime(2024, 3, 5, 14, 7, 9, tzinfo=UTC)
    assert format_number(1234567.5) == "1,234,567.5"
    with using_language("de"):
        assert format_number(1234567.5) == "1.234.567,5"
        assert format_datetime(moment, tzinfo=UTC) == "05.03.2024, 14:07:09"
        assert format_date(moment.date()) == "05.03.2024"
        assert format_timedelta(timedelta(minutes=3), add_direction=True) == "in 3 Minuten"
    with using_language("ru"):
        assert format_number(1234567.5) == "1\xa0234\xa0567,5"
        assert format_time(moment, tzinfo=UTC) == "14:07"
        assert format_timedelta(timedelta(hours=-5), add_direction=True) == "5 часов назад"
    with using_language("es"):
        assert format_datetime(moment.timestamp(), "short", tzinfo=UTC) == "5/3/24, 14:07"


def test_broken_catalog_falls_back_to_english(tmp_path: Path, monkeypatch) -> None:
    broken = tmp_path / "de" / "LC_MESSAGES"
    broken.mkdir(parents=True)
    (broken / "ohtchat.po").write_bytes(b'msgid "x\nmsgstr \xff garbage')
    monkeypatch.setenv("OHTCHAT_LOCALE_DIR", str(tmp_path))
    assert set_language("de") == "de"
    assert _("Commands:") == "Commands:"
