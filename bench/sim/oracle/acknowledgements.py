"""The letters to the person while the case runs: the acknowledgement by the 3rd working day
after receipt (check 1), and the update letters at the agreed frequency until the response
(check 6)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from bench.sim.calendar import add_working_days, london, london_at, london_date
from bench.sim.oracle.core import ACK_SUBJECT, UPDATE_SUBJECT, Tally, _mid, _RunBase, _when

RESPONSE_ENDS = frozenset({"FinalResponseSent", "PartialResponseSent", "CaseClosed", "CaseDestroyed"})


class AcknowledgementChecks(_RunBase):
    """Checks 1 and 6: the acknowledgement and the update letters."""

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

    # --- 6. update letters ---------------------------------------------------------------------

    def up_by(self, day: date) -> date:
        """`day`, or, when the assistant was down on it (from its start, or stopped during it before
        the handler could act), the day of its first cycle after."""
        since = london(london_at(day, 0))
        for fault in self.record.faults:
            if fault.kind == "restart" and london_date(fault.start) <= day <= london_date(fault.end):
                since = max(since, fault.end)
        cycle = self.first_cycle(since, None)
        return max(day, london_date(cycle)) if cycle is not None else day

    def updates(self) -> Tally:
        t = self.tally()
        t.notes.append(
            "The first update is due the agreed number of working days after the named contact was "
            "set, each next one that many after the last update letter, until the response (final "
            "or partial) or closure; 'late' is sent after that day (or, when the assistant was not up "
            "on it, after the day of its next cycle), 'missed' none by the end."
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
                        if day > self.up_by(pending):
                            t.problem("late", ref, "update letter", pending, day)
                        else:
                            t.ok()
                    anchor = london_date(when)
                pending = add_working_days(anchor, every) if anchor is not None and every else None
            if pending is not None and pending < london_date(end):
                t.expect()
                t.problem("missed", ref, "update letter not sent", pending, None)
        return t
