"""Catalog maintenance: extract strings, merge them into every language, check completeness.

One command keeps everything in step after code changes::

    python -m ohtchat.i18n update    # re-extract locales/ohtchat.pot, merge into each .po
    python -m ohtchat.i18n check     # CI: template current, every catalog complete (exit 1 if not)
    python -m ohtchat.i18n init fr   # start a new language
    python -m ohtchat.i18n compile   # optional: write .mo files (runtime compiles .po itself)
"""

from __future__ import annotations

import gettext
import io
import string
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from babel import Locale
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from ohtchat import __version__
from ohtchat.i18n import DOMAIN

PROJECT = "ohtchat"
COMMENT_TAG = "TRANSLATORS:"
_WIDTH = 100
# Header lines that change on every run; ignored when deciding whether a file changed.
_VOLATILE = ("POT-Creation-Date:", "PO-Revision-Date:")

MsgId = str | tuple[str, ...]


def project_root() -> Path:
    """The source tree root: the directory holding ``ohtchat/`` and ``locales/``."""
    return Path(__file__).resolve().parent.parent.parent


def template_path(root: Path) -> Path:
    """``locales/ohtchat.pot``."""
    return root / "locales" / f"{DOMAIN}.pot"


def catalog_path(root: Path, language: str) -> Path:
    """``locales/<language>/LC_MESSAGES/ohtchat.po``."""
    return root / "locales" / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def languages(root: Path) -> list[str]:
    """Every language that has a ``.po`` catalog, sorted."""
    base = root / "locales"
    if not base.is_dir():
        return []
    return sorted(p.name for p in base.iterdir() if catalog_path(root, p.name).is_file())


def extract(root: Path) -> Catalog:
    """Extract every translatable string of ``ohtchat/`` per ``locales/babel.cfg``."""
    with (root / "locales" / "babel.cfg").open(encoding="utf-8") as fp:
        method_map, options_map = parse_mapping_cfg(fp)  # type: ignore[no-untyped-call]
    package = root / "ohtchat"

    def only_package(dirpath: str) -> bool:
        # Walk the package only: never .venv, build output or the tests.
        path = Path(dirpath).resolve()
        return path == root.resolve() or path.is_relative_to(package.resolve())

    catalog = _new_catalog(None)
    results = extract_from_dir(
        root,
        method_map,
        options_map,
        keywords=DEFAULT_KEYWORDS,
        comment_tags=(COMMENT_TAG,),
        strip_comment_tags=True,
        directory_filter=only_package,
    )
    for filename, lineno, message, comments, context in results:
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def _new_catalog(language: str | None) -> Catalog:
    return Catalog(
        locale=language,
        domain=DOMAIN,
        project=PROJECT,
        version=__version__,
        copyright_holder="ohtchat contributors",
        header_comment=(
            f"# {'Translations template' if language is None else language + ' translations'}"
            f" for {PROJECT}.\n"
            f"# This file is distributed under the same license as the {PROJECT} project.\n#"
        ),
        charset="utf-8",
        fuzzy=False,
        msgid_bugs_address="",
        last_translator="ohtchat contributors",
        language_team="" if language is None else f"{language} <ohtchat contributors>",
    )


def _render(catalog: Catalog) -> str:
    buf = io.BytesIO()
    write_po(
        buf,
        catalog,
        width=_WIDTH,
        sort_by_file=True,
        include_lineno=False,
        ignore_obsolete=True,
    )
    return buf.getvalue().decode("utf-8")


def _stable(text: str) -> str:
    return "\n".join(
        line for line in text.splitlines() if not line.strip('"').startswith(_VOLATILE)
    )


def _write_if_changed(path: Path, text: str) -> bool:
    """Write ``text`` unless only the volatile date headers would change; True if written."""
    if path.is_file() and _stable(path.read_text(encoding="utf-8")) == _stable(text):
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True


def _read(path: Path, language: str | None) -> Catalog:
    with path.open("rb") as fp:
        return read_po(fp, locale=language, domain=DOMAIN)


def message_ids(catalog: Catalog) -> set[MsgId]:
    """The msgids of a catalog (plural messages as ``(singular, plural)``), header excluded."""
    ids: set[MsgId] = set()
    for message in catalog:
        if message.id:
            ids.add(tuple(message.id) if isinstance(message.id, list | tuple) else message.id)
    return ids


@dataclass(frozen=True)
class Stats:
    """Translation state of one catalog."""

    language: str
    total: int
    untranslated: int
    fuzzy: int


def update(root: Path, add: Iterable[str] = ()) -> list[Stats]:
    """Re-extract the template and merge it into every catalog (and new ones in ``add``)."""
    template = extract(root)
    _write_if_changed(template_path(root), _render(template))
    langs = sorted(set(languages(root)) | set(add))
    stats = []
    for language in langs:
        path = catalog_path(root, language)
        catalog = _read(path, language) if path.is_file() else _new_catalog(language)
        catalog.update(template, update_creation_date=False)
        _write_if_changed(path, _render(catalog))
        stats.append(_stats(language, catalog))
    return stats


