"""What a form's answers mean and the words shared by every chat's cards: Slack's Block Kit
(`bot.slack.blocks`) and Teams' Adaptive Cards (`bot.teams.cards`) render the same prompts, so a
refusal, a day or a sentence offered reads the same in either, and a form left as shown keeps what
the terminal keeps when Enter is pressed.

Nothing here knows a chat's JSON: each chat reads its own inputs (`read_form` is given how) and
styles these words its own way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date
from typing import Any

from bot.chat.refs import status_words
from flows.conversation import Field, FieldKind, Prompt

YES_NO = (("yes", "Yes"), ("no", "No"))  # a yes-or-no field's options, by value
SENTENCES = (
    "consent given by phone today",
    "lead: <organisation>",
    "<organisation> agrees",
    "due 12 Dec for <organisation>",
    "help",
)  # the sentences offered in help, as examples of what can be written instead of pressing

# Why an answer is refused, under its field.
NEEDED = "An answer is needed."
NOT_WHOLE = "Write a whole number, like 20."
NOT_A_DATE = "Pick a date."
NOT_A_TIME = "Pick a date and a time (London time)."
NOT_OFFERED = "Pick one of the options shown."
TOO_LONG = "The current text ({n} characters) is too long to show here. Leave this empty to keep it."

INPUT = 3000  # the longest text a form shows filled in (Slack's limit for an input; Teams' kept alike)


def read_form(
    fields: Sequence[Field], answer: Callable[[Field], Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Plain answers for `flows.conversation.fill` by field name, and errors by field name, from
    `answer`: a chat's reading of one field's input(s), None when empty, ValueError (its words the
    error) when it cannot be used. An optional field left empty is left out, so the command keeps its
    own value; a text too long to show (`unshown`) left empty keeps its default."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field in fields:
        try:
            given = answer(field)
        except ValueError as error:
            errors[field.name] = str(error)
            continue
        if given is not None:
            values[field.name] = given
        elif unshown(field):
            values[field.name] = field.default
        elif field.required:
            errors[field.name] = NEEDED
    return values, errors


def unshown(field: Field) -> bool:
    """A text default too long for a form: not shown, and kept when the field is left empty."""
    return field.kind is FieldKind.TEXT and isinstance(field.default, str) and len(field.default) > INPUT


def card_text(summary: Mapping[str, Any]) -> str:
    """The notification text of a case's card: reference and status only."""
    return f"{summary['ref']}: {status_words(summary.get('status'))}"


def text_of(ref: str, prompt: Prompt) -> str:
    """A question's notification text: a person with questions on two cases can tell them apart."""
    return f"{ref}: {prompt.question}"


def deadlines(found: Sequence[Mapping[str, Any]]) -> list[tuple[date, str]]:
    """A summary's deadlines ({"on": "YYYY-MM-DD", "what": ...}) as (day, what), soonest first."""
    return sorted((date.fromisoformat(d["on"]), str(d["what"])) for d in found)


def long_day(on: date) -> str:
    """'Friday 20 November 2026'."""
    return f"{on:%A} {on.day} {on:%B %Y}"


def short_day(on: date) -> str:
    """'Fri 20 Nov 2026'."""
    return f"{on:%a} {on.day} {on:%b %Y}"


def titled(lines: Sequence[str]) -> Iterator[tuple[str, bool]]:
    """Each line of `bot.case_text`, and whether it is a title: one underlined with dashes, the
    underline left out."""
    skip = False
    for n, line in enumerate(lines):
        if skip:
            skip = False
            continue
        underline = lines[n + 1] if n + 1 < len(lines) else ""
        skip = bool(line.strip()) and underline == "-" * len(line)
        yield line, skip
