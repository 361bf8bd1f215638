"""Plain JSON-able dicts to and from events, effects and commands.

The store keeps plain dicts; this is the one place that knows how a dataclass becomes one.
A dict carries its class name under "type"; dates and datetimes are ISO strings; enums are
their values. Decoding is driven by the dataclass's type hints, so a new event needs no code here.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from datetime import date, datetime
from enum import Enum
from functools import cache
from typing import Any, TypeVar

from flows import commands, effects, events

T = TypeVar("T")


def _subclasses(module: types.ModuleType, base: type) -> dict[str, type]:
    return {
        name: obj
        for name, obj in vars(module).items()
        if isinstance(obj, type)
        and issubclass(obj, base)
        and obj is not base
        and dataclasses.is_dataclass(obj)
    }


EVENT_TYPES = _subclasses(events, events.Event)
EFFECT_TYPES = _subclasses(effects, effects.Effect)
COMMAND_TYPES = _subclasses(commands, commands.Command)


_SCALARS = frozenset({str, int, float, bool, type(None)})


def to_plain(value: Any) -> Any:
    """Turn a dataclass (and everything inside it) into JSON-able values."""
    kind = type(value)
    if kind in _SCALARS:  # most values: answered before any of the slower checks below
        return value
    if dataclasses.is_dataclass(kind):
        plain = {"type": kind.__name__}
        for name in _field_names(kind):
            plain[name] = to_plain(getattr(value, name))
        return plain
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, tuple | list | frozenset | set):
        items = [to_plain(v) for v in value]
        return sorted(items) if isinstance(value, frozenset | set) else items
    if isinstance(value, Mapping):
        return {str(k): to_plain(v) for k, v in value.items()}
    return value


@cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


def event_from_plain(data: Mapping[str, Any]) -> events.Event:
    return _from_registry(EVENT_TYPES, data)  # type: ignore[no-any-return]


def effect_from_plain(data: Mapping[str, Any]) -> effects.Effect:
    return _from_registry(EFFECT_TYPES, data)  # type: ignore[no-any-return]


def command_from_plain(data: Mapping[str, Any]) -> commands.Command:
    return _from_registry(COMMAND_TYPES, data)  # type: ignore[no-any-return]


def _from_registry(registry: Mapping[str, type], data: Mapping[str, Any]) -> Any:
    name = data.get("type")
    if name not in registry:
        raise ValueError(f"unknown record type {name!r}")
    return from_plain(registry[str(name)], data)


def from_plain(cls: type[T], data: Mapping[str, Any]) -> T:
    hints = _hints(typing.cast(type, cls))
    values = {
        f.name: decode(hints[f.name], data[f.name])
        for f in dataclasses.fields(cls)  # type: ignore[arg-type]
        if f.name in data
    }
    return cls(**values)


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def decode(hint: Any, value: Any) -> Any:  # noqa: C901 - one branch per kind of hint
    """`value` (plain, or already of the hinted type) as the type `hint` describes."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        return decode(next(a for a in args if a is not type(None)), value)
    if origin is tuple:
        return tuple(decode(args[0], v) for v in value)
    if origin is frozenset:
        return frozenset(decode(args[0], v) for v in value)
    if origin in (dict, Mapping, typing.Mapping):
        return {k: decode(args[1], v) for k, v in value.items()} if args else dict(value)
    if hint is Any:
        return value
    if isinstance(hint, type):
        if isinstance(value, hint):
            return value
        if issubclass(hint, Enum):
            return hint(value)
        if hint is datetime:
            return datetime.fromisoformat(value)
        if hint is date:
            return date.fromisoformat(value)
        if dataclasses.is_dataclass(hint):
            return from_plain(hint, value)
    return value
