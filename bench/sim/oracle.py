"""An independent judge of a simulated run: what must have happened, from what people did.

`judge(record, policy)` reads the store's events as plain dicts (what people answered: strands
and their targets, contributions, consent), the mailbox's arrivals, the moments the assistant was
up (`record.cycles`) and every letter the SMTP server took, and computes every expected date
itself, with its own calendar (`bench.sim.calendar`): nothing of `flows`' date code is used.

Checks (each a `Tally`: expected, ok, missed, late, duplicated, wrong, not_judged, with the first
few examples of each problem):

- `acknowledgement`: each case opened from a complaint email has one acknowledgement letter to
  the person, dated by the 3rd working day after the London calendar day of receipt.
- `contribution_reminders`: each strand's contributor reminders, step by step (5 and 1 working
  days before the target, on the day, then every 2 working days overdue, weekly after 3 of those),
  once each, on the step's day or, when the assistant was not up on it, at its next cycle.
- `letters_once`: no Message-ID twice; no letter twice to a recipient on a case (the same day for
  subjects that repeat over time).
- `cases`: every complaint email on exactly one case; every reply on its complaint's case.
- `consent`: nothing to another organisation on a case outside its consent.
- `updates`: the person's update letters at the agreed frequency until the response.
- `six_month`: the letter explaining the delay, when no response went within six months
  beginning on the day of receipt (or a longer period agreed in time), reg 14.
- `impasse_steps`: each impasse's ladder: senior managers told, then the partial response and the
  Ombudsman signposting when it was not resolved (DOMAIN.md section 2, step 13).

`report_check(record, report)` compares the product's own `jointly report` figures with the same
figures counted here.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from calendar import monthrange
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.sim.calendar import (
    add_working_days,
    london,
    london_at,
    london_date,
    working_day_on_or_before,
    working_days_between,
)
from bench.sim.record import Arrival, Letter, Record

REF = re.compile(r"\((JC-\d{6}-[A-Z2-7]+)\)\s*$")
STRAND = re.compile(r"the response on strand ([A-Za-z0-9_.-]+?)(?=[ ,.]|$)")
ACK_SUBJECT = "We have received your complaint ({ref})"
UPDATE_SUBJECT = "An update on your complaint ({ref})"
WRITTEN_RECORD_SUBJECT = "Our written record of your complaint ({ref})"
DELAY_SUBJECT = "Why our response is taking longer ({ref})"
FINAL_SUBJECT = "Final response to your complaint ({ref})"
PARTIAL_SUBJECT = "Our response to your complaint ({ref})"  # impasse step 2
SIGNPOST_SUBJECT = "Taking your complaint to the Ombudsman ({ref})"  # impasse step 3
ALERT_WORDS = "the organisations cannot agree:"  # the senior managers' notice of an impasse (step 1)
ALERT_SUBJECT = "Joint complaint needs senior attention ("  # the same, as a letter
ONCE_ONLY = (  # subjects a recipient gets at most once per case, whatever the day
    "We have received your complaint (",
    "Final response to your complaint (",
    "Our written record of your complaint (",
    "The actions to put things right are done (",
)
CLOSED = ("CaseClosed", "CaseDestroyed")
CASE_ENDS = frozenset(
    {"DraftRecorded", "FinalResponseSent", "PartialResponseSent", "CaseClosed", "CaseDestroyed"}
)
RESPONSE_ENDS = frozenset({"FinalResponseSent", "PartialResponseSent", "CaseClosed", "CaseDestroyed"})
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


def judge(
    record: Record, policy: Policy | None = None, cases: dict[str, list[dict[str, Any]]] | None = None
) -> dict[str, Any]:
    """The findings on `record` (a JSON-able dict). `cases` (reference -> event dicts) replaces
    reading `record.store_dir`, for callers that have them already."""
    policy = policy or Policy()
    run = _Run(record, policy, cases if cases is not None else read_store(record.store_dir))
    checks = {
        "acknowledgement": run.acknowledgements(),
        "contribution_reminders": run.contribution_reminders(),
        "letters_once": run.letters_once(),
        "cases": run.no_case_lost(),
        "consent": run.consent(),
        "updates": run.updates(),
        "six_month": run.six_month(),
        "impasse_steps": run.impasse_steps(),
    }
    plain = {name: tally.plain() for name, tally in checks.items()}
    timely = ("acknowledgement", "contribution_reminders", "updates", "six_month", "impasse_steps")
    totals = {
        "missed": sum(plain[n]["missed"] for n in timely),
        "duplicated": sum(
            plain[n]["duplicated"]
            for n in (
                "acknowledgement",
                "contribution_reminders",
                "letters_once",
                "cases",
                "six_month",
                "impasse_steps",
            )
        ),
        "lost": plain["cases"]["missed"],
        "late": sum(plain[n]["late"] for n in timely),
        "consent_breaches": plain["consent"]["wrong"],
        "wrong": sum(plain[n]["wrong"] for n in plain if n != "consent"),
    }
    return {
        "checks": plain,
        "totals": totals,
        "problems": sum(totals.values()),
        "cases": len(run.cases),
        "letters": len(record.letters),
        "unreferenced_letters": len(run.unreferenced),
    }


def report_check(
    record: Record,
    report: dict[str, Any],
    policy: Policy | None = None,
    cases: dict[str, list[dict[str, Any]]] | None = None,
) -> Tally:
    """The product's own figures (`bot.report.compute`, as `jointly report --format json` prints
    them for the run's period) against the same figures counted here from the letters and the
    people's answers: 'wrong' for each figure that differs, with both values."""
    policy = policy or Policy()
    run = _Run(record, policy, cases if cases is not None else read_store(record.store_dir))
    return run.report(report)


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


