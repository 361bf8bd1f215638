"""What must never happen to a letter or a message: a letter twice (check 3), a complaint email
on no case or on several, a reply on another case (check 4), and a letter to another organisation
outside its consent (check 5)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime

from bench.sim.calendar import london, london_date
from bench.sim.oracle.core import Tally, _mid, _RunBase, _when, ref_of
from bench.sim.record import Letter

ONCE_ONLY = (  # subjects a recipient gets at most once per case, whatever the day
    "We have received your complaint (",
    "Final response to your complaint (",
    "Our written record of your complaint (",
    "The actions to put things right are done (",
)


class LetterChecks(_RunBase):
    """Checks 3 to 5: every letter once, no case lost, consent."""

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
            elif arrival.kind == "again_new" and len(opened) == 1 and self._closed_by(home, arrival.at):
                t.ok()  # about a case closed by then: a complaint of its own
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

    def _closed_by(self, ref: str | None, moment: datetime) -> bool:
        """Was case `ref` closed by `moment`?"""
        events = self.cases.get(ref or "", [])
        return any(e["type"] == "CaseClosed" and _when(e["at"]) <= moment for e in events)

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
