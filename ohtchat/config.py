"""Where ohtchat keeps its files, and the plain (non-secret) settings in ``config.toml``.

The data directory defaults to the platform's user data dir (XDG on Linux, via
platformdirs) and can be overridden (``--data-dir``). ``config.toml`` sits in it and
holds only non-secret settings (language, theme, tor paths…); everything secret goes in
the encrypted store. Keys are dotted (``"tor.binary"``) and map to TOML tables.
"""

from __future__ import annotations

import math
import os
import tomllib
from pathlib import Path

import platformdirs

from ohtchat.store.files import atomic_write

APP_NAME = "ohtchat"
CONFIG_NAME = "config.toml"
ENV_DATA_DIR = "OHTCHAT_DATA_DIR"

Value = str | int | float | bool | list[str]
_SCALARS = (str, int, float, bool)


class ConfigError(Exception):
    """``config.toml`` is unreadable or a setting has a value TOML cannot hold."""


def default_data_dir() -> Path:
    """``$OHTCHAT_DATA_DIR`` if set, else the platform's user data dir for ohtchat."""
    env = os.environ.get(ENV_DATA_DIR)
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def default_download_dir(data_dir: Path | None = None) -> Path:
    """Where received files go unless ``files.dir`` is set: the user's download folder (XDG,
    via platformdirs), else ``downloads`` in the data dir."""
    try:
        return Path(platformdirs.user_downloads_dir())
    except Exception:  # no download folder known on this platform / in this environment
        return (data_dir or default_data_dir()) / "downloads"


def resolve_data_dir(override: str | Path | None = None) -> Path:
    """The data dir to use: ``override`` (from ``--data-dir``) or the default."""
    return Path(override).expanduser() if override else default_data_dir()


class Config:
    """Flat, dotted-key view of ``config.toml``: ``get``/``set``/``unset``/``save``."""

    def __init__(self, path: Path, values: dict[str, Value] | None = None) -> None:
        self.path = path
        self._values: dict[str, Value] = dict(values or {})

    @classmethod
    def load(cls, data_dir: Path) -> Config:
        """Read ``<data_dir>/config.toml`` (a missing file is an empty config)."""
        path = Path(data_dir) / CONFIG_NAME
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cls(path)
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read {path}: {exc}") from exc
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
        values: dict[str, Value] = {}
        _flatten(data, "", values, path)
        return cls(path, values)

    def get(self, key: str, default: Value | None = None) -> Value | None:
        """The value of a dotted key, or ``default``."""
        return self._values.get(key, default)

    def set(self, key: str, value: Value) -> None:
        """Set a dotted key (not saved until :meth:`save`)."""
        _check_key(key)
        _check_value(key, value)
        for other in self._values:
            if other.startswith(key + ".") or key.startswith(other + "."):
                raise ConfigError(f"{key!r} clashes with the existing setting {other!r}")
        self._values[key] = list(value) if isinstance(value, list) else value

    def unset(self, key: str) -> bool:
        """Remove a key; returns whether it was set."""
        return self._values.pop(key, None) is not None

    def items(self) -> list[tuple[str, Value]]:
        """All settings, sorted by key."""
        return sorted(self._values.items())

    def save(self) -> None:
        """Write ``config.toml`` atomically (creating the data dir if needed)."""
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        atomic_write(self.path, dumps(self._values).encode("utf-8"))


def _flatten(data: dict[str, object], prefix: str, out: dict[str, Value], path: Path) -> None:
    for key, value in data.items():
        full = f"{prefix}{key}"
        if isinstance(value, dict):
            _flatten(value, full + ".", out, path)
        elif isinstance(value, _SCALARS) or (
            isinstance(value, list) and all(isinstance(v, str) for v in value)
        ):
            out[full] = value  # type: ignore[assignment]
        else:
            raise ConfigError(f"{path}: unsupported value for {full!r}")


def _check_key(key: str) -> None:
    parts = key.split(".")
    if not key or not all(
        p and all((c.isascii() and c.isalnum()) or c in "-_" for c in p) for p in parts
    ):
        raise ConfigError(f"invalid setting name {key!r} (use letters, digits, - _ and dots)")


def _check_value(key: str, value: object) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{key}: non-finite numbers are not allowed")
    if isinstance(value, _SCALARS):
        return
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return
    raise ConfigError(f"{key}: value must be str, int, float, bool or a list of str")


def dumps(values: dict[str, Value]) -> str:
    """A small TOML writer for dotted keys of scalars and string lists."""
    tables: dict[str, list[tuple[str, Value]]] = {}
    for key, value in sorted(values.items()):
        table, _, name = key.rpartition(".")
        tables.setdefault(table, []).append((name, value))
    chunks: list[str] = []
    for table in sorted(tables):
        lines = [f"[{table}]"] if table else []
        lines += [f"{name} = {_toml_value(v)}" for name, v in tables[table]]
        chunks.append("\n".join(lines))
    return "\n\n".join(chunks) + "\n" if chunks else ""


def _toml_value(value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_str(v) for v in value) + "]"
    return _toml_str(value)


def _toml_str(text: str) -> str:
    out = ['"']
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)
