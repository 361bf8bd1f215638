"""How an answer from any chat finds the question it belongs to, and why one is refused.

Nothing a chat sends is trusted. A button names only a case, a question and a choice: `choose`
works out the questions waiting for *this* person on the case *now* and takes the choice from
there, so a stale button, another organisation's handler or someone not in the directory gets a
polite explanation and nothing is recorded. `flows.decide` then checks everything again.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from bot.case_text import case_text, message_text
from bot.chat.refs import ButtonRef, status_words
from bot.chat.sentences import Suggestion
from bot.chat.threads import coordinator
from bot.chat.waiting import waiting
from bot.config import Config
from bot.directory import org_ref
from bot.service import CaseService
from bot.threads import MENTIONED
from flows.codec import to_plain
from flows.conversation import Choice, Field, FieldKind, Prompt
from flows.errors import DomainError, UnknownCase
from flows.model import Actor, Case, Role
from flows.prompts import answerable, next_prompts

log = logging.getLogger("jointly.chat")
NOT_UNDERSTOOD = "That button was not understood; nothing was recorded."
NOT_HOLDER = "Only a complaint handler of the organisation holding the case can see it."
WIDE = 1_000_000  # the width case texts wrap to in a team chat: never, so the chat wraps to the screen


def not_in_directory(chat: str) -> str:
    return (
        "You are not in this assistant's directory yet, so it cannot act for you. "
        f"Ask your complaints manager to add your {chat} id to the configuration."
    )


@dataclass(frozen=True)
class Found:
    """The choice a button means for the person who pressed it, on the case as it is now."""

    case: Case
    prompt: Prompt
    choice: Choice
    button: ButtonRef

    @property
    def key(self) -> str:
        """Consumed by the write that records the answer: a second click finds it taken."""
        return f"answer:{self.case.ref}:{self.case.version}:{self.prompt.id}:{self.button.choice}"


def choose(case: Case, who: Actor, button: ButtonRef, now: datetime) -> Found | str:
    """The choice `button` means for `who` on `case` now, or why it means nothing."""
    prompt = next((p for p in answerable(case, who, now) if p.id == button.prompt_id), None)
    if prompt is not None and button.choice < len(prompt.choices):
        return Found(case, prompt, prompt.choices[button.choice], button)
    return why_not(case, button.prompt_id, now)


def why_not(case: Case, prompt_id: str, now: datetime) -> str:
    """Why a button no longer fits: the question went, or it is someone else's."""
    everyone = [coordinator(case)] + [Actor("", o, frozenset({Role.CONTRIBUTOR})) for o in case.involved]
    if any(p.id == prompt_id for who in everyone for p in next_prompts(case, who, now)):
        return "This question is for another organisation or role, so nothing was recorded."
    return (
        f"This question on {case.ref} has been answered already or the case has moved on "
        f"(it is now {status_words(case.status)}). Nothing was recorded."
    )


def visible(service: CaseService, who: Actor, ref: str) -> Case | None:
    """Case `ref` if `who`'s organisation takes part in it and may be told of it (consent given);
    else None, as for a reference that does not exist, so that nobody learns a case exists."""
    try:
        case = service.load(ref)
    except UnknownCase:
        return None
    on_it = who.org_id in (case.home_org, *case.involved) and case.consent_active(who.org_id)
    return case if on_it else None


def may_read(config: Config, who: Actor | None) -> bool:
    """Whether `who` may read what a case holds: a handler or administrator of the organisation
    holding it (anyone else is told `NOT_HOLDER` and shown nothing of it)."""
    return (
        who is not None
        and who.org_id == config.service.home_organisation
        and bool(who.roles & {Role.HANDLER, Role.ADMIN})
    )


def case_meant(
    service: CaseService, who: Actor, text: str, thread_ref: str | None, now: datetime
) -> Case | str:
    """The case a typed sentence is about, or what to answer instead. In a case thread, that case;
    in a direct message, the one the sentence names, else the only one with questions for `who`."""
    if thread_ref is not None:
        return service.load(thread_ref)
    named = {ref.upper() for ref in MENTIONED.findall(text)}
    if len(named) == 1:
        ref = named.pop()
        return visible(service, who, ref) or f"There is no case {ref}."
    theirs = list(dict.fromkeys(ref for ref, _ in waiting(service, who, now)))
    if len(theirs) == 1 and not named:
        return service.load(theirs[0])
    if not theirs:
        return "Nothing is waiting for you. To write about a case, start with its reference."
    return f"Which case do you mean? Start with its reference: {', '.join(theirs)}."


def in_full(case: Case, today: date) -> tuple[str, list[str]]:
    """The case in full (`jointly show`'s text) and its title: for a holder's eyes only."""
    return f"{case.ref}: the case in full", case_text(case, today, WIDE)


def one_email(case: Case, key: str) -> tuple[int, str, list[str]] | str:
    """The email a "Read it" button names (by Message-ID, else as "#n"): its number on the case, a
    title and its text in full, for a holder's eyes only; or why there is nothing to show."""
    numbered = list(enumerate(case.messages, 1))
    by_id = (found for found in numbered if found[1].message_id == key)
    by_number = (found for found in numbered if key == f"#{found[0]}")
    found = next(by_id, None) or next(by_number, None)
    if found is None:
        return f"That email is not on {case.ref}, so there is nothing to show."
    n, message = found
    title = f"{case.ref}: email {n} of {len(case.messages)}"
    return n, title, [title, "-" * len(title), *message_text(case, message, WIDE)]


def pack(case: Case, suggestion: Suggestion) -> str:
    """What "Yes, record it" under a suggestion carries: the choice and the values the sentence gave."""
    button = ButtonRef(case.ref, case.version, suggestion.prompt_id, suggestion.choice)
    return json.dumps(
        {"button": button.encode(), "values": suggestion.values, "missing": list(suggestion.missing)}
    )


def unpack(value: object) -> tuple[str, dict[str, Any], bool]:
    """`pack`'s value back: the button's value, the values, and whether the form must ask the rest;
    ValueError for anything else."""
    try:
        packed = json.loads(str(value))
        return str(packed.get("button", "")), dict(packed["values"]), bool(packed.get("missing"))
    except (ValueError, KeyError, TypeError, AttributeError):
        raise ValueError(NOT_UNDERSTOOD) from None


def typed(config: Config, fields: Sequence[Field], values: dict[str, Any]) -> dict[str, Any]:
    """Organisation ids become the organisations the command carries; ValueError for one not in the
    directory (a form's values come from the chat, so they are not trusted either)."""
    kinds = {f.name: f.kind for f in fields}
    try:
        return {
            name: [to_plain(org_ref(config, o)) for o in value]
            if kinds.get(name) is FieldKind.ORGANISATIONS
            else value
            for name, value in values.items()
        }
    except KeyError as error:
        raise ValueError(f"not an organisation in the directory: {error}") from None


def words(error: Exception) -> str:
    return str(getattr(error, "message", error))


def failure(error: Exception, chat: str) -> str:
    """What to tell the person when their request failed: a known refusal's reason, else a short id
    that is also in the log."""
    if isinstance(error, DomainError):
        return f"Not recorded: {error.message}"
    incident = secrets.token_hex(4)
    log.error("%s request failed [%s]", chat, incident, exc_info=error)
    return f"Sorry, that did not work. If it happens again, tell your administrator: error {incident}."