class _Run:
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

    # --- 1. acknowledgement ------------------------------------------------------------------

    def acknowledgements(self) -> Tally:
        t = self.tally()
        # a complaint made again in a new email that opened a case is acknowledged as a complaint
        again = {_mid(a.message_id): a for a in self.record.arrivals if a.kind == "again_new"}
        for ref, events in self.cases.items():
            opened = next((e for e in events if e["type"] == "ComplaintReceived"), None)
            key = _mid(opened.get("message_id", "")) if opened else ""
            if opened is None or key not in self.arrival_of and key not in again:
                t.skip("not opened from a complaint email of the run")
                continue
            arrival = self.arrival_of.get(key) or again[key]
            person = self.record.complainants.get(arrival.complaint) or opened.get("complainant", {}).get(
                "email", ""
            )
            received = london_date(arrival.at)
            due = add_working_days(received, self.policy.acknowledge_within)
            subject = ACK_SUBJECT.format(ref=ref)
            sent = [x for x in self.by_ref.get(ref, []) if x.subject == subject and person.lower() in x.to]
            if not sent:
                closed = next((e for e in events if e["type"] in ("CaseClosed", "CaseDestroyed")), None)
                other = next((e for e in events if e["type"] == "Acknowledged"), None)
                if due > self.end_day:
                    t.skip("due after the run's end")
                elif other is not None:
                    t.skip("acknowledged by other means (no letter)")
                elif closed is not None and london_date(_when(closed["at"])) <= due:
                    t.skip("closed before the acknowledgement was due")
                else:
                    t.expect()
                    t.problem("missed", ref, "no acknowledgement letter", due, None)
                continue
            t.expect()
            first = min(sent, key=lambda x: x.sent)
            day = london_date(first.sent)
            if len(sent) > 1:
                t.problem(
                    "duplicated",
                    ref,
                    f"{len(sent)} acknowledgement letters",
                    1,
                    [london_date(x.sent) for x in sent],
                )
            if day > due:
                t.problem("late", ref, "acknowledgement after the 3rd working day after receipt", due, day)
            elif len(sent) == 1:
                t.ok()
        return t

    # --- 2. contributor reminders ------------------------------------------------------------

    def steps(self, target: date, until: date) -> Iterator[Step]:
        """The schedule of a target, in order, up to `until` (the last step may pass it)."""
        p = self.policy
        on_the_day = working_day_on_or_before(target)
        seen: set[date] = set()
        for offset in sorted((o for o in p.offsets if o > 0), reverse=True):
            day = add_working_days(target, -offset)
            if day < on_the_day and day not in seen:
                seen.add(day)
                yield Step(day, f"-{offset}")
        yield Step(on_the_day, "0")
        k, day, fast = 0, target, p.overdue_every * p.overdue_reminders
        while True:
            gap = p.overdue_every if k < fast else p.weekly_every
            k, day = k + gap, add_working_days(day, gap)  # from the last step: a working day
            yield Step(day, f"+{k}")
            if day > until:
                return

    def contribution_reminders(self) -> Tally:
        t = self.tally()
        t.notes.append(
            "A letter counts for the latest step on or before its day (before 08:00 London, the day "
            "before); 'late': sent on a later day than the cycle that should have sent it; 'wrong': "
            "sent after the contribution (or the end of the clock), or for no step expected."
        )
        chat = self.record.chat_orgs
        for ref, events in self.cases.items():
            for strand in _strands(ref, events, self.record.home):
                if strand.unjudged:
                    t.skip(strand.unjudged)
                    continue
                if strand.org_id in chat:
                    t.skip("its contacts are reminded in chat, not by email")
                    continue
                self.judge_strand(t, ref, strand)
        return t

    def judge_strand(self, t: Tally, ref: str, strand: _Strand) -> None:
        addresses = {a.lower() for a in self.record.org_emails.get(strand.org_id, ())}
        letters = [
            x
            for x in self.by_ref.get(ref, [])
            if addresses.intersection(x.to) and strand.id in _strands_named(x)
        ]
        hour = self.policy.start_hour
        for n, (target, start, end) in enumerate(strand.schedules):
            until = self.end_day if end is None else london_date(end)
            steps = list(self.steps(target, until))
            expected: dict[Step, tuple[date, bool]] = {}  # step -> (the day due, whether optional)
            last: Step | None = None
            for step in steps:
                if last is not None and step.day <= last.day:
                    continue
                from_ = max(start, london(london_at(step.day, hour)))
                cycle = self.first_cycle(from_, end)
                while cycle is not None:
                    today = reminder_day(cycle, hour)
                    latest = _latest(steps, today)
                    if latest is None or (last is not None and latest.day <= last.day):
                        break
                    quiet = strand.quiet(cycle, latest.day, target)
                    if all(quiet):
                        cycle = self.first_cycle(london(london_at(today + timedelta(days=1), hour)), end)
                        continue
                    # a cycle at the very moment of the event that ends or quiets the clock may
                    # have run before it or after it: the step may go, or not
                    expected[latest] = (today, any(quiet) or (end is not None and cycle == end))
                    last = latest
                    break
            last_one = n + 1 == len(strand.schedules)
            mine = [x for x in letters if london(x.sent) >= start and (last_one or london(x.sent) < end)]
            self._compare(t, ref, strand, target, steps, expected, mine, end)

    def _compare(
        self,
        t: Tally,
        ref: str,
        strand: _Strand,
        target: date,
        steps: list[Step],
        expected: dict[Step, tuple[date, bool]],
        letters: list[Letter],
        end: datetime | None,
    ) -> None:
        hour = self.policy.start_hour
        what = f"strand {strand.id} ({strand.org_id}, due {target.isoformat()})"
        got: dict[Step, list[Letter]] = defaultdict(list)
        for letter in letters:
            if end is not None and london(letter.sent).replace(microsecond=0) > end.replace(microsecond=0):
                t.problem("wrong", ref, f"{what}: reminder after it was done", None, letter.sent)
                continue
            step = _latest(steps, reminder_day(letter.sent, hour))
            if step is None:
                t.problem("wrong", ref, f"{what}: reminder before any step", steps[0].day, letter.sent)
                continue
            got[step].append(letter)
        for step, (day, optional) in expected.items():
            sent = got.pop(step, [])
            if optional and not sent:
                t.skip("a step at the very moment its clock ended or was quietened, not sent")
                continue
            t.expect()
            if not sent:
                t.problem("missed", ref, f"{what}: step {step.label} not sent", day, None)
                continue
            kinds: dict[tuple[str, str], int] = defaultdict(int)
            for letter in sent:
                kind = "inbox" if letter.subject.startswith("Joint complaint:") else "notice"
                for address in letter.to:
                    kinds[(kind, address)] += 1
            first = min(reminder_day(x.sent, hour) for x in sent)
            problem = False
            if any(n > 1 for n in kinds.values()):
                problem = True
                days = sorted({london_date(x.sent) for x in sent})
                t.problem("duplicated", ref, f"{what}: step {step.label} sent twice", day, days)
            if first > day:
                problem = True
                t.problem("late", ref, f"{what}: step {step.label} late", day, first)
            if not problem:
                t.ok()
        for step, sent in got.items():
            t.problem("wrong", ref, f"{what}: step {step.label} not expected", None, [x.sent for x in sent])

    # --- 3. every letter once ------------------------------------------------------------------

    def letters_once(self) -> Tally:
        t = self.tally()
        t.notes.append(
            "Once per recipient and case: "
            + ", ".join(s.rstrip(" (") for s in ONCE_ONLY)
            + "; any other subject: not twice to a recipient on the same London day."
        )
        seen: dict[str, Letter] = {}
        for letter in sorted(self.record.letters, key=lambda x: x.order):
            t.expect()
            key = _mid(letter.message_id)
            if key in seen:
                t.problem(
                    "duplicated",
                    ref_of(letter) or "",
                    f"Message-ID {letter.message_id} twice",
                    seen[key].subject,
                    letter.subject,
                )
            else:
                seen[key] = letter
        for ref, letters in self.by_ref.items():
            first: dict[tuple[str, str, date | None], Letter] = {}
            for letter in letters:
                once = letter.subject.startswith(ONCE_ONLY)
                for address in letter.to:
                    key = (address, letter.subject, None if once else london_date(letter.sent))
                    if key in first and _mid(first[key].message_id) != _mid(letter.message_id):
                        t.problem(
                            "duplicated",
                            ref,
                            f"{letter.subject!r} to {address} twice",
                            london_date(first[key].sent),
                            london_date(letter.sent),
                        )
                    first.setdefault(key, letter)
        t.counts["ok"] = t.counts["expected"] - t.counts["duplicated"]
        return t

    # --- 4. no case lost or duplicated ---------------------------------------------------------

    def no_case_lost(self) -> Tally:
        t = self.tally()
        t.notes.append(
            "'missed': a complaint email on no case (lost); 'duplicated': on several; "
            "'wrong': a reply on another case, or opened as a case of its own."
        )
        for arrival in self.record.arrivals:
            key = _mid(arrival.message_id)
            if self.last_cycle is None or london(arrival.at) > self.last_cycle - self.policy.grace:
                t.skip("delivered after the run's last cycle")
                continue
            t.expect()
            opened = self.opened_by.get(key, [])
            if arrival.kind == "complaint":
                if len(opened) == 1:
                    t.ok()
                elif not opened:
                    t.problem(
                        "missed",
                        "",
                        f"complaint {arrival.complaint} ({arrival.message_id}) on no case",
                        "a case",
                        None,
                    )
                else:
                    t.problem(
                        "duplicated",
                        opened[0],
                        f"complaint {arrival.complaint} opened {len(opened)} cases",
                        1,
                        opened,
                    )
                continue
            home = self.complaint_ref.get(arrival.complaint)
            on = sorted(set(self.messages.get(key, [])))
            if arrival.kind == "again_new" and len(opened) == 1 and on == [home] and home is not None:
                t.ok()  # the same matter complained of again: its own case, merged into the first
            elif opened:
                t.problem(
                    "wrong",
                    opened[0],
                    f"{arrival.kind} {arrival.message_id} opened a case of its own",
                    home,
                    opened,
                )
            elif not on:
                t.problem("missed", home or "", f"{arrival.kind} {arrival.message_id} on no case", home, None)
            elif home is None:
                t.skip("its complaint's case is unknown")
            elif on != [home]:
                t.problem("wrong", home, f"{arrival.kind} {arrival.message_id} on another case", home, on)
            else:
                t.ok()
        return t

    # --- 5. consent ----------------------------------------------------------------------------

    def consent(self) -> Tally:
        t = self.tally()
        t.notes.append(
            "'wrong': a letter to another organisation's address outside that organisation's consent."
        )
        home = self.record.home
        for ref, letters in self.by_ref.items():
            events = self.cases.get(ref)
            if events is None:
                continue
            timeline: dict[str, list[tuple[datetime, bool]]] = defaultdict(list)
            for e in events:
                if e["type"] in ("ConsentGiven", "ConsentRefused", "ConsentWithdrawn"):
                    for org in e.get("org_ids", ()):
                        timeline[org].append((_when(e["at"]), e["type"] == "ConsentGiven"))
            for letter in letters:
                orgs = {o for a in letter.to for o in self.org_of.get(a, ()) if o != home}
                for org in sorted(orgs):
                    t.expect()
                    at = london(letter.sent)
                    state = [given for when, given in timeline.get(org, []) if when <= at]
                    if state and state[-1]:
                        t.ok()
                    else:
                        why = "before consent" if not state else "after consent was refused or withdrawn"
                        t.problem("wrong", ref, f"{letter.subject!r} to {org} {why}", "consent", at)
        return t

    # --- 6. update letters ---------------------------------------------------------------------

    def updates(self) -> Tally:
        t = self.tally()
        t.notes.append(
            "The first update is due the agreed number of working days after the named contact was "
            "set, each next one that many after the last update letter, until the response (final "
            "or partial) or closure; 'late' is sent after that day, 'missed' none by the end."
        )
        for ref, events in self.cases.items():
            opened = next((e for e in events if e["type"] == "ComplaintReceived"), None)
            person = (opened or {}).get("complainant", {}).get("email", "").lower()
            every = None
            anchor: date | None = None
            stop: datetime | None = None
            moments: list[tuple[datetime, str, Any]] = []
            for e in events:
                kind = e["type"]
                if kind == "UpdateFrequencySet":
                    moments.append((_when(e["at"]), "every", int(e["working_days"])))
                elif kind == "NamedContactSet":
                    moments.append((_when(e["at"]), "anchor", None))
                elif kind in RESPONSE_ENDS and stop is None:
                    stop = _when(e["at"])
            subject = UPDATE_SUBJECT.format(ref=ref)
            for letter in self.by_ref.get(ref, []):
                if letter.subject == subject and (not person or person in letter.to):
                    moments.append((london(letter.sent), "letter", None))
            if not any(k == "every" for _, k, _ in moments):
                continue
            moments.sort(key=lambda m: (m[0], m[1] != "letter"))
            end = min(stop or london(self.record.end), london(self.record.end))
            pending: date | None = None
            for when, kind, value in moments:
                if when > end:
                    break
                if kind == "every":
                    every = value
                elif kind == "anchor":
                    anchor = london_date(when)
                elif kind == "letter":
                    if pending is not None:
                        t.expect()
                        day = london_date(when)
                        if day > pending:
                            t.problem("late", ref, "update letter", pending, day)
                        else:
                            t.ok()
                    anchor = london_date(when)
                pending = add_working_days(anchor, every) if anchor is not None and every else None
            if pending is not None and pending < london_date(end):
                t.expect()
                t.problem("missed", ref, "update letter not sent", pending, None)
        return t

    # --- 7. the six-month letter ---------------------------------------------------------------

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

    def six_month(self) -> Tally:
        """Reg 14: without a response (final, or the partial response of impasse step 2) by the end
        of the period, the person is written to, explaining why. The assistant asks for the letter
        from the day after the period ends and reminds the handlers on the `overdue_every`-th working
        day after; the handler then has `handler_allowance` working days: later is 'late'. A case
        answered or closed within that allowance without the letter is not judged (the assistant
        stops asking once the response has gone). 'wrong': a letter before the six-month point, or
        after the response."""
        t = self.tally()
        p = self.policy
        t.notes.append(
            f"The delay letter is due within {p.overdue_every + p.handler_allowance} working days after "
            "the six months (or a longer period agreed in time) end without a response; a response "
            "(final or partial) or closure by the end of that period needs none."
        )
        for ref, events in self.cases.items():
            opened = next((e for e in events if e["type"] == "ComplaintReceived"), None)
            if opened is None or _mid(opened.get("message_id", "")) not in self.arrival_of:
                t.skip("not opened from a complaint email of the run")
                continue
            received = london_date(self.arrival_of[_mid(opened["message_id"])].at)
            end = self.period_end(events, received)
            responses = self.to_person(ref, events, FINAL_SUBJECT, PARTIAL_SUBJECT)
            delays = self.to_person(ref, events, DELAY_SUBJECT)
            answered = london(responses[0].sent) if responses else None
            point = six_month_point(received)
            for x in delays:
                if london_date(x.sent) <= point:
                    t.problem("wrong", ref, "delay letter within the six months", point, x.sent)
                elif answered is not None and london(x.sent) > answered:
                    t.problem("wrong", ref, "delay letter after the response", answered, x.sent)
            delays = [x for x in delays if london_date(x.sent) > point]
            closed = next((_when(e["at"]) for e in events if e["type"] in CLOSED), None)
            stop = min((m for m in (answered, closed) if m is not None), default=None)
            if stop is not None and london_date(stop) <= end:
                continue  # answered, or closed, in time: no letter needed
            due = add_working_days(end, p.overdue_every + p.handler_allowance)
            if not delays:
                if stop is not None and london_date(stop) <= due:
                    t.skip("answered or closed within the allowance for the delay letter")
                elif due >= self.end_day:
                    t.skip("the letter is due at or after the run's end")
                else:
                    t.expect()
                    t.problem("missed", ref, "no delay letter after the six months", due, None)
                continue
            t.expect()
            first = london_date(delays[0].sent)
            if len(delays) > 1:
                t.problem("duplicated", ref, f"{len(delays)} delay letters", 1, [x.sent for x in delays])
            if first > due:
                t.problem("late", ref, f"delay letter (period ended {end.isoformat()})", due, first)
            elif len(delays) == 1:
                t.ok()
        return t

    # --- 8. the impasse ladder -----------------------------------------------------------------

    def impasse_steps(self) -> Tally:
        """Each impasse's steps (DOMAIN.md section 2, 13), by email as nobody is in chat here:

        1. every involved organisation whose consent is active (ours needs none) has an alert
           letter to its people by the working day after the assistant's first cycle after it was
           raised (`alert_within`: the outbox's retries), and once;
        2. not resolved by the senior managers' date: the partial response to the person, not
           before the day after that date (the assistant asks from then), and within
           `handler_allowance` working days of it; not needed once the impasse was resolved, a
           final response went or the case closed before then;
        3. after the partial response, the Ombudsman signposting to the person. DOMAIN.md gives
           it no deadline: it is judged only in order (after the partial response) and as done
           by the day the case closed ('late' after, 'missed' never); a final response going
           first (it gives the Ombudsman's details) excuses it, and an open case is not judged.
        """
        t = self.tally()
        p = self.policy
        for ref, events in self.cases.items():
            raised = [e for e in events if e["type"] == "ImpasseRaised"]
            if not raised:
                continue
            closed = next((_when(e["at"]) for e in events if e["type"] in CLOSED), None)
            partials = self.to_person(ref, events, PARTIAL_SUBJECT)
            finals = self.to_person(ref, events, FINAL_SUBJECT)
            for i, impasse in enumerate(raised):
                at = _when(impasse["at"])
                until = _when(raised[i + 1]["at"]) if i + 1 < len(raised) else None
                self._alerts(t, ref, events, at, until)
                resolve_by = _day(impasse["resolve_by"])
                resolved = next(
                    (
                        _when(e["at"])
                        for e in events
                        if e["type"] == "ImpasseResolved"
                        and at <= _when(e["at"])
                        and (until is None or _when(e["at"]) < until)
                    ),
                    None,
                )
                mine = [
                    x for x in partials if london(x.sent) >= at and (until is None or london(x.sent) < until)
                ]
                for x in mine:
                    if london_date(x.sent) <= resolve_by:
                        t.problem(
                            "wrong",
                            ref,
                            "partial response before the senior managers' date",
                            resolve_by,
                            x.sent,
                        )
                    elif resolved is not None and resolved < london(x.sent):
                        t.problem(
                            "wrong", ref, "partial response after the impasse was resolved", resolved, x.sent
                        )
                if resolved is not None and london_date(resolved) <= resolve_by:
                    continue
                due = add_working_days(resolve_by, 1 + p.handler_allowance)
                ended = [
                    m for m in (resolved, closed, london(finals[0].sent) if finals else None) if m is not None
                ]
                if not mine:
                    if ended and london_date(min(ended)) <= due:
                        t.skip("resolved, answered or closed before the partial response was due")
                    elif due >= self.end_day:
                        t.skip("the partial response is due at or after the run's end")
                    else:
                        t.expect()
                        t.problem("missed", ref, "step 2: no partial response", due, None)
                    continue
                t.expect()
                if len(mine) > 1:
                    t.problem("duplicated", ref, "step 2: partial response twice", 1, [x.sent for x in mine])
                if london_date(mine[0].sent) > due:
                    t.problem("late", ref, "step 2: partial response", due, mine[0].sent)
                elif len(mine) == 1:
                    t.ok()
            self._signposting(t, ref, events, partials, finals, closed)
        return t

    def _alerts(
        self, t: Tally, ref: str, events: list[dict[str, Any]], at: datetime, until: datetime | None
    ) -> None:
        """Step 1 of the impasse raised `at`: each organisation's senior managers alerted."""
        cycle = self.first_cycle(at, None)
        if cycle is None:
            t.skip("raised after the run's last cycle")
            return
        due = add_working_days(london_date(cycle), self.policy.alert_within)
        letters = [
            x
            for x in self.by_ref.get(ref, [])
            if (ALERT_WORDS in x.text or x.subject.startswith(ALERT_SUBJECT))
            and london(x.sent) >= at
            and (until is None or london(x.sent) < until)
        ]
        for org in sorted(_consented(events, at, self.record.home)):
            if org in self.record.chat_orgs:
                t.skip("its people are in chat")
                continue
            addresses = {a.lower() for a in self.record.org_emails.get(org, ())}
            sent = [x for x in letters if addresses.intersection(x.to)]
            if not sent:
                if due >= self.end_day:
                    t.skip("the alert is due at or after the run's end")
                else:
                    t.expect()
                    t.problem("missed", ref, f"step 1: {org}'s senior managers not alerted", due, None)
                continue
            t.expect()
            first = min(london_date(x.sent) for x in sent)
            twice = any(sum(a in x.to for x in sent) > 1 for a in addresses)
            if twice:
                t.problem("duplicated", ref, f"step 1: {org} alerted twice", 1, [x.sent for x in sent])
            if first > due:
                t.problem("late", ref, f"step 1: {org}'s senior managers alerted", due, first)
            elif not twice:
                t.ok()

    def _signposting(
        self,
        t: Tally,
        ref: str,
        events: list[dict[str, Any]],
        partials: list[Letter],
        finals: list[Letter],
        closed: datetime | None,
    ) -> None:
        """Step 3: after the partial response, the Ombudsman signposting, by the day the case closed."""
        signposts = self.to_person(ref, events, SIGNPOST_SUBJECT)
        after = [x for x in signposts if partials and london(x.sent) >= london(partials[0].sent)]
        for x in signposts:
            if x not in after:
                t.problem(
                    "wrong", ref, "step 3: Ombudsman signposting before the partial response", None, x.sent
                )
        if not partials:
            return
        if not after:
            first_final = next((x for x in finals if london(x.sent) >= london(partials[0].sent)), None)
            if first_final is not None:
                t.skip("a final response (with the Ombudsman's details) went before step 3")
            elif closed is None:
                t.skip("step 3 not yet sent, the case open at the run's end")
            else:
                t.expect()
                t.problem("missed", ref, "step 3: no Ombudsman signposting before closure", closed, None)
            return
        t.expect()
        if len(after) > 1:
            t.problem("duplicated", ref, "step 3: Ombudsman signposting twice", 1, [x.sent for x in after])
        if closed is not None and london_date(after[0].sent) > london_date(closed):
            t.problem(
                "late", ref, "step 3: Ombudsman signposting after the case closed", closed, after[0].sent
            )
        elif len(after) == 1:
            t.ok()

    # --- 9. the product's report -------------------------------------------------------------

    def report(self, figures: dict[str, Any]) -> Tally:
        """Counted as `jointly report` documents them (bot/report.py), from what went and what
        people answered: the cases received in the period (merged and informally resolved ones
        left out), acknowledgements by the 3rd working day (the letter or written record, else
        the day a handler said it was acknowledged), responses and delay letters against the six
        months or a longer period agreed in time, impasses by step, outcomes, contributions, the
        cases open at the period's end and the home organisation's KO41a total."""
        t = self.tally()
        period = figures["period"]
        start, end, today = _day(period["from"]), _day(period["to"]), _day(period["today"])
        as_of = min(end, today)
        mine = dict.fromkeys(REPORT_FIGURES, 0)
        for ref, events in self.cases.items():
            opened = next((e for e in events if e["type"] == "ComplaintReceived"), None)
            if opened is None or any(e["type"] == "CaseDestroyed" for e in events):
                continue
            closure = next((e for e in events if e["type"] == "CaseClosed"), None)
            arrival = self.arrival_of.get(_mid(opened.get("message_id", "")))
            received = london_date(arrival.at if arrival else _when(opened["received_at"]))
            counted = start <= received <= end
            if closure is not None and closure.get("reason") in ("merged", "resolved_informally"):
                mine[f"excluded.{closure['reason']}"] += counted
                continue
            closed = london_date(_when(closure["at"])) if closure else None
            if received <= as_of and (closed is None or closed > as_of):
                mine["open_by_age.total"] += 1
            if counted:
                self._count(mine, ref, events, received, closed, today)
        for name, value in mine.items():
            t.expect()
            got = _figure(figures, name)
            if got == value:
                t.ok()
            else:
                t.problem("wrong", "", f"report {name}", value, got)
        return t

    def _count(
        self,
        mine: dict[str, int],
        ref: str,
        events: list[dict[str, Any]],
        received: date,
        closed: date | None,
        today: date,
    ) -> None:
        """One case of the period, added to the report's figures as counted here."""
        mine["cases"] += 1
        mine["annual.received"] += 1
        first = self.to_person(ref, events, ACK_SUBJECT, WRITTEN_RECORD_SUBJECT)
        told = [_day(e["on"]) for e in events if e["type"] == "Acknowledged"]
        acked = london_date(first[0].sent) if first else min(told, default=None)
        due = add_working_days(received, self.policy.acknowledge_within)
        ack = (
            "on_time"
            if acked is not None and acked <= due
            else "late"
            if acked or due < today
            else "awaiting"
        )
        mine[f"acknowledgements.{ack}"] += 1
        days = {
            name: london_date(found[0].sent) if found else None
            for name, found in (
                ("final", self.to_person(ref, events, FINAL_SUBJECT)),
                ("partial", self.to_person(ref, events, PARTIAL_SUBJECT)),
                ("delay", self.to_person(ref, events, DELAY_SUBJECT)),
            )
        }
        final, partial, delay = days["final"], days["partial"], days["delay"]
        statutory = self.period_end(events, received)
        mine["responses.sent"] += final is not None
        mine["responses.within_statutory_period"] += final is not None and final <= statutory
        mine["responses.overdue_without_response"] += (
            closed is None and final is None and partial is None and statutory < today
        )
        needed = (final or partial or closed or today) > statutory
        mine["delay_letters.needed"] += needed
        mine["delay_letters.sent_when_needed"] += needed and delay is not None
        mine["delay_letters.sent"] += delay is not None
        raised = [_when(e["at"]) for e in events if e["type"] == "ImpasseRaised"]
        if raised:
            after = [x for x in self.to_person(ref, events, PARTIAL_SUBJECT) if london(x.sent) >= raised[-1]]
            mine["impasses.step_1"] += 1
            mine["impasses.step_2"] += bool(after)
            mine["impasses.step_3"] += bool(after) and any(
                london(x.sent) >= raised[-1] for x in self.to_person(ref, events, SIGNPOST_SUBJECT)
            )
            mine["impasses.resolved"] += any(
                e["type"] == "ImpasseResolved" and _when(e["at"]) >= raised[-1] for e in events
            )
        outcomes = {e["org_id"]: e["outcome"] for e in events if e["type"] == "OutcomeRecorded"}
        mine["annual.decided"] += bool(outcomes)
        mine["annual.well_founded"] += bool({"upheld", "partly_upheld"} & set(outcomes.values()))
        mine["ko41a.total"] += self.record.home in _standing(events, None)[0]
        strands: dict[str, tuple[date, date | None]] = {}
        for e in events:
            if e["type"] in ("StrandAdded", "TargetDateChanged") and (
                e["type"] == "StrandAdded" or e["strand_id"] in strands
            ):
                strands[e["strand_id"]] = (_day(e["target"]), strands.get(e["strand_id"], (None, None))[1])
            elif e["type"] == "ContributionReceived" and e["strand_id"] in strands:
                strands[e["strand_id"]] = (strands[e["strand_id"]][0], london_date(_when(e["at"])))
        for target, answered in strands.values():
            if answered is not None:
                mine["contributions.received"] += 1
                late = working_days_between(target, answered) > 0
                mine["contributions.late" if late else "contributions.on_time"] += 1
            elif closed is None and target < today:
                mine["contributions.overdue"] += 1


