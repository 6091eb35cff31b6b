"""The data dir choice and the non-secret TOML config."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ohtchat.config import Config, ConfigError, default_data_dir, dumps, resolve_data_dir


def test_data_dir_default_env_and_override(monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("OHTCHAT_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_data_dir() == tmp_path / "xdg" / "ohtchat"
    monkeypatch.setenv("OHTCHAT_DATA_DIR", str(tmp_path / "env"))
    assert resolve_data_dir(None) == tmp_path / "env"
    assert resolve_data_dir(tmp_path / "cli") == tmp_path / "cli"


def test_set_save_load_round_trip(tmp_path: Path) -> None:
    cfg = Config.load(tmp_path)
    assert cfg.items() == []
    cfg.set("language", "de")
    cfg.set("tor.binary", "/usr/sbin/tor")
    cfg.set("tor.socks_port", 9050)
    cfg.set("ui.sound", False)
    cfg.set("bootstrap", ["a.onion", 'quote"d'])
    cfg.save()
    again = Config.load(tmp_path)
    assert again.items() == cfg.items()
    assert again.get("tor.socks_port") == 9050 and again.get("missing", 1) == 1
    assert again.unset("language") and not again.unset("language")


def test_bad_input(tmp_path: Path) -> None:
    cfg = Config.load(tmp_path)
    with pytest.raises(ConfigError):
        cfg.set("bad key", 1)
    with pytest.raises(ConfigError):
        cfg.set("x", {"nested": 1})  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        cfg.set("x", float("inf"))
    cfg.set("tor", "x")
    with pytest.raises(ConfigError):
        cfg.set("tor.binary", "y")  # would need "tor" to be both a value and a table
    (tmp_path / "config.toml").write_text("this is = = not toml")
    with pytest.raises(ConfigError, match="not valid TOML"):
        Config.load(tmp_path)


keys = st.from_regex(r"[a-z][a-z0-9_-]{0,8}(\.[a-z][a-z0-9_-]{0,8}){0,2}", fullmatch=True)
values = st.one_of(
    st.text(max_size=30),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.lists(st.text(max_size=10), max_size=4),
)


@given(st.dictionaries(keys, values, max_size=8))
def test_writer_output_parses_back(data: dict[str, object]) -> None:
    # Drop keys that are a prefix-table of another key: Config.set refuses those.
    clean = {
        k: v
        for k, v in data.items()
        if not any(o != k and (o.startswith(k + ".") or k.startswith(o + ".")) for o in data)
    }
    parsed = tomllib.loads(dumps(clean))  # type: ignore[arg-type]
    flat: dict[str, object] = {}

    def walk(d: dict[str, object], prefix: str) -> None:
        for k, v in d.items():
            if isinstance(v, dict):
                walk(v, prefix + k + ".")
            else:
                flat[prefix + k] = v

    walk(parsed, "")
    assert flat == clean
