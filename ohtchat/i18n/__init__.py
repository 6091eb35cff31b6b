"""Localization: gettext bound to the active language, Babel formatting of dates and numbers."""

from __future__ import annotations

import gettext as _gettext
import io
import logging
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from babel import Locale

__all__ = [
    "DEFAULT_LANGUAGE",
    "DOMAIN",
    "N_",
    "UnknownLanguage",
    "_",
    "available_languages",
    "current_language",
    "current_locale",
    "format_date",
    "format_datetime",
    "format_decimal",
    "format_number",
    "format_size",
    "format_time",
    "format_timedelta",
    "gettext",
    "locale_dir",
    "ngettext",
    "resolve_language",
    "set_language",
    "using_language",
]

DOMAIN = "ohtchat"
"""The gettext domain: catalogs are ``<locale_dir>/<lang>/LC_MESSAGES/ohtchat.po``."""

DEFAULT_LANGUAGE = "en"
"""The source language of every string; the fallback when nothing else matches."""

LOCALE_DIR_ENV = "OHTCHAT_LOCALE_DIR"
"""Environment variable overriding where the catalogs are looked up."""

_log = logging.getLogger(__name__)

# "de_DE.UTF-8@euro" -> language "de", territory "DE"; the codeset and modifier never matter.
_LOCALE_RE = re.compile(r"^([A-Za-z]{2,3})(?:[_-]([A-Za-z]{2}|[0-9]{3}))?(?:\.[^@]*)?(?:@.*)?$")

_FormatWidth = Literal["full", "long", "medium", "short"]


class UnknownLanguage(ValueError):
    """``set_language(..., strict=True)`` was asked for a language without a catalog."""

    def __init__(self, language: str, available: list[str]) -> None:
        super().__init__(
            f"no translation for language {language!r}; available: {', '.join(available)}"
        )
        self.language = language
        self.available = available


@dataclass(frozen=True)
class _Active:
    """The active language: its catalog and the Babel locale used for formatting."""

    language: str
    locale_name: str
    translations: _gettext.NullTranslations


_active = _Active(DEFAULT_LANGUAGE, DEFAULT_LANGUAGE, _gettext.NullTranslations())
_cache: dict[tuple[Path, str], _gettext.NullTranslations] = {}


def locale_dir() -> Path:
    """The directory holding ``<lang>/LC_MESSAGES/ohtchat.po`` (``$OHTCHAT_LOCALE_DIR`` wins)."""
    override = os.environ.get(LOCALE_DIR_ENV)
    if override:
        return Path(override)
    # The catalogs live at the top of the source tree, next to the ``ohtchat`` package.
    return Path(__file__).resolve().parent.parent.parent / "locales"


def available_languages() -> list[str]:
    """Every language with a catalog, plus English (the source language), sorted."""
    found = {DEFAULT_LANGUAGE}
    base = locale_dir()
    if base.is_dir():
        for child in base.iterdir():
            messages = child / "LC_MESSAGES"
            if (messages / f"{DOMAIN}.po").is_file() or (messages / f"{DOMAIN}.mo").is_file():
                found.add(child.name)
    return sorted(found)


def _split_locale(name: str) -> tuple[str, str | None] | None:
    """``"de_AT.UTF-8"`` -> ``("de", "AT")``; None for "C", "POSIX" or garbage."""
    m = _LOCALE_RE.match(name.strip())
    if m is None:
        return None
    return m.group(1).lower(), (m.group(2).upper() if m.group(2) else None)


def _environment_candidates(environ: Mapping[str, str]) -> list[str]:
    """Locale names from the environment, in the order gettext consults them."""
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(var, "")
        if value:
            # LANGUAGE is a colon-separated preference list; the others hold one locale.
            return [v for v in value.split(":") if v] if var == "LANGUAGE" else [value]
    return []


def resolve_language(
    requested: str | None = None, environ: Mapping[str, str] | None = None
) -> tuple[str, str]:
    """Pick ``(catalog language, formatting locale)`` for ``requested`` or the environment.

    ``requested`` (from ``--lang``) wins over the environment. ``de_AT.UTF-8`` selects the
    German catalog and Austrian formatting. Anything unusable falls back to English.
    """
    env = os.environ if environ is None else environ
    candidates = [requested] if requested else _environment_candidates(env)
    available = available_languages()
    for candidate in candidates:
        parts = _split_locale(candidate)
        if parts is None:
            continue
        language, territory = parts
        if language in available:
            return language, f"{language}_{territory}" if territory else language
    return DEFAULT_LANGUAGE, DEFAULT_LANGUAGE


def _compile(po_path: Path, language: str) -> _gettext.NullTranslations:
    """Compile a ``.po`` file in memory (no build step; a fresh ``.mo`` is used if present)."""
    mo_path = po_path.with_suffix(".mo")
    if mo_path.is_file() and (
        not po_path.is_file() or mo_path.stat().st_mtime >= po_path.stat().st_mtime
    ):
        with mo_path.open("rb") as fp:
            return _gettext.GNUTranslations(fp)
    # Imported lazily: only needed the first time a language is activated.
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po_path.open("rb") as fp:
        catalog = read_po(fp, locale=language, domain=DOMAIN)
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    return _gettext.GNUTranslations(buf)


