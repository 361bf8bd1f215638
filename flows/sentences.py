"""What a sentence says, read the same way wherever it was written: a line a handler types in a
case thread (`bot.chat.sentences`) or an organisation's emailed reply (`flows.asks_messages`).

Only what can be read one way: the organisations it names, the days it mentions, an agreement with
or objection to a proposed lead, a request for another date, findings sent. A date without a year
is read within half a year of today, backwards for what happened and forwards for what is planned;
a date that could be read two ways raises `Unclear`, and the reader asks instead of guessing.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta


class Unclear(Exception):
    """A date or organisation in the sentence that cannot be read one way only."""


@dataclass(frozen=True)
class OrgName:
    """An organisation as people name it: its name and the other names it goes by."""

    id: str
    name: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class LeadAnswer:
    """An agreement with, or objection to, the proposed lead: who answers (as written), and why."""

    who: str
    agrees: bool
    reason: str = ""

    @property
    def by_the_writer(self) -> bool:
        """The writer's own answer: it names nobody ("we agree", "yes, ok")."""
        return set(words(self.who)) <= ONLY_US


NEGATED = re.compile(r"\b(?:not|no|never|\w+n't)\b", re.I)
BECAUSE = re.compile(r"\s*(?:\bbecause\b|:|\s-\s)\s*", re.I)
TO_THE_LEAD = re.compile(r"^\W*(?:to\s+(?:the\s+)?(?:proposed\s+)?(?:lead|it|that|this)\b)?\W*", re.I)
ANSWER = re.compile(r"^(?P<who>.*?)\b(?P<verb>agree[sd]?|disagree[sd]?|object(?:s|ed)?)\b(?P<rest>.*)$", re.I)
ONLY_US = frozenset({"we", "they", "i", "yes", "ok", "okay", "do", "does", "did", "not", "don", "doesn", "t"})
STOP_WORDS = frozenset(
    {"the", "my", "a", "an", "of", "and", "for", "in", "on", "at", "to", "by", "nhs", "care"}
)
HALF_YEAR = 183
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
SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
ASKS_FOR_A_DATE = re.compile(
    r"\b(?:can(?:no|['’])t|can not|unable|won['’]t|not be able|extension|more time|new date|later date"
    r"|instead|delay\w*|move|push\w* back|until|can we have|could we have)\b",
    re.I,
)
FINDINGS = re.compile(
    r"\b(?:our (?:response|findings|investigation|report)|findings|we (?:found|looked into|investigated)"
    r"|attached)\b",
    re.I,
)


def named(text: str, orgs: Sequence[OrgName]) -> set[str]:
    """Organisations `text` names: by a whole name or alias, or a word only one of them has."""
    said = words(text)
    padded = f" {' '.join(said)} "
    keys = {o.id: set(words(" ".join((o.name, o.id, *o.aliases)))) - STOP_WORDS for o in orgs}
    counts = Counter(w for k in keys.values() for w in k)
    return {
        o.id
        for o in orgs
        if any(f" {' '.join(words(p))} " in padded for p in (o.name, *o.aliases))
        or any(counts[w] == 1 and not w.isdigit() and w in said for w in keys[o.id])
    }


def one_org(text: str, orgs: Sequence[OrgName]) -> str | None:
    found = named(text, orgs)
    return found.pop() if len(found) == 1 else None


def days(text: str, today: date, forward: bool) -> tuple[set[date], str]:
    """The days `text` mentions, and the text without them."""
    found: set[date] = set()
    rest = text
    for pattern in DATES:
        for match in pattern.finditer(text):
            found.add(_resolve(match, today, forward))
            rest = rest.replace(match.group(0), " ")
    return found, rest


def lead_answer(text: str) -> LeadAnswer | None:
    """An answer to the proposed lead ("the council agrees", "we object: the GP knows her"), or None."""
    match = ANSWER.search(text)
    if match is None:
        return None
    negated = bool(NEGATED.search(match.group("who")))
    agreeing = match.group("verb").lower().startswith("agree")
    if negated and not agreeing:
        return None
    agrees = agreeing and not negated
    _, reason = because(match.group("rest"), fallback=True)
    return LeadAnswer(match.group("who"), agrees, "" if agrees else reason)


def answer_in(text: str) -> LeadAnswer | None:
    """The answer to the proposed lead in a longer text (an email): the one sentence giving one."""
    found = [answer for sentence in SENTENCE_END.split(text) if (answer := lead_answer(sentence))]
    return found[0] if len(found) == 1 else None


def asked_date(text: str, today: date, instead_of: date) -> date | None:
    """The one day `text` asks for instead of `instead_of`: "we can't make 23 December, can we have
    13 January?" asks for 13 January."""
    if not ASKS_FOR_A_DATE.search(text):
        return None
    try:
        found, _ = days(text, today, forward=True)
    except Unclear:
        return None
    found.discard(instead_of)
    return found.pop() if len(found) == 1 else None


def reports_findings(text: str) -> bool:
    return bool(FINDINGS.search(text))


def because(text: str, fallback: bool = False) -> tuple[str, str]:
    """(`text` before "because" or ":", the reason after it); with `fallback`, a bare tail is the reason."""
    parts = BECAUSE.split(text, maxsplit=1)
    if len(parts) == 2:
        return parts[0].strip(), parts[1].strip(" .")
    tail = TO_THE_LEAD.sub("", text)
    return text.strip(), (tail.strip(" .") if fallback else "")


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.casefold())


def _resolve(match: re.Match[str], today: date, forward: bool) -> date:
    got = match.groupdict()
    if got.get("rel"):
        return today + timedelta(days=RELATIVE[got["rel"].lower()])
    month = int(got["m"]) if got.get("m") else MONTHS.index(got["mon"][:3].lower()) + 1
    day, year = int(got["d"]), got.get("y")
    if year:
        found = _on(int(year) + (2000 if len(year) == 2 else 0), month, day)
        if found is None:
            raise Unclear()
        return found
    years = [_on(today.year + k, month, day) for k in (-1, 0, 1)]
    later = [d for d in years if d and (d >= today if forward else d <= today)]
    if not later:
        raise Unclear()
    nearest = min(later) if forward else max(later)
    if abs((nearest - today).days) > HALF_YEAR:  # a year away is a slip, not a plan: ask instead
        raise Unclear()
    return nearest


def _on(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None
