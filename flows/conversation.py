"""The transport-neutral vocabulary of a conversation: prompts, choices, fields, `fill`.

A prompt is a question and its choices. Each choice carries the command it means, with the fields
a person must fill in first (a date, a reason, a list of organisations). A chat renders prompts as
cards with buttons, the terminal as numbered options; `fill` turns a choice and the person's answers into
the command, which `flows.decide` still judges in full.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from flows import commands as c
from flows.codec import decode


class FieldKind(StrEnum):
    TEXT = "text"
    LINES = "lines"  # several short answers, one per line (a list); written like a long TEXT
    DATE = "date"
    DATETIME = "datetime"  # a day and a time; typed answers are London time
    BOOL = "bool"
    INT = "int"
    CHOICE = "choice"
    MULTI_CHOICE = "multi_choice"
    ORGANISATIONS = "organisations"  # a multi-select from the organisation directory


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: FieldKind
    options: tuple[tuple[str, str], ...] = ()  # (value, label)
    default: Any = None
    required: bool = True
    long: bool = False  # TEXT that may run to several lines: a letter, a draft, notes, findings


@dataclass(frozen=True)
class Choice:
    label: str
    command: c.Command
    fields: tuple[Field, ...] = ()


@dataclass(frozen=True)
class Prompt:
    id: str
    question: str
    choices: tuple[Choice, ...]
    detail: str = ""


def fill(choice: Choice, values: Mapping[str, Any]) -> c.Command:
    """The choice's command with the person's answers in place.

    Answers may be plain values as a transport has them ("2026-12-01", "phone", a dict for an
    organisation); they are typed by the command's own annotations. A value that cannot be typed
    raises ValueError, which transports show as "that answer was not understood".
    """
    unknown = set(values) - {f.name for f in choice.fields}
    if unknown:
        raise ValueError(f"not fields of this choice: {', '.join(sorted(unknown))}")
    hints = typing.get_type_hints(type(choice.command))
    try:
        typed = {name: decode(hints[name], value) for name, value in values.items()}
    except (TypeError, KeyError, AttributeError) as error:
        raise ValueError(f"an answer could not be understood: {error}") from error
    return replace(choice.command, **typed)
