"""The oracle's core: the `Policy` judged, a check's `Tally`, reading the store and the record
(`_RunBase`: the run's cases, letters by case, cycles and arrivals, and the letters to the person),
and the helpers every check shares (moments in London time, the six-month point, the day whose
reminders are due)."""

from __future__ import annotations

import re
from bisect import bisect_left
from calendar import monthrange
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.sim.calendar import london, london_date
from bench.sim.record import Arrival, Letter, Record

REF = re.compile(r"\((JC-\d{6}-[A-Z2-7]+)\)\s*$")
ACK_SUBJECT = "We have received your complaint ({ref})"
UPDATE_SUBJECT = "An update on your complaint ({ref})"
WRITTEN_RECORD_SUBJECT = "Our written record of your complaint ({ref})"
DELAY_SUBJECT = "Why our response is taking longer ({ref})"
FINAL_SUBJECT = "Final response to your complaint ({ref})"
PARTIAL_SUBJECT = "Our response to your complaint ({ref})"  # impasse step 2
SIGNPOST_SUBJECT = "Taking your complaint to the Ombudsman ({ref})"  # impasse step 3
ALERT_WORDS = "the organisations cannot agree:"  # the senior managers' notice of an impasse (step 1)
ALERT_SUBJECT = "Joint complaint needs senior attention ("  # the same, as a letter
CLOSED = ("CaseClosed", "CaseDestroyed")
KINDS = ("missed", "late", "duplicated", "wrong")


@dataclass(frozen=True)
class Policy:
    """The rules judged, in working days (the product's `[clocks]` defaults)."""

    acknowledge_within: int = 3
    offsets: tuple[int, ...] = (5, 1)  # before the target; "on the day" is always a step
    overdue_every: int = 2
    overdue_reminders: int = 3  # at `overdue_every`, then weekly
    weekly_every: int = 5
    start_hour: int = 8  # a day's reminders are due from this hour, London time
    examples: int = 5  # examples kept per problem kind and check
    grace: timedelta = timedelta(minutes=5)  # arrivals this near the run's last cycle are not judged
    handler_allowance: int = 2  # working days for a handler to act once the assistant reminds them
    alert_within: int = 1  # working days after the cycle that queued an impasse's alerts (retries)


@dataclass
class Tally:
    """One check's counts, and its first examples of each problem."""

    limit: int = 5
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(("expected", "ok", *KINDS), 0))
    examples: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    not_judged: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def expect(self, n: int = 1) -> None:
        self.counts["expected"] += n

    def ok(self, n: int = 1) -> None:
        self.counts["ok"] += n

    def problem(self, kind: str, ref: str, what: str, expected: Any = None, got: Any = None) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + 1
        if len(self.examples[kind]) < self.limit:
            self.examples[kind].append(
                {"ref": ref, "what": what, "expected": _plain(expected), "got": _plain(got)}
            )

    def skip(self, reason: str, n: int = 1) -> None:
        self.not_judged[reason] = self.not_judged.get(reason, 0) + n

    def plain(self) -> dict[str, Any]:
        return {
            **self.counts,
            "not_judged": dict(self.not_judged),
            "examples": {k: v for k, v in self.examples.items() if v},
            **({"notes": list(self.notes)} if self.notes else {}),
        }


def read_store(store_dir: Path) -> dict[str, list[dict[str, Any]]]:
    """Every stream's events, as plain dicts, read-only (the run's writer may be gone or not)."""
    from store.store import Store

    store = Store.open(Path(store_dir), readonly=True)
    try:
        return {s.stream: list(store.load(s.stream).events) for s in store.summaries()}
    finally:
        store.close()


# --- reading -------------------------------------------------------------------------------------


def _when(value: Any) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return london(moment)


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _mid(message_id: str) -> str:
    return message_id.strip().strip("<>").strip().lower()


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return london(value).isoformat(timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in value]
    return value


def reminder_day(moment: datetime, start_hour: int) -> date:
    """The day whose reminders are due at `moment`: before the start hour, still the day before."""
    local = london(moment)
    return local.date() if local.hour >= start_hour else local.date() - timedelta(days=1)


def six_month_point(received: date) -> date:
    """The last day of "six months beginning on the day of receipt" (reg 14): the day before the
    same date six months on or, when that month has no such date (31 August), its last day."""
    index = received.year * 12 + received.month - 1 + 6
    year, month = divmod(index, 12)
    last = monthrange(year, month + 1)[1]
    if received.day > last:
        return date(year, month + 1, last)
    return date(year, month + 1, received.day) - timedelta(days=1)


