"""The report: how the complaints of a period went, for the team, the annual report (regs 17 and 18)
and the KO41a return (DOMAIN.md sections 3 and 4).

    cases = load_facts(service)            every case's report facts, from the store's index
    figures = compute(cases, scope, today)  plain and JSON-able: `jointly report --format json`
    rows(figures)                           the same as labelled rows, for CSV and tables (report_render)

No case file is opened: each case's summary carries its report facts (`flows.facts`), so 50,000
cases are counted from memory. A summary written before facts were kept has none; that case is
read and folded instead, so an older store reports the same figures, only more slowly.

The counting rules, in one place:

- The period holds the cases *received* in it (London day of receipt). Open cases by age are the
  cases open at the period's end (or today, if sooner), whenever they were received.
- A case merged into another is counted as that other case; an oral complaint resolved by the end
  of the next working day is outside the formal process (reg 8). Both are left out of every figure
  and shown under `excluded`. Destroyed records (10 years after closure) are gone.
- Something still to come is "awaiting" until its date has passed (as at today), then late.
- `--org` narrows everything to one organisation's part: the cases it was involved in (not
  signposted), its strands, its outcome, its referrals, its actions.
- KO41a counts, for one organisation (the running one unless `--org`), each complaint it handled a
  part of (involved, not signposted) once in the total and under every subject, service area and
  profession it touches. A case passed on counts for the body it went to, not for the one that
  passed it on, which is no longer involved.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.service import CaseService
from flows import ko41a
from flows.calendar import ACKNOWLEDGEMENT_WORKING_DAYS, add_working_days, response_due, working_days_between
from flows.facts import CaseFacts, facts, received_and_closed
from flows.model import ClosureReason, Ombudsman, Outcome

AGE_BANDS: tuple[tuple[str, int | None], ...] = (
    ("0-20", 20), ("21-40", 40), ("41-65", 65), ("66-130", 130), (">130", None),
)  # fmt: skip
WELL_FOUNDED = frozenset({Outcome.UPHELD, Outcome.PARTLY_UPHELD})
EXCLUDED = (ClosureReason.MERGED, ClosureReason.RESOLVED_INFORMALLY)
OUTCOMES: tuple[tuple[str, str], ...] = (
    (Outcome.UPHELD.value, "Upheld"),
    (Outcome.PARTLY_UPHELD.value, "Partly upheld"),
    (Outcome.NOT_UPHELD.value, "Not upheld"),
    ("undecided", "Not yet decided"),
)
KO41A_LISTS: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = (
    ("subjects", "Subject", ko41a.SUBJECTS),
    ("service_areas", "Service area", ko41a.SERVICE_AREAS),
    ("professions", "Profession", ko41a.PROFESSIONS),
    ("age_bands", "Age band", ko41a.AGE_BANDS),
    ("complainant_status", "Complainant", ko41a.COMPLAINANT_STATUS),
    ("outcomes", "Outcome", OUTCOMES),
)


@dataclass(frozen=True)
class Scope:
    """What the report covers: cases received from `start` to `end` (London days, inclusive), all
    of them or `org`'s part; KO41a for `org`, else for `home_org` (the running organisation)."""

    start: date
    end: date
    home_org: str
    org: str | None = None
    names: Mapping[str, str] | None = None  # organisation id -> name, for labels

    @classmethod
    def reporting_year(cls, day: date, home_org: str, org: str | None = None) -> Scope:
        """The year to 31 March that contains `day`."""
        first = day.year if day.month >= 4 else day.year - 1
        return cls(date(first, 4, 1), date(first + 1, 3, 31), home_org, org)

    @property
    def ko41a_org(self) -> str:
        return self.org or self.home_org


def load_facts(service: CaseService) -> list[Mapping[str, Any]]:
    """Every case's report facts in their plain form (`flows.facts`), by reference, from the
    store's index (its own objects: read-only). A summary from before facts were kept means
    folding that case. Destroyed records, and cases with nothing to count, are skipped."""
    found: list[Mapping[str, Any]] = []
    for s in sorted(service.store.summaries(), key=lambda s: s.stream):
        if not s.stream.startswith("JC-") or s.summary.get("destroyed"):
            continue
        kept = s.summary.get("facts")
        plain = facts(service.load(s.stream)) if kept is None else kept
        found.extend([plain] if plain else [])
    return found