def _translations(language: str) -> _gettext.NullTranslations:
    """The (cached) catalog of ``language``; a broken catalog degrades to English."""
    if language == DEFAULT_LANGUAGE:
        return _gettext.NullTranslations()
    base = locale_dir()
    key = (base, language)
    if key not in _cache:
        po_path = base / language / "LC_MESSAGES" / f"{DOMAIN}.po"
        try:
            _cache[key] = _compile(po_path, language)
        except Exception as exc:  # a damaged catalog must not take the UI down
            _log.warning("cannot load %s catalog (%s); using English", language, exc)
            _cache[key] = _gettext.NullTranslations()
    return _cache[key]


def set_language(
    language: str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    strict: bool = False,
) -> str:
    """Activate ``language`` (``--lang``) or the environment's locale; return the catalog used.

    With ``strict`` an explicitly requested language without a catalog raises
    :class:`UnknownLanguage` (for a clear ``--lang`` error); otherwise English is used.
    """
    global _active
    chosen, locale_name = resolve_language(language, environ)
    if strict and language and chosen == DEFAULT_LANGUAGE:
        parts = _split_locale(language)
        if parts is None or parts[0] != DEFAULT_LANGUAGE:
            raise UnknownLanguage(language, available_languages())
    _active = _Active(chosen, locale_name, _translations(chosen))
    return chosen


def current_language() -> str:
    """The catalog language now active (``"en"``, ``"de"``, …)."""
    return _active.language


def current_locale() -> Locale:
    """The Babel locale used for formatting (may carry a territory, e.g. ``de_AT``)."""
    from babel import Locale, UnknownLocaleError

    try:
        return Locale.parse(_active.locale_name)
    except (ValueError, UnknownLocaleError):
        return Locale.parse(_active.language)


@contextmanager
def using_language(language: str) -> Iterator[str]:
    """Temporarily activate ``language`` (tests, per-request rendering); restores afterwards."""
    global _active
    saved = _active
    try:
        yield set_language(language)
    finally:
        _active = saved


def gettext(message: str) -> str:
    """``message`` translated into the active language."""
    if not message:
        return message  # gettext("") would return the catalog header
    return _active.translations.gettext(message)


_ = gettext


def ngettext(singular: str, plural: str, n: int) -> str:
    """The plural form of a message for count ``n`` in the active language."""
    return _active.translations.ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it now (translate at use)."""
    return message


_Instant = datetime | float | int


def _aware(value: _Instant, tz: tzinfo | None) -> datetime:
    """A timezone-aware datetime: numbers are POSIX timestamps, naive values are local time."""
    from babel.dates import LOCALTZ

    target = tz or LOCALTZ
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, tz=UTC).astimezone(target)
    if value.tzinfo is None:
        return value.replace(tzinfo=target)
    return value.astimezone(target)


def format_datetime(
    value: _Instant, format: _FormatWidth | str = "medium", tzinfo: tzinfo | None = None
) -> str:
    """A date and time for the active locale, in ``tzinfo`` (default: the local zone)."""
    from babel import dates

    return dates.format_datetime(_aware(value, tzinfo), format, locale=current_locale())


def format_date(value: _Instant | date, format: _FormatWidth | str = "medium") -> str:
    """A date for the active locale."""
    from babel import dates

    day = _aware(value, None).date() if isinstance(value, datetime | int | float) else value
    return dates.format_date(day, format, locale=current_locale())


def format_time(
    value: _Instant | time, format: _FormatWidth | str = "short", tzinfo: tzinfo | None = None
) -> str:
    """A time of day for the active locale (``short`` by default: chat timestamps)."""
    from babel import dates

    if isinstance(value, time):
        return dates.format_time(value, format, locale=current_locale())
    return dates.format_time(_aware(value, tzinfo), format, locale=current_locale())


def format_timedelta(
    delta: timedelta | int, *, add_direction: bool = False, threshold: float = 0.85
) -> str:
    """A duration in words ("3 minutes", "vor 3 Minuten" with ``add_direction``)."""
    from babel import dates

    return dates.format_timedelta(
        delta, threshold=threshold, add_direction=add_direction, locale=current_locale()
    )


def format_decimal(number: float | int, format: str | None = None) -> str:
    """A number with the active locale's separators (``12 345,6`` in Russian)."""
    from babel import numbers

    return numbers.format_decimal(number, format=format, locale=current_locale())


def format_size(n: float) -> str:
    """A byte count for people, in binary units with the locale's decimal mark (``1,5 MiB``)."""
    value, unit = float(n), "B"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            break
        value /= 1024
    return f"{format_decimal(round(value, 1))} {unit}"


def format_number(number: float | int) -> str:
    """A number with the active locale's grouping and decimal separators."""
    return format_decimal(number)
