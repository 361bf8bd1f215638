"""When the response is slow or the organisations cannot agree: the letter explaining the
delay after six months without a response (check 7, reg 14), and each impasse's ladder: senior
managers alerted, the partial response, the Ombudsman signposting (check 8)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from bench.sim.calendar import add_working_days, london, london_date
from bench.sim.oracle.core import (
    ALERT_SUBJECT,
    ALERT_WORDS,
    CLOSED,
    DELAY_SUBJECT,
    FINAL_SUBJECT,
    PARTIAL_SUBJECT,
    SIGNPOST_SUBJECT,
    Tally,
    _day,
    _mid,
    _RunBase,
    _standing,
    _when,
    six_month_point,
)
from bench.sim.record import Letter


class ResponseChecks(_RunBase):
    """Checks 7 and 8: the six-month letter and the impasse ladder."""

    # --- 7. the six-month letter ---------------------------------------------------------------

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


def _consented(events: Iterable[dict[str, Any]], at: datetime, home: str) -> set[str]:
    """The organisations involved at `at` that may hear of the case: ours, and those whose consent
    was last given before then."""
    involved, consent = _standing(events, at)
    return {o for o in involved if o == home or consent.get(o)}