def compute(cases: Iterable[Mapping[str, Any]], scope: Scope, today: date) -> dict[str, Any]:
    """All the figures, as a plain dict (documented in the README under "Reports"), from the cases'
    plain report facts (`load_facts`)."""
    as_of = min(scope.end, today)
    names = dict(scope.names or {})
    counted: list[CaseFacts] = []
    excluded = Counter[str]()
    for case in _that_can_count(cases, scope, as_of):
        names.update({org: name for org, name in case.orgs.items() if org not in names})
        if case.closure not in EXCLUDED:
            counted.append(case)
        elif _in(case, scope) and (scope.org is None or scope.org in case.involved):
            excluded[case.closure.value] += 1
    part = [c for c in counted if scope.org is None or scope.org in c.involved]
    period = [c for c in part if _in(c, scope)]
    return {
        "period": {
            "from": scope.start.isoformat(),
            "to": scope.end.isoformat(),
            "reporting_year": _is_reporting_year(scope),
            "today": today.isoformat(),
        },
        "organisation": {"id": scope.org, "name": names.get(scope.org, scope.org)} if scope.org else None,
        "cases": len(period),
        "excluded": {reason.value: excluded[reason.value] for reason in EXCLUDED},
        "acknowledgements": acknowledgements(period, today),
        "responses": responses(period, today),
        "delay_letters": delay_letters(period, today),
        "contributions": contributions(period, scope.org, names, today),
        "impasses": impasses(period),
        "open_by_age": open_by_age(part, as_of),
        "annual": annual(period, scope.org),
        "ko41a": ko41a_counts([c for c in counted if _in(c, scope)], scope.ko41a_org, names),
    }


def acknowledgements(cases: Sequence[CaseFacts], today: date) -> dict[str, Any]:
    """Sent by the 3rd working day after the London day of receipt (reg 13(3))."""
    on_time = late = awaiting = 0
    for case in cases:
        due = add_working_days(case.received, ACKNOWLEDGEMENT_WORKING_DAYS)
        if case.acknowledged is not None and case.acknowledged <= due:
            on_time += 1
        elif case.acknowledged is not None or due < today:
            late += 1
        else:
            awaiting += 1
    return {
        "on_time": on_time,
        "late": late,
        "awaiting": awaiting,
        "percent_on_time": _pct(on_time, on_time + late),
    }


def responses(cases: Sequence[CaseFacts], today: date) -> dict[str, Any]:
    """Final responses against the period agreed with (or set for) the person, and against the
    statutory period: six months, or a longer period agreed in time (reg 14)."""
    answered = [(c, c.final_response) for c in cases if c.final_response is not None]
    promised = [(on, c.response_period) for c, on in answered if c.response_period is not None]
    in_period = sum(1 for on, due in promised if on <= due)
    in_time = sum(1 for c, on in answered if on <= _statutory_due(c))
    overdue = sum(
        1 for c in cases if c.closed is None and _responded_on(c) is None and _statutory_due(c) < today
    )
    return {
        "sent": len(answered),
        "with_response_period": len(promised),
        "within_response_period": in_period,
        "percent_within_response_period": _pct(in_period, len(promised)),
        "within_statutory_period": in_time,
        "percent_within_statutory_period": _pct(in_time, len(answered)),
        "overdue_without_response": overdue,
    }


def delay_letters(cases: Sequence[CaseFacts], today: date) -> dict[str, Any]:
    """The six-month letter is needed when nothing was answered by the statutory date: the case was
    answered (or closed, or is still open today) after it."""
    needed = [c for c in cases if _stopped_on(c, today) > _statutory_due(c)]
    sent_when_needed = sum(1 for c in needed if c.delay_letter is not None)
    return {
        "needed": len(needed),
        "sent_when_needed": sent_when_needed,
        "percent_sent_when_needed": _pct(sent_when_needed, len(needed)),
        "sent": sum(1 for c in cases if c.delay_letter is not None),
    }


