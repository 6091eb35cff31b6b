"""Passphrase sources (never argv), option parsing and logging setup."""

from __future__ import annotations

import argparse
import io
import json
import logging
from pathlib import Path

import pytest

from ohtchat.cli import build_parser
from ohtchat.serve.logs import setup_logging
from ohtchat.serve.options import NodeSettings, OptionError
from ohtchat.serve.passphrase import (
    CREDENTIAL_NAME,
    ENV_VAR,
    PassphraseError,
    read_passphrase,
)


def test_file_wins_and_one_newline_is_dropped(tmp_path: Path) -> None:
    f = tmp_path / "pw"
    f.write_text("correct horse \n\n")
    env = {ENV_VAR: "from-env"}
    assert read_passphrase(f, env)[0] == "correct horse \n"
    assert env == {ENV_VAR: "from-env"}  # untouched when not used
    f.write_bytes(b"crlf\r\n")
    assert read_passphrase(f, {})[0] == "crlf"


def test_environment_is_read_then_removed() -> None:
    env = {ENV_VAR: "s3cret", "OTHER": "x"}
    value, source = read_passphrase(None, env)
    assert value == "s3cret" and source == f"${ENV_VAR}"
    assert ENV_VAR not in env and env["OTHER"] == "x"


def test_systemd_credential(tmp_path: Path) -> None:
    (tmp_path / CREDENTIAL_NAME).write_text("from-systemd\n")
    value, source = read_passphrase(None, {"CREDENTIALS_DIRECTORY": str(tmp_path)})
    assert value == "from-systemd" and "systemd" in source


@pytest.mark.parametrize(
    ("content", "fragment"),
    [(b"", "empty"), (b"\n", "empty"), (b"\xff\xfe", "UTF-8"), (b"x" * 5000, "larger")],
)
def test_bad_files_are_refused(tmp_path: Path, content: bytes, fragment: str) -> None:
    f = tmp_path / "pw"
    f.write_bytes(content)
    with pytest.raises(PassphraseError, match=fragment):
        read_passphrase(f, {})


def test_missing_sources(tmp_path: Path) -> None:
    with pytest.raises(PassphraseError, match="cannot read"):
        read_passphrase(tmp_path / "nope", {})
    with pytest.raises(PassphraseError, match="is not a regular file"):
        read_passphrase(tmp_path, {})
    with pytest.raises(PassphraseError, match="--passphrase-file"):
        read_passphrase(None, {"CREDENTIALS_DIRECTORY": str(tmp_path)})
    with pytest.raises(PassphraseError, match="empty"):
        read_passphrase(None, {ENV_VAR: ""})


def test_no_passphrase_option_on_the_command_line() -> None:
    parser = build_parser()
    with pytest.raises(SystemExit):
        parser.parse_args(["--serve", "--passphrase", "x"])


def _settings(argv: list[str]) -> NodeSettings:
    return NodeSettings.from_args(build_parser().parse_args(argv))


def test_shared_options(tmp_path: Path) -> None:
    s = _settings(
        [
            "--serve",
            "--data-dir",
            str(tmp_path),
            "--transport",
            "tcp",
            "--listen",
            "127.0.0.1:9001",
            "--bootstrap",
            "127.0.0.1:9002",
            "--bootstrap",
            "127.0.0.1:9003",
            "--name",
            "Alice",
            "--memory",
            "--lang",
            "de",
        ]
    )
    assert s.data_dir == tmp_path and s.control_socket == tmp_path / "control.sock"
    assert (s.transport, s.listen, s.name, s.memory, s.lang) == (
        "tcp",
        "127.0.0.1:9001",
        "Alice",
        True,
        "de",
    )
    assert s.bootstrap == ("127.0.0.1:9002", "127.0.0.1:9003")
    opts = s.node_options()
    assert opts.memory and opts.data_dir is None and opts.bootstrap == list(s.bootstrap)
    assert opts.create_if_missing and opts.transport == "tcp"


def test_subcommand_keeps_options_given_before_it(tmp_path: Path) -> None:
    args = build_parser().parse_args(["--data-dir", str(tmp_path), "cmd", "/status"])
    assert args.data_dir == tmp_path and args.line == ["/status"]
    args = build_parser().parse_args(["cmd", "--data-dir", str(tmp_path), "--json", "/w", "b"])
    assert args.data_dir == tmp_path and args.json and args.line == ["/w", "b"]
    args = build_parser().parse_args(["console", "--memory", "--transport", "tcp"])
    assert args.memory and args.transport == "tcp" and not args.attach


@pytest.mark.parametrize("listen", ["nohost", "127.0.0.1:0", "127.0.0.1:70000", ":80", "a b:1"])
def test_bad_listen(listen: str) -> None:
    with pytest.raises(OptionError, match="--listen"):
        _settings(["--serve", "--listen", listen])


def test_json_logs() -> None:
    out = io.StringIO()
    setup_logging("json", "info", out)
    try:
        logging.getLogger("ohtchat.test").info("hello %s", "world")
        logging.getLogger("ohtchat.test").debug("hidden")
        lines = out.getvalue().splitlines()
        assert len(lines) == 1
        record = json.loads(lines[0])
        assert record["message"] == "hello world" and record["level"] == "info"
        assert record["logger"] == "ohtchat.test" and "time" in record
        setup_logging("human", "debug", out)  # replaces, not adds, the handler
        logging.getLogger("ohtchat.test").debug("now shown")
        assert out.getvalue().count("now shown") == 1
    finally:
        root = logging.getLogger()
        for h in [h for h in root.handlers if h.get_name() == "ohtchat-serve"]:
            root.removeHandler(h)
        root.setLevel(logging.WARNING)


def test_namespace_without_node_options(tmp_path: Path) -> None:
    s = NodeSettings.from_args(argparse.Namespace(data_dir=tmp_path))
    assert s.transport == "onion" and s.bootstrap == () and not s.memory
