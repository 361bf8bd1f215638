"""The plain records the store hands out, and the checks on what it is handed.

The store keeps JSON-able dicts and never learns what a case or a letter is;
these few types are the whole vocabulary it shares with its callers.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Literal, NamedTuple

ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,80}")

EffectStatus = Literal["pending", "done"]


@dataclass(frozen=True, slots=True)
class EffectRecord:
    """An effect (e.g. a letter to send) and how far the store got with it."""

    key: str
    effect: dict[str, Any]
    status: EffectStatus
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    done_at: datetime | None

    @classmethod
    def new(cls, effect: Mapping[str, Any], now: datetime) -> EffectRecord:
        """A pending effect, due at once."""
        if not isinstance(effect, Mapping):
            raise ValueError(f"an effect must be a mapping, got {type(effect).__name__}")
        key = effect.get("key")
        if not isinstance(key, str) or not key:
            raise ValueError(f"an effect needs a non-empty string 'key', got {effect!r}")
        return cls(key, json_copy(effect), "pending", 0, now, None, now, None)

    def to_json(self) -> dict[str, Any]:
        """The record as it is stored: datetimes as ISO 8601 strings."""
        return {
            "key": self.key,
            "effect": self.effect,
            "status": self.status,
            "attempts": self.attempts,
            "next_attempt_at": self.next_attempt_at.isoformat(),
            "last_error": self.last_error,
            "created_at": self.created_at.isoformat(),
            "done_at": None if self.done_at is None else self.done_at.isoformat(),
        }

    @classmethod
    def from_json(cls, raw: Any) -> EffectRecord:
        """Parse a stored record; ``ValueError`` says what is wrong with it."""
        if not isinstance(raw, dict):
            raise ValueError(f"an effect record must be an object, got {raw!r}")
        if set(raw) != _EFFECT_FIELDS:
            raise ValueError(f"an effect record must have exactly the fields {sorted(_EFFECT_FIELDS)}")
        key, effect, status = raw["key"], raw["effect"], raw["status"]
        attempts, last_error = raw["attempts"], raw["last_error"]
        if not isinstance(key, str) or not isinstance(effect, dict) or effect.get("key") != key:
            raise ValueError(f"effect record {key!r} has a bad 'key' or 'effect'")
        if status not in ("pending", "done"):
            raise ValueError(f"effect {key!r} has status {status!r}")
        if not _is_int(attempts) or attempts < 0:
            raise ValueError(f"effect {key!r} has attempts {attempts!r}")
        if last_error is not None and not isinstance(last_error, str):
            raise ValueError(f"effect {key!r} has last_error {last_error!r}")
        done_at = None if raw["done_at"] is None else parse_time(raw["done_at"], "done_at")
        if (status == "done") != (done_at is not None):
            raise ValueError(f"effect {key!r} is {status} but done_at is {raw['done_at']!r}")
        return cls(
            key,
            effect,
            status,
            attempts,
            parse_time(raw["next_attempt_at"], "next_attempt_at"),
            last_error,
            parse_time(raw["created_at"], "created_at"),
            done_at,
        )


_EFFECT_FIELDS = {field.name for field in fields(EffectRecord)}


@dataclass(frozen=True, slots=True)
class StreamRecord:
    """Everything stored for one stream, as read from its file."""

    stream: str
    version: int
    events: list[dict[str, Any]]
    effects: list[EffectRecord]
    summary: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Change:
    """What one write adds to a stream, checked: every backend's `append` and `complete_effect`
    take their arguments through `Change.checked`, so they refuse the same things alike."""

    events: list[dict[str, Any]]
    effects: list[EffectRecord]
    keys: list[str]
    summary: dict[str, Any] | None

    @classmethod
    def checked(
        cls,
        stream: str,
        events: Any,
        effects: Any,
        keys: Any,
        summary: Any,
        now: Any,
        *,
        expected_version: Any = None,
    ) -> Change:
        """ValueError for a bad stream id, a naive `now`, malformed events, effects or keys, and
        (for an append, with `expected_version`) no events or a version that is not an int."""
        check_id(stream)
        require_aware(now, "now")
        new_events = check_events(events)
        if expected_version is not None:
            if not new_events:
                raise ValueError("append needs at least one event")
            if type(expected_version) is not int:
                raise ValueError(f"expected_version must be an int, got {expected_version!r}")
        return cls(
            new_events,
            [EffectRecord.new(effect, now) for effect in effects],
            list(dict.fromkeys(check_key(key) for key in keys)),
            check_summary(summary),
        )


@dataclass(frozen=True, slots=True)
class StoredStream:
    """A stream whole, as one store exports it and another restores it: its record and the
    de-duplication keys its writes consumed."""

    record: StreamRecord
    keys: list[str]


@dataclass(frozen=True, slots=True)
class Summary:
    """A stream's summary as the index holds it: enough to list without opening files."""

    stream: str
    version: int
    summary: dict[str, Any]