def contributions(
    cases: Sequence[CaseFacts], org: str | None, names: Mapping[str, str], today: date
) -> list[dict[str, Any]]:
    """Each organisation's strand responses against their target dates (the last target agreed)."""
    late_by: dict[str, list[int]] = {}
    tally: dict[str, Counter[str]] = {}
    for case in cases:
        for strand in case.strands:
            if org is not None and strand.org != org:
                continue
            counts = tally.setdefault(strand.org, Counter())
            days = late_by.setdefault(strand.org, [])
            if strand.answered is not None:
                late = working_days_between(strand.target, strand.answered)
                counts["on_time" if late <= 0 else "late"] += 1
                days.extend([late] if late > 0 else [])
            elif case.closed is None and strand.target < today:
                counts["overdue"] += 1
    return [
        {
            "org": org_id,
            "name": names.get(org_id, org_id),
            "received": counts["on_time"] + counts["late"],
            "on_time": counts["on_time"],
            "late": counts["late"],
            "percent_on_time": _pct(counts["on_time"], counts["on_time"] + counts["late"]),
            "median_working_days_late": _median(late_by[org_id]),
            "overdue": counts["overdue"],
        }
        for org_id, counts in sorted(tally.items(), key=lambda item: names.get(item[0], item[0]))
    ]


def impasses(cases: Sequence[CaseFacts]) -> dict[str, Any]:
    """The ladder: step 1 senior managers, step 2 the partial response, step 3 the Ombudsman."""
    raised = [c.impasse for c in cases if c.impasse is not None]
    days = [working_days_between(i.raised, i.resolved) for i in raised if i.resolved is not None]
    return {
        "step_1": len(raised),
        "step_2": sum(1 for i in raised if i.step >= 2),
        "step_3": sum(1 for i in raised if i.step >= 3),
        "resolved": len(days),
        "median_working_days_to_resolve": _median(days),
    }


def open_by_age(cases: Sequence[CaseFacts], as_of: date) -> dict[str, Any]:
    """Cases received by `as_of` and not closed by then, by working days since receipt."""
    bands = Counter[str]()
    for case in cases:
        if case.received > as_of or (case.closed is not None and case.closed <= as_of):
            continue
        age = working_days_between(case.received, as_of)
        bands[next(name for name, upto in AGE_BANDS if upto is None or age <= upto)] += 1
    return {
        "as_of": as_of.isoformat(),
        "total": sum(bands.values()),
        "bands": [{"band": name, "count": bands[name]} for name, _ in AGE_BANDS],
    }


def annual(cases: Sequence[CaseFacts], org: str | None) -> dict[str, Any]:
    """Reg 18's annual figures: received, well-founded, referred to the Ombudsmen, themes, actions."""
    outcomes = [_outcomes(c, org) for c in cases]
    decided = sum(1 for found in outcomes if found)
    well_founded = sum(1 for found in outcomes if found & WELL_FOUNDED)
    referred = [_referrals(c, org) for c in cases]
    themes = Counter(s for c in cases if c.coding for s in c.coding.subjects)
    done = [what for c in cases for owner, what in c.actions_done if org in (None, owner)]
    return {
        "received": len(cases),
        "decided": decided,
        "well_founded": well_founded,
        "percent_well_founded": _pct(well_founded, decided),
        "referred": sum(1 for found in referred if found),
        "referred_phso": sum(1 for found in referred if Ombudsman.PHSO in found),
        "referred_lgsco": sum(1 for found in referred if Ombudsman.LGSCO in found),
        "themes": _ranked(themes, ko41a.SUBJECTS),
        "not_coded": sum(1 for c in cases if c.coding is None),
        "actions_completed": len(done),
        "actions": _actions(done),
    }


