"""The command line speaks the chosen language: ``--lang`` or the environment, set before the
parser is built, so help texts, sub-command helps, argparse's own texts and errors follow it."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from ohtchat.cli import main, requested_language
from ohtchat.i18n import _, current_language, using_language

DESCRIPTION = "Anonymous peer-to-peer chat over Tor onion services on a Chord ring."
CMD_DESCRIPTION = "Send one console command to the node started with --serve."
TESTNET_DESCRIPTION = (
    "Start (up), stop (down) or describe (status) a private Tor network on 127.0.0.1."
)


@pytest.fixture(autouse=True)
def _no_locale_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests decide the environment's language themselves."""
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(var, raising=False)


def flat(text: str) -> str:
    """``text`` with argparse's line wrapping undone."""
    return " ".join(text.split())


def translated(language: str, message: str) -> str:
    """``message`` in ``language`` (from the catalogs; must differ from the English)."""
    with using_language(language):
        text = _(message)
    assert text != message, f"{message!r} is not translated into {language}"
    return text


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """``main(argv)`` → (exit status, stdout, stderr), whether it returns or exits."""
    try:
        status = main(argv)
    except SystemExit as exc:
        status = int(exc.code or 0)
    out, err = capsys.readouterr()
    return status, flat(out), flat(err)


def test_lang_option_translates_the_main_help(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _err = run(["--lang", "de", "--help"], capsys)
    assert status == 0
    assert current_language() == "de"
    assert flat(translated("de", DESCRIPTION)) in out
    assert DESCRIPTION not in out
    # Option helps, sub-command summaries and argparse's own texts are German too.
    assert flat(translated("de", "keep everything in memory (nothing on disk)")) in out
    assert flat(translated("de", "send one console command to the running node")) in out
    assert out.startswith(translated("de", "usage: ").strip())
    assert translated("de", "show this help message and exit") in out
    assert "show this help message and exit" not in out
    # Option names stay as they are.
    assert "--data-dir" in out and "--passphrase-file" in out


def test_environment_language_translates_the_help(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LANG", "es_ES.UTF-8")
    status, out, _err = run(["--help"], capsys)
    assert status == 0
    assert current_language() == "es"
    assert flat(translated("es", DESCRIPTION)) in out
    assert translated("es", "options") + ":" in out
    assert DESCRIPTION not in out


def test_lang_option_beats_the_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LANG", "es_ES.UTF-8")
    _status, out, _err = run(["--lang=ru", "--help"], capsys)
    assert flat(translated("ru", DESCRIPTION)) in out
    assert flat(translated("es", DESCRIPTION)) not in out


def test_sub_command_help_is_translated(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LANGUAGE", "de:en")
    status, out, _err = run(["cmd", "--help"], capsys)
    assert status == 0
    assert flat(translated("de", CMD_DESCRIPTION)) in out
    assert flat(translated("de", "seconds to wait for the answer")) in out
    assert translated("de", "positional arguments") + ":" in out


def test_lang_after_the_sub_command_counts(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _err = run(["console", "--lang", "ru", "--help"], capsys)
    assert status == 0
    assert flat(translated("ru", "use a running --serve node")) in out


def test_testnet_help_is_translated(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _err = run(["--lang", "es", "testnet", "--help"], capsys)
    assert status == 0
    assert flat(translated("es", TESTNET_DESCRIPTION)) in out
    assert flat(translated("es", "relays besides the authority")) in out


def test_unknown_lang_is_a_clear_error_in_the_environment_language(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LANG", "de_DE.UTF-8")
    status, out, err = run(["--lang", "xx", "--help"], capsys)
    assert status == 2
    assert out == ""  # the error wins over --help
    expected = translated(
        "de", "--lang {language}: no such language; choose one of {available}"
    ).format(language="xx", available="de, en, es, ru")
    assert flat(expected) in err
    assert current_language() == "de"


def test_unknown_lang_without_locale_is_reported_in_english(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, _out, err = run(["--lang=klingon"], capsys)
    assert status == 2
    assert "ohtchat: error: --lang klingon: no such language" in err
    assert current_language() == "en"


def test_parse_errors_are_translated(capsys: pytest.CaptureFixture[str]) -> None:
    status, _out, err = run(["--lang", "de", "--transport", "bogus"], capsys)
    assert status == 2
    # argparse's own messages, nested as argparse nests them, in German.
    choice = translated("de", "invalid choice: %(value)r (choose from %(choices)s)") % {
        "value": "bogus",
        "choices": "'onion', 'tcp'",
    }
    argument = translated("de", "argument %(argument_name)s: %(message)s") % {
        "argument_name": "--transport",
        "message": choice,
    }
    line = translated("de", "%(prog)s: error: %(message)s\n") % {
        "prog": "ohtchat",
        "message": argument,
    }
    assert flat(line) in err
    assert "invalid choice" not in err


def test_option_errors_are_translated(capsys: pytest.CaptureFixture[str]) -> None:
    status, _out, err = run(["--lang", "ru", "--listen", "nohostport"], capsys)
    assert status == 2
    expected = translated("ru", "--listen {value}: expected HOST:PORT").format(value="'nohostport'")
    assert expected in err


def test_attach_without_node_is_reported_in_the_language(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _out, err = run(["--lang", "es", "--attach", "--data-dir", str(tmp_path)], capsys)
    assert status == 2
    sock = tmp_path / "control.sock"
    expected = translated(
        "es", "no node serves {socket}; start one with `ohtchat --serve` (same --data-dir)"
    ).format(socket=sock)
    assert err.startswith("ohtchat --attach: ")
    assert flat(expected) in err


def test_argparse_is_left_in_english_after_main(capsys: pytest.CaptureFixture[str]) -> None:
    run(["--lang", "de", "--help"], capsys)
    assert current_language() == "de"
    # Only ohtchat's own parser is translated: other parsers in the process are untouched.
    help_text = argparse.ArgumentParser(prog="other").format_help()
    assert help_text.startswith("usage: other")
    assert "show this help message and exit" in help_text


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], None),
        (["--lang", "de"], "de"),
        (["--lang=ru", "--help"], "ru"),
        (["console", "--lang", "es", "--memory"], "es"),
        (["--lang", "de", "--lang=es"], "es"),  # the last one wins, as in argparse
        (["--lang"], None),  # missing value: argparse reports it
        (["cmd", "--", "--lang", "de"], None),  # after "--" it is not an option
        (["--language", "de"], None),
    ],
)
def test_requested_language(argv: list[str], expected: str | None) -> None:
    assert requested_language(argv) == expected
