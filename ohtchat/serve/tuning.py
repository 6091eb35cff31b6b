"""Protocol timers and limits from ``config.toml``: ``[chord]``, ``[dht]`` and ``[node]`` tables.

For example a fast local test ring::

    [chord]
    stabilize_interval = 0.5
    fix_fingers_interval = 0.5

Keys are the fields of :class:`~ohtchat.chord.config.ChordConfig`,
:class:`~ohtchat.dht.config.DhtConfig` and the timers of ``NodeOptions``; they are read when
the node starts (a restart applies a change). A key that is not a field, or a value the
config class refuses, is an :class:`~ohtchat.serve.options.OptionError` naming it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ohtchat.config import Config, Value

NODE_TIMERS = ("heartbeat_interval", "mailbox_interval", "join_retry", "deliver_timeout")


class TuningError(ValueError):
    """A ``[chord]``, ``[dht]`` or ``[node]`` setting is unknown or out of range."""


def tuning_overrides(config: Config) -> dict[str, Any]:
    """``NodeOptions`` keyword arguments (``chord=``, ``dht=``, timers) set by ``config``."""
    from ohtchat.chord.config import ChordConfig
    from ohtchat.dht.config import DhtConfig

    tables: dict[str, dict[str, Value]] = {"chord": {}, "dht": {}, "node": {}}
    for key, value in config.items():
        table, _, name = key.partition(".")
        if table in tables and name:
            tables[table][name] = value
    out: dict[str, Any] = {}
    for table, cls in (("chord", ChordConfig), ("dht", DhtConfig)):
        if tables[table]:
            out[table] = _build(table, cls, tables[table])
    for name, value in tables["node"].items():
        if name not in NODE_TIMERS:
            raise TuningError(f"config: unknown setting node.{name}")
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise TuningError(f"config: node.{name} must be a positive number")
        out[name] = float(value)
    return out


def _build(table: str, cls: Any, values: dict[str, Value]) -> Any:
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs: dict[str, Any] = {}
    for name, value in values.items():
        if name not in fields:
            raise TuningError(f"config: unknown setting {table}.{name}")
        default = getattr(cls(), name)
        if not _fits(default, value):
            raise TuningError(f"config: {table}.{name} must be like {default!r}")
        kwargs[name] = float(value) if isinstance(default, float) else value  # type: ignore[arg-type]
    try:
        return cls(**kwargs)
    except (ValueError, TypeError) as exc:
        raise TuningError(f"config [{table}]: {exc}") from None


def _fits(default: object, value: Value) -> bool:
    """Whether ``value`` has the type of the field's ``default`` (an int may set a float)."""
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, int | float)
    return isinstance(value, type(default))