class OpenCase(NamedTuple):
    """An open case and the next date it must meet (ISO, or None): what lists of open cases need,
    without their whole summaries (a tuple: ten thousand are made in a few milliseconds)."""

    ref: str
    version: int
    next_on: str | None


def is_open(summary: Summary) -> bool:
    """Only cases are ever open: set-aside mail is not."""
    return bool(summary.summary.get("open")) and summary.stream.startswith("JC-")


def soonest_first(cases: Iterable[OpenCase]) -> list[OpenCase]:
    return sorted(cases, key=lambda c: (c.next_on or "9999", c.ref))


def check_id(value: Any, what: str = "stream id") -> str:
    """Return ``value`` if it is safe as a file name, else raise ``ValueError``."""
    if not isinstance(value, str) or ID_PATTERN.fullmatch(value) is None:
        raise ValueError(f"{what} {value!r} must match {ID_PATTERN.pattern}")
    return value


def check_events(events: Any) -> list[dict[str, Any]]:
    """Events as the store will write them: a sequence of mappings, each copied shallowly."""
    if isinstance(events, Mapping | str | bytes):
        raise ValueError("events must be a sequence of mappings, not a single value")
    given = list(events)
    documents = [dict(event) for event in given if isinstance(event, Mapping)]
    if len(documents) != len(given):
        raise ValueError("every event must be a mapping")
    return documents


def check_summary(summary: Any) -> dict[str, Any] | None:
    """The store's own deep copy: the index keeps it, so the caller may reuse theirs."""
    if summary is not None and not isinstance(summary, Mapping):
        raise ValueError(f"summary must be a mapping, got {type(summary).__name__}")
    return None if summary is None else json_copy(summary)


def check_key(value: Any) -> str:
    """A de-duplication key: any non-empty string."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"a key must be a non-empty string, got {value!r}")
    return value


def require_aware(value: Any, name: str) -> datetime:
    """Refuse naive datetimes: stored times must mean one instant."""
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {value!r}")
    return value


def parse_time(value: Any, name: str) -> datetime:
    """Parse a stored ISO 8601 time; ``ValueError`` if it is not an aware one."""
    if not isinstance(value, str):
        raise ValueError(f"{name} must be an ISO 8601 string, got {value!r}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{name} {value!r} is not an ISO 8601 time") from None
    if parsed.utcoffset() is None:
        raise ValueError(f"{name} {value!r} has no UTC offset")
    return parsed


def dumps(value: Any) -> str:
    """Compact, strict JSON (no NaN), as every store file is written."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def json_copy(value: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy the store owns, made the way it will be stored (so it fails early)."""
    copied = json.loads(dumps(value))
    if not isinstance(copied, dict):
        raise ValueError(f"expected a mapping, got {type(value).__name__}")
    return copied


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def shared(value: Any) -> Any:
    """The same JSON-able value with its short strings interned.

    Summaries of tens of thousands of cases repeat the same few strings (statuses, organisation
    names, what is due); sharing one copy of each keeps the in-memory index small.
    """
    if isinstance(value, str):
        return sys.intern(value) if len(value) <= 80 else value
    if isinstance(value, dict):
        return {sys.intern(k): shared(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shared(v) for v in value]
    return value