REPORT_FIGURES = (
    "cases", "excluded.merged", "excluded.resolved_informally",
    "acknowledgements.on_time", "acknowledgements.late", "acknowledgements.awaiting",
    "responses.sent", "responses.within_statutory_period", "responses.overdue_without_response",
    "delay_letters.needed", "delay_letters.sent_when_needed", "delay_letters.sent",
    "impasses.step_1", "impasses.step_2", "impasses.step_3", "impasses.resolved",
    "contributions.received", "contributions.on_time", "contributions.late", "contributions.overdue",
    "open_by_age.total", "annual.received", "annual.decided", "annual.well_founded", "ko41a.total",
)  # fmt: skip


def _figure(figures: dict[str, Any], name: str) -> Any:
    """A report figure by its dotted name; a list (contributions, one per organisation) is summed."""
    head, _, rest = name.partition(".")
    value = figures.get(head)
    if isinstance(value, list):
        return sum(row.get(rest, 0) or 0 for row in value)
    return _figure(value, rest) if rest and isinstance(value, dict) else value


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


def _consented(events: Iterable[dict[str, Any]], at: datetime, home: str) -> set[str]:
    """The organisations involved at `at` that may hear of the case: ours, and those whose consent
    was last given before then."""
    involved, consent = _standing(events, at)
    return {o for o in involved if o == home or consent.get(o)}


