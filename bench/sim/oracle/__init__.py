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

The package: `core` (Policy, Tally, reading the store and the record, shared helpers),
`acknowledgements` (checks 1 and 6), `reminders` (2), `letters` (3 to 5), `responses` (7 and 8:
the six-month letter and the impasse ladder) and `report`; each group of checks is a mixin of
`_Run`, here.
"""

from __future__ import annotations

from typing import Any

from bench.sim.oracle.acknowledgements import AcknowledgementChecks
from bench.sim.oracle.core import (
    ACK_SUBJECT,
    ALERT_SUBJECT,
    ALERT_WORDS,
    DELAY_SUBJECT,
    FINAL_SUBJECT,
    PARTIAL_SUBJECT,
    REF,
    SIGNPOST_SUBJECT,
    UPDATE_SUBJECT,
    WRITTEN_RECORD_SUBJECT,
    Policy,
    Step,
    Tally,
    read_store,
    ref_of,
    reminder_day,
    six_month_point,
)
from bench.sim.oracle.letters import LetterChecks
from bench.sim.oracle.reminders import ReminderChecks
from bench.sim.oracle.report import REPORT_FIGURES, ReportCheck
from bench.sim.oracle.responses import ResponseChecks
from bench.sim.record import Record

__all__ = [
    "ACK_SUBJECT",
    "ALERT_SUBJECT",
    "ALERT_WORDS",
    "DELAY_SUBJECT",
    "FINAL_SUBJECT",
    "PARTIAL_SUBJECT",
    "REF",
    "REPORT_FIGURES",
    "SIGNPOST_SUBJECT",
    "UPDATE_SUBJECT",
    "WRITTEN_RECORD_SUBJECT",
    "Policy",
    "Step",
    "Tally",
    "judge",
    "read_store",
    "ref_of",
    "reminder_day",
    "report_check",
    "six_month_point",
]


class _Run(AcknowledgementChecks, ReminderChecks, LetterChecks, ResponseChecks, ReportCheck):
    """One run read (`core._RunBase`), with every check: each group of checks is a mixin in its
    own module."""


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
