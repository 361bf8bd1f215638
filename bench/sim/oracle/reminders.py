"""Check 2: the contributor reminders, strand by strand. A strand's schedules (`_strands`: a
target from when it was set until it moved, was done, or the clock stopped), the steps of a target
(5 and 1 working days before, on the day, then overdue), the cycle that should have sent each
step (`_Strand.quiet`: snoozed or reported on track), and the letters compared with them."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from bench.sim.calendar import add_working_days, london, london_at, london_date, working_day_on_or_before
from bench.sim.oracle.core import Step, Tally, _day, _RunBase, _when, reminder_day
from bench.sim.record import Letter

STRAND = re.compile(r"the response on strand ([A-Za-z0-9_.-]+?)(?=[ ,.]|$)")
CASE_ENDS = frozenset(
    {"DraftRecorded", "FinalResponseSent", "PartialResponseSent", "CaseClosed", "CaseDestroyed"}
)


class ReminderChecks(_RunBase):
    """Check 2: each strand's contributor reminders, step by step."""

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