def _latest(steps: list[Step], today: date) -> Step | None:
    """The latest step on or before `today` (steps are in order)."""
    found = None
    for step in steps:
        if step.day > today:
            break
        found = step
    return found


def _strands_named(letter: Letter) -> set[str]:
    """The strands whose contribution reminder `letter` is (a notice or the inbox's letter)."""
    if (
        ": reminder: the response on strand" not in letter.subject + letter.text
        and not letter.subject.startswith("Joint complaint: the response on strand")
    ):
        return set()
    return set(STRAND.findall(letter.subject + "\n" + letter.text))


@dataclass
class _Strand:
    id: str
    org_id: str
    schedules: list[tuple[date, datetime, datetime | None]]  # (target, from, until)
    snoozes: list[tuple[datetime, date]] = field(default_factory=list)
    on_track: list[datetime] = field(default_factory=list)
    unjudged: str = ""

    def quiet(self, cycle: datetime, day: date, target: date) -> tuple[bool, bool]:
        """Is the step on `day` skipped at `cycle` (snoozed, or reported on track ahead of the
        date), if the events at the cycle's very moment came after it, and if they came before?"""
        return self._quiet(cycle, day, target, False), self._quiet(cycle, day, target, True)

    def _quiet(self, cycle: datetime, day: date, target: date, ties: bool) -> bool:
        until = [u for at, u in self.snoozes if at < cycle or (ties and at == cycle)]
        if until and day <= until[-1]:
            return True
        reported = [london_date(at) for at in self.on_track if at < cycle or (ties and at == cycle)]
        return bool(reported) and reported[-1] <= day < target


