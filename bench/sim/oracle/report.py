"""The product's own report against the oracle's count (`report_check`): the figures of
`jointly report` for the run's period, counted here from the letters and the people's answers."""

from __future__ import annotations

from datetime import date
from typing import Any

from bench.sim.calendar import add_working_days, london, london_date, working_days_between
from bench.sim.oracle.core import (
    ACK_SUBJECT,
    DELAY_SUBJECT,
    FINAL_SUBJECT,
    PARTIAL_SUBJECT,
    SIGNPOST_SUBJECT,
    WRITTEN_RECORD_SUBJECT,
    Tally,
    _day,
    _mid,
    _RunBase,
    _standing,
    _when,
)


class ReportCheck(_RunBase):
    """The product's report against the figures counted here."""

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
