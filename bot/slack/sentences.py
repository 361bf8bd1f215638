"""Plain sentences typed in a case thread, read as a suggested answer to a prompt now waiting.

Handlers type "consent given by phone yesterday" or "the council agrees" instead of pressing a
button. Nothing is recorded from a sentence: `understand` finds the one choice of a waiting prompt
that the sentence fits, fills what it says, and the app asks "Did you mean ...?" first. Anything
that fits nothing waiting, or could be read two ways, gives None and the app shows the choices.

Prompts are found by id and choices by their command's type, never by label text. A date without
a year is read within half a year of today: backwards for consent, forwards for target dates.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from bot.config import Config
from flows import commands as c
from flows.conversation import FieldKind, Prompt, fill
from flows.model import ConsentMethod
from flows.rules import long_date


@dataclass(frozen=True)
class OrgName:
    """An organisation as people name it in chat: its directory name and aliases."""

    id: str
    name: str
    aliases: tuple[str, ...] = ()


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
        except _Unclear:
            continue
        if suggestion is not None and suggestion not in found:
            found.append(suggestion)
    return found[0] if len(found) == 1 else None


class _Unclear(Exception):
    """A date or organisation in the sentence that cannot be read one way only."""


HELP = re.compile(r"\W*(?:help|\?+)\W*", re.I)
NEGATED = re.compile(r"\b(?:not|no|never|\w+n't)\b", re.I)
BECAUSE = re.compile(r"\s*(?:\bbecause\b|:|\s-\s)\s*", re.I)
TO_THE_LEAD = re.compile(r"^\W*(?:to\s+(?:the\s+)?(?:proposed\s+)?(?:lead|it|that|this)\b)?\W*", re.I)
HALF_YEAR = 183
STOP_WORDS = frozenset(
    {"the", "my", "a", "an", "of", "and", "for", "in", "on", "at", "to", "by", "nhs", "care"}
)
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
DATES = (
    re.compile(r"\b(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})\b"),
    re.compile(r"\b(?P<d>\d{1,2})/(?P<m>\d{1,2})(?:/(?P<y>\d{4}|\d{2}))?\b"),
    re.compile(
        rf"\b(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<mon>{'|'.join(MONTHS)})[a-z]*\.?"
        r"(?:\s+(?P<y>\d{4}))?\b",
        re.I,
    ),
    re.compile(r"\b(?P<rel>today|yesterday|tomorrow)\b", re.I),
)
RELATIVE = {"today": 0, "yesterday": -1, "tomorrow": 1}
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
ANSWER = re.compile(r"^(?P<who>.*?)\b(?P<verb>agree[sd]?|disagree[sd]?|object(?:s|ed)?)\b(?P<rest>.*)$", re.I)
ONLY_US = frozenset({"we", "they", "i", "yes", "ok", "okay", "do", "does", "did", "not", "don", "doesn", "t"})


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

    def named(self, text: str) -> set[str]:
        """Organisations `text` names: by a whole name or alias, or a word only one of them has."""
        words = _words(text)
        padded = f" {' '.join(words)} "
        keys = {o.id: set(_words(" ".join((o.name, o.id, *o.aliases)))) - STOP_WORDS for o in self.orgs}
        counts = Counter(w for k in keys.values() for w in k)
        return {
            o.id
            for o in self.orgs
            if any(f" {' '.join(_words(p))} " in padded for p in (o.name, *o.aliases))
            or any(counts[w] == 1 and not w.isdigit() and w in words for w in keys[o.id])
        }

    def one_org(self, text: str) -> str | None:
        named = self.named(text)
        return named.pop() if len(named) == 1 else None

    def day(self, forward: bool) -> tuple[date | None, str]:
        """The one day the sentence mentions (None if none), and the sentence without it."""
        days: set[date] = set()
        rest = self.text
        for pattern in DATES:
            for match in pattern.finditer(self.text):
                days.add(_resolve(match, self.today, forward))
                rest = rest.replace(match.group(0), " ")
        if len(days) > 1:
            raise _Unclear()
        return (days.pop() if days else None), rest


def _consent(s: _Said) -> Suggestion | None:
    if s.waiting("consent") is None or not re.search(r"\bconsent(?:ed|s)?\b", s.text, re.I):
        return None
    if NEGATED.search(s.text):
        return None
    named = s.named(s.text)

    def fits(kind: type[c.Command]) -> Callable[[c.Command], bool]:
        """The choice for every organisation asked about (or the ones named), not the split one."""

        def ok(cmd: c.Command) -> bool:
            ids = set(getattr(cmd, "org_ids", ()))
            return isinstance(cmd, kind) and bool(ids) and (not named or named == ids)

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
            raise _Unclear()
        values["given_on"] = day.isoformat()
    if not values and not re.search(r"\b(?:given|gave|got|agreed|consented|yes)\b", s.text, re.I):
        return None
    return s.suggest("consent", fits(c.RecordConsent), values)


def _propose_lead(s: _Said) -> Suggestion | None:
    match = next((m for p in PROPOSE if (m := p.search(s.text))), None)
    if s.waiting("propose_lead") is None or match is None:
        return None
    who, reason = _because(match.group("who") + (match.groupdict().get("why") or ""))
    org = s.one_org(who)
    if org is None:
        return None
    values = {"reason": reason} if reason else {}
    return s.suggest("propose_lead", lambda cmd: isinstance(cmd, c.ProposeLead) and cmd.org_id == org, values)


def _lead_answer(s: _Said) -> Suggestion | None:
    match = ANSWER.search(s.text)
    waiting = [p.id for p in s.prompts if p.id.startswith("lead_answer:")]
    if match is None or not waiting:
        return None
    negated = bool(NEGATED.search(match.group("who")))
    agreeing = match.group("verb").lower().startswith("agree")
    if negated and not agreeing:
        return None
    org = s.one_org(match.group("who"))
    if org is None and set(_words(match.group("who"))) <= ONLY_US and len(waiting) == 1:
        org = waiting[0].removeprefix("lead_answer:")
    agrees = agreeing and not negated
    _, reason = _because(match.group("rest"), fallback=True)
    if org is None:
        return None
    values = {} if agrees or not reason else {"reason": reason}
    return s.suggest(
        f"lead_answer:{org}", lambda cmd: isinstance(cmd, c.RespondToLead) and cmd.agrees is agrees, values
    )


def _target(s: _Said) -> Suggestion | None:
    if s.waiting("plan") is None or not re.search(r"\b(?:due|by|target\w*|deadline)\b", s.text, re.I):
        return None
    day, rest = s.day(forward=True)
    org = s.one_org(rest)
    if day is None or org is None:
        return None
    values = {"org_id": org, "target": day.isoformat()}
    return s.suggest("plan", lambda cmd: isinstance(cmd, c.AddStrand), values)


INTENTS: tuple[Callable[[_Said], Suggestion | None], ...] = (_consent, _propose_lead, _lead_answer, _target)


def _because(text: str, fallback: bool = False) -> tuple[str, str]:
    """(`text` before "because" or ":", the reason after it); with `fallback`, a bare tail is the reason."""
    parts = BECAUSE.split(text, maxsplit=1)
    if len(parts) == 2:
        return parts[0].strip(), parts[1].strip(" .")
    tail = TO_THE_LEAD.sub("", text)
    return text.strip(), (tail.strip(" .") if fallback else "")


def _resolve(match: re.Match[str], today: date, forward: bool) -> date:
    got = match.groupdict()
    if got.get("rel"):
        return today + timedelta(days=RELATIVE[got["rel"].lower()])
    month = int(got["m"]) if got.get("m") else MONTHS.index(got["mon"][:3].lower()) + 1
    day, year = int(got["d"]), got.get("y")
    if year:
        found = _on(int(year) + (2000 if len(year) == 2 else 0), month, day)
        if found is None:
            raise _Unclear()
        return found
    years = [_on(today.year + k, month, day) for k in (-1, 0, 1)]
    later = [d for d in years if d and (d >= today if forward else d <= today)]
    if not later:
        raise _Unclear()
    nearest = min(later) if forward else max(later)
    if abs((nearest - today).days) > HALF_YEAR:  # a year away is a slip, not a plan: ask instead
        raise _Unclear()
    return nearest


def _on(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.casefold())


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