def ref_of(letter: Letter) -> str | None:
    found = REF.search(letter.subject)
    return found.group(1) if found else None


@dataclass(frozen=True)
class Step:
    day: date
    label: str


class _RunBase:
    """A run, read: what the checks (the mixins of `bench.sim.oracle._Run`) look at."""

    def __init__(self, record: Record, policy: Policy, cases: dict[str, list[dict[str, Any]]]) -> None:
        self.record, self.policy = record, policy
        self.cases = {ref: events for ref, events in cases.items() if ref.startswith("JC-")}
        self.others = {ref for ref in cases if not ref.startswith("JC-")}
        self.cycles = sorted(london(c) for c in record.cycles)
        self.last_cycle = self.cycles[-1] if self.cycles else None
        self.end_day = london_date(record.end)
        self.by_ref: dict[str, list[Letter]] = defaultdict(list)
        self.unreferenced: list[Letter] = []
        for letter in sorted(record.letters, key=lambda x: x.order):
            ref = ref_of(letter)
            (self.by_ref[ref] if ref else self.unreferenced).append(letter)
        self.org_of: dict[str, set[str]] = defaultdict(set)
        for org, addresses in record.org_emails.items():
            for address in addresses:
                self.org_of[address.lower()].add(org)
        self.complaint_ref: dict[int, str] = {}  # simulated complaint -> its case
        self.opened_by: dict[str, list[str]] = defaultdict(list)  # complaint message id -> cases
        self.messages: dict[str, list[str]] = defaultdict(list)  # message id -> cases it is on
        for ref, events in self.cases.items():
            for e in events:
                if e["type"] == "ComplaintReceived" and e.get("message_id"):
                    self.opened_by[_mid(e["message_id"])].append(ref)
                elif e["type"] == "MessageReceived" and e.get("message_id"):
                    self.messages[_mid(e["message_id"])].append(ref)
        self.arrival_of: dict[str, Arrival] = {}
        for arrival in record.arrivals:
            if arrival.kind == "complaint":
                self.arrival_of[_mid(arrival.message_id)] = arrival
                refs = self.opened_by.get(_mid(arrival.message_id), [])
                if len(refs) == 1:
                    self.complaint_ref[arrival.complaint] = refs[0]

    def tally(self) -> Tally:
        return Tally(limit=self.policy.examples)

    def first_cycle(self, at_or_after: datetime, before: datetime | None) -> datetime | None:
        i = bisect_left(self.cycles, at_or_after)
        if i == len(self.cycles):
            return None
        found = self.cycles[i]
        return found if before is None or found <= before else None

    def to_person(self, ref: str, events: list[dict[str, Any]], *subjects: str) -> list[Letter]:
        """The letters on `ref` with one of `subjects` (templates of `ref`) to the person, by time."""
        opened = next((e for e in events if e["type"] == "ComplaintReceived"), None)
        person = (opened or {}).get("complainant", {}).get("email", "").lower()
        wanted = {s.format(ref=ref) for s in subjects}
        found = [
            x for x in self.by_ref.get(ref, []) if x.subject in wanted and (not person or person in x.to)
        ]
        return sorted(found, key=lambda x: (london(x.sent), x.order))

    def period_end(self, events: list[dict[str, Any]], received: date) -> date:
        """The six-month point, or the end of a longer period agreed with the person on or before it."""
        point = end = six_month_point(received)
        for e in events:
            if e["type"] == "LongerPeriodAgreed" and _day(e["agreed_on"]) <= point < _day(e["until"]):
                end = _day(e["until"])
        return end


def _standing(events: Iterable[dict[str, Any]], at: datetime | None) -> tuple[set[str], dict[str, bool]]:
    """At `at` (None: the end), the organisations involved (identified, not signposted) and whether
    each one's consent was last given."""
    involved: set[str] = set()
    consent: dict[str, bool] = {}
    for e in events:
        if at is not None and _when(e["at"]) > at:
            break
        kind = e["type"]
        if kind == "ComplaintReceived":
            involved = {e.get("home_org", {}).get("id", "")}
        elif kind == "OrganisationsIdentified":
            involved = {o["id"] for o in e["orgs"]}
        elif kind == "OrganisationsSignposted":
            involved -= set(e["org_ids"])
        elif kind in ("ConsentGiven", "ConsentRefused", "ConsentWithdrawn"):
            consent.update(dict.fromkeys(e["org_ids"], kind == "ConsentGiven"))
    return involved, consent
