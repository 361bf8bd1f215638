"""A case's report facts: what `jointly report` counts, small enough to keep in the store's index.

The report covers every case the store holds. Folding 50,000 event logs to count them takes about
a minute, so each case's summary carries these facts (`flows.summary`, key "facts") and the report
reads them from memory. They are facts, not figures: London days, organisation ids and names,
statuses and codes, so a figure's rule (a deadline, a bank holiday) can change without rewriting
a case. Nothing about the person, and no free text but two things the report prints: the KO41a
site, and what each completed action was (the annual report says what was done to improve
services, reg 18); open actions, notes, letters and the complaint itself stay in the case file.

    facts(case)                      the plain dict, as the summary keeps it
    CaseFacts.of(case)               the same facts, typed
    CaseFacts.from_plain(facts)      read back (None for a case with nothing to count)
    received_and_closed(facts)       just the two days that say whether a case can count

The plain form, every day a London date ("YYYY-MM-DD"); a key with nothing to say is left out, so
a case costs only what it holds (at 50,000 cases each extra KB is 50 MB of index)::

    received, acknowledged, response_period, longer_period_until, longer_period_agreed_on,
    final_response, partial_response, delay_letter, closed       days
    closure                  why it closed (`ClosureReason` value)
    involved                 {organisation id: name}, those taking part (signposted ones are out)
    others                   {organisation id: name}, the case's other organisations
    strands                  [[organisation id, target, answered or null]]
    impasse                  {"raised", "step", "resolved"?}
    outcomes                 {organisation id: `Outcome` value}
    referrals                {organisation id: [`Ombudsman` value]}
    coding                   {"subjects", "service_areas", "professions": [code],
                              "age_band", "complainant_status": code, "site"?: text}
    actions_done             [[owner organisation id, description]], completed actions only,
                             the description with its spacing collapsed

A case not (or no longer) received, or destroyed at its retention review, has no facts: `{}`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flows.calendar import london_date
from flows.model import Case, ClosureReason, Coding, Ombudsman, Outcome

_DAYS = (
    "acknowledged", "response_period", "longer_period_until", "longer_period_agreed_on",
    "final_response", "partial_response", "delay_letter", "closed",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class StrandFacts:
    org: str
    target: date
    answered: date | None = None


@dataclass(frozen=True, slots=True)
class ImpasseFacts:
    raised: date
    step: int
    resolved: date | None = None


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """One case as the report sees it; every moment is its London day."""

    received: date
    orgs: Mapping[str, str]
    involved: tuple[str, ...]
    acknowledged: date | None = None
    response_period: date | None = None
    longer_period_until: date | None = None
    longer_period_agreed_on: date | None = None
    final_response: date | None = None
    partial_response: date | None = None
    delay_letter: date | None = None
    closed: date | None = None
    closure: ClosureReason | None = None
    strands: tuple[StrandFacts, ...] = ()
    impasse: ImpasseFacts | None = None
    outcomes: Mapping[str, Outcome] = field(default_factory=dict)
    referrals: Mapping[str, tuple[Ombudsman, ...]] = field(default_factory=dict)
    coding: Coding | None = None
    actions_done: tuple[tuple[str, str], ...] = ()  # (owner organisation id, description)

    @classmethod
    def of(cls, case: Case) -> CaseFacts | None:
        """The facts of a case; None when there is nothing to count (not received, or destroyed)."""
        if case.received_at is None or case.destroyed_at is not None:
            return None
        impasse = case.impasse
        return cls(
            received=case.received_on,
            orgs={o.id: o.name for o in case.orgs.values()},
            involved=case.involved,
            acknowledged=_on(case.acknowledged_at),
            response_period=case.response_period.due if case.response_period else None,
            longer_period_until=case.longer_period_until,
            longer_period_agreed_on=case.longer_period_agreed_on,
            final_response=_on(case.final_response_at),
            partial_response=_on(case.partial_response_at),
            delay_letter=_on(case.delay_letter_at),
            closed=_on(case.closed_at),
            closure=case.closure,
            strands=tuple(
                StrandFacts(s.org_id, s.target, _on(s.contribution.at) if s.contribution else None)
                for s in case.strands.values()
            ),
            impasse=(
                ImpasseFacts(london_date(impasse.raised_at), impasse.step, _on(impasse.resolved_at))
                if impasse
                else None
            ),
            outcomes=dict(case.outcomes),
            referrals=dict(case.referrals),
            coding=case.coding,
            actions_done=tuple(
                (a.owner_org, " ".join(a.description.split()))
                for a in case.actions.values()
                if a.completed_at
            ),
        )

    def to_plain(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "received": self.received.isoformat(),
            "involved": {org: self.orgs.get(org, org) for org in self.involved},
        }
        if others := {org: name for org, name in self.orgs.items() if org not in self.involved}:
            found["others"] = others
        found.update((key, day.isoformat()) for key in _DAYS if (day := getattr(self, key)) is not None)
        if self.closure is not None:
            found["closure"] = self.closure.value
        if self.strands:
            found["strands"] = [[s.org, s.target.isoformat(), _iso(s.answered)] for s in self.strands]
        if self.impasse is not None:
            found["impasse"] = _impasse_plain(self.impasse)
        if self.outcomes:
            found["outcomes"] = {org: outcome.value for org, outcome in self.outcomes.items()}
        if self.referrals:
            found["referrals"] = {org: [o.value for o in bodies] for org, bodies in self.referrals.items()}
        if self.coding is not None:
            found["coding"] = _coding_plain(self.coding)
        if self.actions_done:
            found["actions_done"] = [list(action) for action in self.actions_done]
        return found

    @classmethod
    def from_plain(cls, raw: Mapping[str, Any]) -> CaseFacts | None:
        """Read the plain form back; None for `{}` (a case with nothing to count)."""
        if not raw:
            return None
        return cls(
            received=date.fromisoformat(raw["received"]),
            orgs={**raw["involved"], **raw.get("others", {})},
            involved=tuple(raw["involved"]),
            acknowledged=_day(raw.get("acknowledged")),
            response_period=_day(raw.get("response_period")),
            longer_period_until=_day(raw.get("longer_period_until")),
            longer_period_agreed_on=_day(raw.get("longer_period_agreed_on")),
            final_response=_day(raw.get("final_response")),
            partial_response=_day(raw.get("partial_response")),
            delay_letter=_day(raw.get("delay_letter")),
            closed=_day(raw.get("closed")),
            closure=ClosureReason(raw["closure"]) if "closure" in raw else None,
            strands=tuple(map(_strand, raw.get("strands", ()))),
            impasse=_impasse(raw["impasse"]) if "impasse" in raw else None,
            outcomes={org: Outcome(value) for org, value in raw.get("outcomes", {}).items()},
            referrals={org: tuple(map(Ombudsman, found)) for org, found in raw.get("referrals", {}).items()},
            coding=_coding(raw["coding"]) if "coding" in raw else None,
            actions_done=tuple((owner, description) for owner, description in raw.get("actions_done", ())),
        )


def facts(case: Case) -> dict[str, Any]:
    """The report facts of a case, as its summary keeps them (`{}`: nothing to count)."""
    found = CaseFacts.of(case)
    return found.to_plain() if found is not None else {}


def received_and_closed(plain: Mapping[str, Any]) -> tuple[date, date | None]:
    """The days of receipt and closure of a case's plain facts, read without the rest: enough to
    tell whether the case can count for a period."""
    return date.fromisoformat(plain["received"]), _day(plain.get("closed"))


def _on(at: datetime | None) -> date | None:
    return london_date(at) if at is not None else None


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text is not None else None


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def _impasse_plain(impasse: ImpasseFacts) -> dict[str, Any]:
    found: dict[str, Any] = {"raised": impasse.raised.isoformat(), "step": impasse.step}
    return found | ({"resolved": impasse.resolved.isoformat()} if impasse.resolved else {})


def _coding_plain(coding: Coding) -> dict[str, Any]:
    found: dict[str, Any] = {
        "subjects": list(coding.subjects),
        "service_areas": list(coding.service_areas),
        "professions": list(coding.professions),
        "age_band": coding.age_band,
        "complainant_status": coding.complainant_status,
    }
    return found | ({"site": coding.site} if coding.site else {})


def _strand(raw: list[Any]) -> StrandFacts:
    org, target, answered = raw
    return StrandFacts(org, date.fromisoformat(target), _day(answered))


def _impasse(raw: Mapping[str, Any]) -> ImpasseFacts:
    return ImpasseFacts(date.fromisoformat(raw["raised"]), raw["step"], _day(raw.get("resolved")))


def _coding(raw: Mapping[str, Any]) -> Coding:
    return Coding(
        service_areas=tuple(raw["service_areas"]),
        subjects=tuple(raw["subjects"]),
        professions=tuple(raw["professions"]),
        age_band=raw["age_band"],
        complainant_status=raw["complainant_status"],
        site=raw.get("site", ""),
    )
