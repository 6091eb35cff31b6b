"""Dataclasses to JSON-able data and back, checking every field on the way in.

What crosses the control socket is decoded with :func:`from_data`, so a malformed object
from a peer process becomes a ``ValueError`` naming the field, never a half-built value.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any, TypeVar, cast

T = TypeVar("T")

#: Bounds on what is decoded: deeper or longer structures are refused, not walked.
MAX_DEPTH = 8
MAX_ITEMS = 100_000


def to_data(obj: Any) -> Any:
    """``obj`` as JSON-able data: dataclasses become dicts, tuples become lists."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_data(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, tuple | list):
        return [to_data(x) for x in obj]
    if isinstance(obj, dict):
        return {str(k): to_data(v) for k, v in obj.items()}
    return obj


def from_data(cls: type[T], data: Any, *, where: str = "") -> T:
    """A ``cls`` (a dataclass) built from ``data``; ``ValueError`` names the first bad field.

    Keys ``cls`` does not have are ignored (a newer peer may send more); a missing field
    takes its default, or is an error when it has none.
    """
    return cast(T, _decode(cls, data, where or cls.__name__, 0))


def _decode_dataclass(cls: type, data: Any, where: str, depth: int) -> Any:
    if not isinstance(data, dict):
        raise ValueError(f"{where}: expected an object")
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        if f.name not in data:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ValueError(f"{where}.{f.name}: missing")
            continue
        values[f.name] = _decode(hints[f.name], data[f.name], f"{where}.{f.name}", depth + 1)
    return cls(**values)


def _decode(tp: Any, data: Any, where: str, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise ValueError(f"{where}: nested too deeply")
    if tp is Any:
        return data
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return _decode_dataclass(tp, data, where, depth)
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (types.UnionType, typing.Union):
        if data is None and type(None) in args:
            return None
        inners = [a for a in args if a is not type(None)]
        if len(inners) == 1:
            return _decode(inners[0], data, where, depth)
        for inner in inners:
            try:
                return _decode(inner, data, where, depth)
            except ValueError:
                continue
        raise ValueError(f"{where}: expected one of {tp!r}")
    if origin is tuple:
        if not isinstance(data, list | tuple) or len(data) > MAX_ITEMS:
            raise ValueError(f"{where}: expected a list")
        return tuple(_decode(args[0], x, f"{where}[{i}]", depth + 1) for i, x in enumerate(data))
    if origin is dict:
        if not isinstance(data, dict) or len(data) > MAX_ITEMS:
            raise ValueError(f"{where}: expected an object")
        return {str(k): _decode(args[1], v, f"{where}.{k}", depth + 1) for k, v in data.items()}
    return _scalar(tp, data, where)


def _scalar(tp: Any, data: Any, where: str) -> Any:
    if tp is bool:
        if not isinstance(data, bool):
            raise ValueError(f"{where}: expected true or false")
        return data
    if tp is int:
        if isinstance(data, bool) or not isinstance(data, int):
            raise ValueError(f"{where}: expected an integer")
        return data
    if tp is float:
        if isinstance(data, bool) or not isinstance(data, int | float):
            raise ValueError(f"{where}: expected a number")
        return float(data)
    if tp is str:
        if not isinstance(data, str):
            raise ValueError(f"{where}: expected a string")
        return data
    if tp is type(None):
        if data is not None:
            raise ValueError(f"{where}: expected null")
        return None
    raise ValueError(f"{where}: unsupported type {tp!r}")