def _stats(language: str, catalog: Catalog) -> Stats:
    messages = [m for m in catalog if m.id]
    return Stats(
        language,
        len(messages),
        sum(1 for m in messages if not _translated(m)),
        sum(1 for m in messages if m.fuzzy),
    )


def _translated(message: Message) -> bool:
    if isinstance(message.string, list | tuple):
        return all(message.string)
    return bool(message.string)


def _fields(text: str) -> set[str]:
    """The ``str.format`` field names used in ``text`` (``{n}``, ``{name}``)."""
    try:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError:
        return {"<malformed>"}


def _placeholder_problems(message: Message) -> list[str]:
    if isinstance(message.id, list | tuple):
        allowed = set().union(*(_fields(i) for i in message.id))
        forms = message.string if isinstance(message.string, list | tuple) else [message.string]
        # A plural form may drop the count ("one message") but must not invent fields.
        return [f"unknown placeholder in {f!r}" for f in forms if f and not _fields(f) <= allowed]
    if (
        isinstance(message.string, str)
        and message.string
        and _fields(message.string) != _fields(message.id)
    ):
        return [f"placeholders differ: {message.string!r}"]
    return []


def check(root: Path, required: Iterable[str] = ("de", "es", "ru")) -> list[str]:
    """Every problem that makes the catalogs stale or incomplete; empty when all is well."""
    problems: list[str] = []
    current = message_ids(extract(root))
    tpath = template_path(root)
    if not tpath.is_file():
        problems.append(f"{tpath.name} missing: run `python -m ohtchat.i18n update`")
    elif message_ids(_read(tpath, None)) != current:
        problems.append(f"{tpath.name} is stale: run `python -m ohtchat.i18n update`")
    for language in sorted(set(languages(root)) | set(required)):
        problems.extend(_check_catalog(root, language, current))
    return problems


def _check_catalog(root: Path, language: str, current: set[MsgId]) -> list[str]:
    path = catalog_path(root, language)
    if not path.is_file():
        return [f"{language}: catalog missing"]
    catalog = _read(path, language)
    problems = []
    ids = message_ids(catalog)
    for missing in sorted(map(str, current - ids))[:5]:
        problems.append(f"{language}: not merged: {missing[:60]!r}")
    for extra in sorted(map(str, ids - current))[:5]:
        problems.append(f"{language}: obsolete: {extra[:60]!r}")
    expected = Locale.parse(language)
    want = Catalog(locale=expected).num_plurals
    if catalog.num_plurals != want:
        problems.append(f"{language}: {catalog.num_plurals} plural forms, expected {want}")
    else:
        problems.extend(_plural_rule_problems(language, catalog, expected))
    for message in catalog:
        if not message.id:
            continue
        label = f"{language}: {str(message.id)[:60]!r}"
        if message.fuzzy:
            problems.append(f"{label} is fuzzy")
        elif not _translated(message):
            problems.append(f"{label} is untranslated")
        elif isinstance(message.id, list | tuple) and _form_count(message) != want:
            problems.append(f"{label} has {_form_count(message)} plural forms, expected {want}")
        problems.extend(f"{label}: {p}" for p in _placeholder_problems(message))
        problems.extend(f"{label}: {err}" for err in message.check(catalog))
    return problems


# Counts that tell every CLDR plural rule apart: the small numbers, the teens and hundreds
# (ru), and the millions that Spanish, French and Italian treat as "many".
_PLURAL_PROBES = (*range(0, 300), *range(1000, 1030), *(k * 1_000_000 for k in range(1, 4)))


def _plural_rule_problems(language: str, catalog: Catalog, expected: Locale) -> list[str]:
    """The catalog's Plural-Forms must pick the same form as the installed Babel's CLDR rule.

    Compared by value, not by text: equivalent C expressions are written in several ways.
    """
    want_expr = Catalog(locale=expected).plural_expr
    try:
        have = gettext.c2py(catalog.plural_expr)
    except ValueError as err:
        return [f"{language}: Plural-Forms {catalog.plural_expr!r} does not parse: {err}"]
    want = gettext.c2py(want_expr)
    for n in _PLURAL_PROBES:
        if have(n) != want(n):
            return [
                f"{language}: Plural-Forms picks form {have(n)} for n={n}, Babel's CLDR data"
                f" picks {want(n)}: use plural={want_expr}"
            ]
    return []


def _form_count(message: Message) -> int:
    return len(message.string) if isinstance(message.string, list | tuple) else 1


def compile_catalogs(root: Path, out: Path | None = None) -> list[Path]:
    """Write ``.mo`` files (next to each ``.po``, or under ``out``); returns their paths."""
    written = []
    for language in languages(root):
        catalog = _read(catalog_path(root, language), language)
        target = (
            catalog_path(root, language).with_suffix(".mo")
            if out is None
            else out / language / "LC_MESSAGES" / f"{DOMAIN}.mo"
        )
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("wb") as fp:
            write_mo(fp, catalog, use_fuzzy=False)
        written.append(target)
    return written
