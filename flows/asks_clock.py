"""What the clocks ask of the coordinating handler: the update letter the person is owed, and an
impasse to raise when the organisations cannot agree.

The sweep (`flows.due`) decides *when*, with the configured working days: these asks follow the
reminders it sent (`Case.reminded`), so the prompt and the reminder never disagree.
"""

from __future__ import annotations

from datetime import date

from flows import commands as c
from flows.calendar import add_working_days
from flows.conversation import Choice, Field, FieldKind, Prompt
from flows.due import update_due
from flows.model import Actor, Case, ReminderKind, Status
from flows.rules import long_date

DISPUTES = (
    ("the lead organisation is not agreed", "The lead organisation is not agreed"),
    ("the remedy is disputed", "The remedy is disputed"),
    ("an organisation is not cooperating", "An organisation is not cooperating"),
)
RESOLVE_WITHIN = 10  # working days offered to senior managers by default
_LATE = (ReminderKind.CONTRIBUTION_LATE, ReminderKind.COMMENTS_LATE, ReminderKind.ACTION_LATE)


def clocks(case: Case, actor: Actor, today: date) -> list[Prompt]:
    return [*update(case, actor, today), *impasse_suggested(case, actor, today)]


def update(case: Case, actor: Actor, today: date) -> list[Prompt]:
    """The person is owed an update letter at the agreed frequency."""
    due = update_due(case)
    if due is None or not _reminded(case, ReminderKind.UPDATE):
        return []
    if today < due or case.status in (Status.RESPONDED, Status.CLOSED):
        return []
    text = Field("text", "How the work is going", FieldKind.TEXT, long=True, default=_progress(case))
    cmd = c.SendProgressUpdate(actor=actor, text="")
    return [
        Prompt(
            "update",
            f"The person is owed an update (every {case.update_every} working days, due {long_date(due)}).",
            (Choice("Send the update letter", cmd, (text,)),),
        )
    ]


def impasse_suggested(case: Case, actor: Actor, today: date) -> list[Prompt]:
    """Raise an impasse: suggested by the clock (the lead not agreed in time, or an organisation's
    contribution, comments or action so late its reminders went weekly), or when an organisation
    objected to the lead."""
    if case.status not in (Status.AGREEING_LEAD, Status.PLANNING, Status.INVESTIGATING, Status.DRAFTING):
        return []
    if case.impasse is not None and case.impasse.resolved_at is None:
        return []
    proposal = case.proposal
    objected = proposal is not None and any(not r.agrees for r in proposal.responses.values())
    late = any(_reminded(case, kind) for kind in _LATE)
    stalled = case.status is Status.AGREEING_LEAD and _reminded(case, ReminderKind.LEAD_NOT_AGREED)
    if not (objected or late or stalled):
        return []
    default = DISPUTES[2][0] if late and not (objected or stalled) else DISPUTES[0][0]
    return [
        Prompt(
            "raise_impasse",
            "The organisations cannot agree: ask their senior managers to resolve it?",
            (impasse_choice(actor, today, default),),
            detail="Every involved organisation's senior managers are alerted at once, by chat and email.",
        )
    ]


def impasse_choice(actor: Actor, today: date, matter: str = DISPUTES[0][0]) -> Choice:
    fields = (
        Field("matter", "What is disputed", FieldKind.CHOICE, options=DISPUTES, default=matter),
        Field("reason", "Why agreement was not reached", FieldKind.TEXT),
        Field("resolve_by", "Senior managers to resolve it by", FieldKind.DATE,
              default=add_working_days(today, RESOLVE_WITHIN)),
    )  # fmt: skip
    cmd = c.RaiseImpasse(actor=actor, matter="", reason="", resolve_by=today)
    return Choice("Raise an impasse", cmd, fields)


def _reminded(case: Case, kind: ReminderKind) -> bool:
    return any(schedule.startswith(kind.value + "/") for schedule in case.reminded)


def _progress(case: Case) -> str:
    """A first draft of the update: where each organisation's part stands, no findings."""
    if not case.strands:
        return "We are agreeing with the organisations involved how your complaint will be looked into."
    done = [s for s in case.strands.values() if s.contribution is not None]
    return (
        f"{len(done)} of the {len(case.strands)} parts of the investigation are complete. "
        "We are waiting for the rest and will then prepare one joint response."
    )
