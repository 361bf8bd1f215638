"""Plain sentences typed in a case thread, read as a suggested answer to a prompt now waiting.

Handlers type "consent given by phone yesterday" or "the council agrees" instead of pressing a
button. Nothing is recorded from a sentence: `understand` finds the one choice of a waiting prompt
that the sentence fits, fills what it says, and the app asks "Did you mean ...?" first. Anything
that fits nothing waiting, or could be read two ways, gives None and the app shows the choices.

Prompts are found by id and choices by their command's type, never by label text. What a sentence
names (organisations, days, an answer to the lead) is read by `flows.sentences`, as emailed replies
are: a date without a year backwards for consent, forwards for target dates.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.config import Config
from flows import commands as c
from flows.conversation import FieldKind, Prompt, fill
from flows.model import ConsentMethod
from flows.rules import long_date
from flows.sentences import NEGATED, OrgName, Unclear, because, days, lead_answer, named, one_org


@dataclass(frozen=True)
class Suggestion:
    prompt_id: str
    choice: int  # index into the prompt's choices
    values: dict[str, Any]  # plain answers for `flows.conversation.fill`
    wording: str  # what would be recorded, for "Did you mean ...?"
    missing: tuple[str, ...] = ()  # required fields the sentence did not fill: the app opens the form


def org_names(config: Config) -> list[OrgName]:
    return [OrgName(o.id, o.name, tuple(o.aliases)) for o in config.organisations]


def understand(
    text: str, prompts: Sequence[Prompt], orgs: Sequence[OrgName], today: date
) -> Suggestion | None:
    """The one reading of `text` as an answer to one of `prompts`, or None."""
    text = text.strip()
    if HELP.fullmatch(text) or text.endswith("?"):
        return None
    said = _Said(text, tuple(prompts), tuple(orgs), today)
    found: list[Suggestion] = []
    for intent in INTENTS:
        try:
            suggestion = intent(said)
        except Unclear:
            continue
        if suggestion is not None and suggestion not in found:
            found.append(suggestion)
    return found[0] if len(found) == 1 else None


HELP = re.compile(r"\W*(?:help|\?+)\W*", re.I)
METHODS = (
    (r"\b(?:phone|telephone|call(?:ed)?)\b", ConsentMethod.PHONE),
    (r"\b(?:in writing|written|letter|post)\b", ConsentMethod.WRITTEN),
    (r"\be-?mail(?:ed)?\b", ConsentMethod.EMAIL),
    (r"\b(?:in person|face to face)\b", ConsentMethod.IN_PERSON),
)
PROPOSE = (  # most particular first: "X should lead: why" is not "lead: why"
    re.compile(r"\bpropos\w*\s+(?P<who>.+?)\s+(?:as|to)\s+(?:the\s+)?lead\b(?P<why>.*)", re.I),
    re.compile(r"^(?P<who>.+?)\s+(?:should|will|could|can)\s+lead\b(?P<why>.*)", re.I),
    re.compile(r"\blead\s*(?:is|should be|will be|:|=|-)\s*(?P<who>.+)", re.I),
)


@dataclass(frozen=True)
class _Said:
    text: str
    prompts: tuple[Prompt, ...]
    orgs: tuple[OrgName, ...]
    today: date

    def waiting(self, prompt_id: str) -> Prompt | None:
        return next((p for p in self.prompts if p.id == prompt_id), None)

    def suggest(
        self, prompt_id: str, fits: Callable[[c.Command], bool], values: dict[str, Any]
    ) -> Suggestion | None:
        prompt = self.waiting(prompt_id)
        picks = [n for n, choice in enumerate(prompt.choices) if fits(choice.command)] if prompt else []
        if prompt is None or len(picks) != 1:
            return None
        choice = prompt.choices[picks[0]]
        fields = {f.name: f for f in choice.fields}
        values = {k: v for k, v in values.items() if k in fields}
        for name, value in values.items():
            options = {v for v, _ in fields[name].options}
            if fields[name].kind is FieldKind.CHOICE and options and value not in options:
                return None
        try:
            command = fill(choice, values)
        except ValueError:
            return None
        unset = [f for f in choice.fields if f.name not in values]
        missing = tuple(f.name for f in unset if f.required and f.default is None)
        return Suggestion(prompt.id, picks[0], values, _wording(command, self.name), missing)

    def name(self, org_id: str) -> str:
        return next((o.name for o in self.orgs if o.id == org_id), org_id)

    def day(self, forward: bool) -> tuple[date | None, str]:
        """The one day the sentence mentions (None if none), and the sentence without it."""
        found, rest = days(self.text, self.today, forward)
        if len(found) > 1:
            raise Unclear()
        return (found.pop() if found else None), rest


def _consent(s: _Said) -> Suggestion | None:
    if s.waiting("consent") is None or not re.search(r"\bconsent(?:ed|s)?\b", s.text, re.I):
        return None
    if NEGATED.search(s.text):
        return None
    orgs = named(s.text, s.orgs)

    def fits(kind: type[c.Command]) -> Callable[[c.Command], bool]:
        """The choice for every organisation asked about (or the ones named), not the split one."""

        def ok(cmd: c.Command) -> bool:
            ids = set(getattr(cmd, "org_ids", ()))
            return isinstance(cmd, kind) and bool(ids) and (not orgs or orgs == ids)

        return ok

    if re.search(r"\b(?:refus|declin|withh[eo]ld)\w*", s.text, re.I):
        return s.suggest("consent", fits(c.RecordConsentRefused), {})
    if re.search(r"\brequest", s.text, re.I):
        return s.suggest("consent", fits(c.RequestConsent), {})
    values: dict[str, Any] = {}
    methods = {m for pattern, m in METHODS if re.search(pattern, s.text, re.I)}
    if len(methods) > 1:
        return None
    if methods:
        values["method"] = methods.pop().value
    day, _ = s.day(forward=False)
    if day is not None:
        if day > s.today:
            raise Unclear()
        values["given_on"] = day.isoformat()
    if not values and not re.search(r"\b(?:given|gave|got|agreed|consented|yes)\b", s.text, re.I):
        return None
    return s.suggest("consent", fits(c.RecordConsent), values)


def _propose_lead(s: _Said) -> Suggestion | None:
    match = next((m for p in PROPOSE if (m := p.search(s.text))), None)
    if s.waiting("propose_lead") is None or match is None:
        return None
    who, reason = because(match.group("who") + (match.groupdict().get("why") or ""))
    org = one_org(who, s.orgs)
    if org is None:
        return None
    values = {"reason": reason} if reason else {}
    return s.suggest("propose_lead", lambda cmd: isinstance(cmd, c.ProposeLead) and cmd.org_id == org, values)


def _lead_answer(s: _Said) -> Suggestion | None:
    answer = lead_answer(s.text)
    waiting = [p.id for p in s.prompts if p.id.startswith("lead_answer:")]
    if answer is None or not waiting:
        return None
    org = one_org(answer.who, s.orgs)
    if org is None and answer.by_the_writer and len(waiting) == 1:
        org = waiting[0].removeprefix("lead_answer:")
    if org is None:
        return None
    values = {"reason": answer.reason} if answer.reason else {}
    return s.suggest(
        f"lead_answer:{org}",
        lambda cmd: isinstance(cmd, c.RespondToLead) and cmd.agrees is answer.agrees,
        values,
    )


def _target(s: _Said) -> Suggestion | None:
    if s.waiting("plan") is None or not re.search(r"\b(?:due|by|target\w*|deadline)\b", s.text, re.I):
        return None
    day, rest = s.day(forward=True)
    org = one_org(rest, s.orgs)
    if day is None or org is None:
        return None
    values = {"org_id": org, "target": day.isoformat()}
    return s.suggest("plan", lambda cmd: isinstance(cmd, c.AddStrand), values)


INTENTS: tuple[Callable[[_Said], Suggestion | None], ...] = (_consent, _propose_lead, _lead_answer, _target)


# --- what a suggestion says it will record -------------------------------------------------------

METHOD_WORDS = {
    ConsentMethod.PHONE: "by phone",
    ConsentMethod.EMAIL: "by email",
    ConsentMethod.WRITTEN: "in writing",
    ConsentMethod.IN_PERSON: "in person",
}


def _wording(cmd: c.Command, name: Callable[[str], str]) -> str:
    match cmd:
        case c.RecordConsent():
            names = _listed([name(o) for o in cmd.org_ids])
            return f"Consent given {METHOD_WORDS[cmd.method]} on {long_date(cmd.given_on)} for {names}"
        case c.RecordConsentRefused():
            return f"Consent refused for {_listed([name(o) for o in cmd.org_ids])}"
        case c.RequestConsent():
            return f"Send the consent request letter for {_listed([name(o) for o in cmd.org_ids])}"
        case c.ProposeLead():
            return f"Propose {name(cmd.org_id)} as the lead organisation" + _why(cmd.reason)
        case c.RespondToLead(agrees=True):
            return f"{name(cmd.org_id)} agrees with the proposed lead"
        case c.RespondToLead():
            return f"{name(cmd.org_id)} objects to the proposed lead" + _why(cmd.reason)
        case c.AddStrand():
            return f"A strand for {name(cmd.org_id)}, with a target date of {long_date(cmd.target)}"
    return type(cmd).__name__


def _why(reason: str) -> str:
    return f": {reason}" if reason else ""


def _listed(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