def ko41a_counts(cases: Sequence[CaseFacts], org: str, names: Mapping[str, str]) -> dict[str, Any]:
    """KO41a for `org`: the complaints it handled a part of, each once in the total and under every
    code it touches; the outcome is `org`'s own."""
    handled = [c for c in cases if org in c.involved]
    tallies: dict[str, Counter[str]] = {key: Counter() for key, _, _ in KO41A_LISTS}
    sites = Counter[str]()
    for case in handled:
        outcome = case.outcomes.get(org)
        tallies["outcomes"][outcome.value if outcome else "undecided"] += 1
        coding = case.coding
        if coding is None:
            continue
        for key, codes in (
            ("subjects", coding.subjects),
            ("service_areas", coding.service_areas),
            ("professions", coding.professions),
            ("age_bands", (coding.age_band,)),
            ("complainant_status", (coding.complainant_status,)),
        ):
            tallies[key].update(set(codes))
        sites.update([coding.site] if coding.site else [])
    found: dict[str, Any] = {"org": org, "name": names.get(org, org), "total": len(handled)}
    found["not_coded"] = sum(1 for c in handled if c.coding is None)
    for key, _, options in KO41A_LISTS:  # every code of the return, then any no longer on its lists
        retired = sorted(set(tallies[key]) - {code for code, _ in options})
        listed = [*options, *((code, code) for code in retired)]
        found[key] = [{"code": code, "label": label, "count": tallies[key][code]} for code, label in listed]
    found["sites"] = [{"site": site, "count": n} for site, n in sorted(sites.items())]
    return found


# --- the same figures as rows: CSV, and the terminal's tables --------------------------------------


# --- small helpers -----------------------------------------------------------------------------


def _that_can_count(cases: Iterable[Mapping[str, Any]], scope: Scope, as_of: date) -> Iterator[CaseFacts]:
    """The cases received in the period or not closed by `as_of` (the open cases by age), read in
    full; the others (most of a store that keeps ten years) are passed over on two dates."""
    for plain in (found for found in cases if found):  # `{}`: nothing to count
        received, closed = received_and_closed(plain)
        if scope.start <= received <= scope.end or closed is None or closed > as_of:
            case = CaseFacts.from_plain(plain)
            yield from [case] if case is not None else []


def _in(case: CaseFacts, scope: Scope) -> bool:
    return scope.start <= case.received <= scope.end


def _is_reporting_year(scope: Scope) -> bool:
    return (scope.start.month, scope.start.day, scope.end.month, scope.end.day) == (4, 1, 3, 31) and (
        scope.end.year == scope.start.year + 1
    )


def _statutory_due(case: CaseFacts) -> date:
    return response_due(case.received, case.longer_period_until, case.longer_period_agreed_on)


def _responded_on(case: CaseFacts) -> date | None:
    """The day of the final response or, failing one, of the partial response (impasse step 2)."""
    return case.final_response or case.partial_response


def _stopped_on(case: CaseFacts, today: date) -> date:
    """When the statutory clock stopped: the response, else the closure, else it still runs."""
    return _responded_on(case) or case.closed or today


def _outcomes(case: CaseFacts, org: str | None) -> set[Outcome]:
    if org is None:
        return set(case.outcomes.values())
    return {case.outcomes[org]} if org in case.outcomes else set()


def _referrals(case: CaseFacts, org: str | None) -> set[Ombudsman]:
    return {o for org_id, found in case.referrals.items() if org in (None, org_id) for o in found}


def _ranked(counts: Counter[str], options: tuple[tuple[str, str], ...]) -> list[dict[str, Any]]:
    order = {code: n for n, (code, _) in enumerate(options)}
    ranked = sorted(counts.items(), key=lambda item: (-item[1], order.get(item[0], len(order)), item[0]))
    return [{"code": code, "label": ko41a.label(options, code), "count": n} for code, n in ranked]


def _actions(descriptions: Iterable[str]) -> list[dict[str, Any]]:
    """Completed actions grouped by what they were (the same words, case and spacing aside)."""
    shown: dict[str, str] = {}
    counts = Counter[str]()
    for description in descriptions:
        key = " ".join(description.split()).casefold()
        shown.setdefault(key, " ".join(description.split()))
        counts[key] += 1
    return [
        {"description": shown[k], "count": n} for k, n in sorted(counts.items(), key=lambda i: (-i[1], i[0]))
    ]


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _median(values: Sequence[int]) -> float | None:
    return round(float(statistics.median(values)), 1) if values else None
