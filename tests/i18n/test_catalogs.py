"""The CI check: the template matches the code and de/es/ru are complete (and it can fail)."""

import shutil
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from ohtchat.i18n import tools

ROOT = tools.project_root()


def test_catalogs_are_up_to_date_and_complete() -> None:
    problems = tools.check(ROOT)
    assert problems == [], "run `python -m ohtchat.i18n update` and translate:\n" + "\n".join(
        problems
    )


def test_template_matches_a_fresh_extraction() -> None:
    with tools.template_path(ROOT).open("rb") as fp:
        committed = tools.message_ids(read_po(fp))
    assert committed == tools.message_ids(tools.extract(ROOT))


@pytest.mark.parametrize(("language", "forms"), [("de", 2), ("es", 3), ("ru", 3)])
def test_plural_forms_present(language: str, forms: int) -> None:
    with tools.catalog_path(ROOT, language).open("rb") as fp:
        catalog = read_po(fp, locale=language)
    assert catalog.num_plurals == forms
    plurals = [m for m in catalog if isinstance(m.id, tuple | list)]
    assert plurals
    for message in plurals:
        assert len(message.string) == forms and all(message.string)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the package sources and catalogs to break on purpose."""
    shutil.copytree(ROOT / "ohtchat", tmp_path / "ohtchat", ignore=shutil.ignore_patterns("*.pyc"))
    shutil.copytree(ROOT / "locales", tmp_path / "locales")
    return tmp_path


def test_check_detects_a_new_string_and_update_merges_it(tree: Path) -> None:
    module = tree / "ohtchat" / "commands" / "extra_strings.py"
    module.write_text('from ohtchat.i18n import _\n\nX = _("A brand new string")\n')
    problems = tools.check(tree)
    assert any("stale" in p for p in problems)
    assert any("not merged: 'A brand new string'" in p for p in problems)

    stats = {s.language: s for s in tools.update(tree)}
    # New: empty, or offered a similar old translation marked fuzzy.
    assert stats["de"].untranslated + stats["de"].fuzzy == 1
    assert "A brand new string" in tools.template_path(tree).read_text(encoding="utf-8")
    problems = tools.check(tree)
    assert not any("stale" in p for p in problems)
    new = [p for p in problems if "A brand new string" in p]
    assert len(new) == 3 and all(p.endswith(("untranslated", "fuzzy")) for p in new)


def test_check_detects_fuzzy_bad_plurals_and_placeholders(tree: Path) -> None:
    ru = tools.catalog_path(tree, "ru")
    text = ru.read_text(encoding="utf-8")
    text = text.replace('msgstr[2] "/{name} принимает максимум {n} аргументов."\n', "", 1)
    text = text.replace('msgstr "Неизвестная команда /{name}."', 'msgstr "Неизвестная команда."')
    ru.write_text(text, encoding="utf-8")
    de = tools.catalog_path(tree, "de")
    de.write_text(
        de.read_text(encoding="utf-8").replace(
            'msgid "Commands:"', '#, fuzzy\nmsgid "Commands:"', 1
        ),
        encoding="utf-8",
    )
    es = tools.catalog_path(tree, "es")
    es.write_text(
        es.read_text(encoding="utf-8").replace(
            "nplurals=3; plural=(n == 1 ? 0 : n != 0 && n % 1000000 == 0 ? 1 : 2)",
            "nplurals=1; plural=0",
        ),
        encoding="utf-8",
    )
    problems = "\n".join(tools.check(tree))
    assert "es: 1 plural forms, expected 3" in problems
    assert "ru: \"('/{name} takes at most {n} argument.'" in problems  # a form is missing
    assert "placeholders differ" in problems
    assert "de: 'Commands:' is fuzzy" in problems


def test_update_leaves_unchanged_files_alone(tree: Path) -> None:
    before = {p: p.read_bytes() for p in (tree / "locales").rglob("*.po*")}
    tools.update(tree)
    assert {p: p.read_bytes() for p in (tree / "locales").rglob("*.po*")} == before


def test_compile_writes_loadable_mo_files(tree: Path) -> None:
    import gettext

    out = tree / "mo"
    paths = tools.compile_catalogs(tree, out)
    assert len(paths) == 3
    de = gettext.translation("ohtchat", out, languages=["de"])
    assert de.gettext("Commands:") == "Befehle:"


def test_check_detects_a_plural_rule_that_disagrees_with_cldr(tree: Path) -> None:
    # Three forms, as CLDR asks, but the pre-2.19 rule: 1 000 000 would get "other", not "many".
    es = tools.catalog_path(tree, "es")
    es.write_text(
        es.read_text(encoding="utf-8").replace(
            "plural=(n == 1 ? 0 : n != 0 && n % 1000000 == 0 ? 1 : 2)",
            "plural=(n == 1 ? 0 : 2)",
        ),
        encoding="utf-8",
    )
    problems = "\n".join(tools.check(tree))
    assert "es: Plural-Forms picks form 2 for n=1000000, Babel's CLDR data picks 1" in problems


def test_spanish_uses_its_many_form_for_millions() -> None:
    import gettext

    with tools.catalog_path(ROOT, "es").open("rb") as fp:
        catalog = read_po(fp, locale="es")
    rule = gettext.c2py(catalog.plural_expr)
    assert [rule(n) for n in (1, 2, 1_000_000)] == [0, 2, 1]