def _strands(ref: str, events: Iterable[dict[str, Any]], home: str) -> list[_Strand]:
    """Each strand's schedules: a target from when it was set until it moved, was done, or the
    case left investigation (a draft, a response, closure) or the organisation's consent ended."""
    strands: dict[str, _Strand] = {}
    done: set[str] = set()

    def stop(strand: _Strand, at: datetime) -> None:
        target, start, end = strand.schedules[-1]
        if end is None:
            strand.schedules[-1] = (target, start, at)

    ended: dict[str, datetime] = {}  # organisation -> when its consent ended
    for e in events:
        kind, at = e["type"], None
        if kind == "StrandAdded":
            at = _when(e["at"])
            strands[e["strand_id"]] = _Strand(e["strand_id"], e["org_id"], [(_day(e["target"]), at, None)])
        elif kind == "TargetDateChanged" and e["strand_id"] in strands and e["strand_id"] not in done:
            strand, at = strands[e["strand_id"]], _when(e["at"])
            stop(strand, at)
            strand.schedules.append((_day(e["target"]), at, None))
        elif kind == "ContributionReceived" and e["strand_id"] in strands:
            stop(strands[e["strand_id"]], _when(e["at"]))
            done.add(e["strand_id"])
        elif kind == "Snoozed" and e["subject"] in strands:
            strands[e["subject"]].snoozes.append((_when(e["at"]), _day(e["until"])))
        elif kind == "OnTrackReported" and e["strand_id"] in strands:
            strands[e["strand_id"]].on_track.append(_when(e["at"]))
        elif kind in ("ConsentWithdrawn", "ConsentRefused", "OrganisationsSignposted"):
            for strand in strands.values():
                if strand.org_id in e.get("org_ids", ()) and strand.org_id != home:
                    stop(strand, _when(e["at"]))
                    ended[strand.org_id] = _when(e["at"])
        elif kind == "ConsentGiven":
            for strand in strands.values():
                if strand.org_id in e.get("org_ids", ()) and strand.org_id in ended:
                    strand.unjudged = "consent for its organisation ended, then was given again"
        elif kind in CASE_ENDS:
            for strand in strands.values():
                stop(strand, _when(e["at"]))
    return list(strands.values())
