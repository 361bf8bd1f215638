"""What to ask about meetings of the organisations and questions to contributors.

Prompts show in chat, so they carry meeting ids, purposes and organisation names, never the
complainant's name or a strand's matters (which may be health details).
"""

from __future__ import annotations

from datetime import date, datetime, time

from flows import commands as c
from flows.calendar import LONDON, next_working_day
from flows.conversation import Choice, Field, FieldKind, Prompt
from flows.model import Actor, Case, Status
from flows.rules_meetings import invited, when

S = Status
MEETING_STATUSES = frozenset({S.AGREEING_LEAD, S.NAMING_CONTACT, S.PLANNING, S.INVESTIGATING, S.DRAFTING})
MEETING_HOUR = time(10)
REPRESENTED = "Every organisation involved must attend or be represented."

# A suggested purpose for a meeting at each stage; the handler may write another.
PURPOSES = {
    S.AGREEING_LEAD: "Agree which organisation leads",
    S.NAMING_CONTACT: "Agree the investigation plan and timetable",
    S.PLANNING: "Agree the investigation plan and timetable",
    S.INVESTIGATING: "Review progress on the investigation",
    S.DRAFTING: "Agree the joint response",
}


def meetings(case: Case, actor: Actor, today: date) -> list[Prompt]:
    """Meetings held and not yet recorded, a question to a contributor, then a meeting to arrange."""
    if case.status not in MEETING_STATUSES:
        return []
    prompts = [
        _record(case, actor, m.id) for m in case.meetings.values() if _held(m.on, m.recorded_at, today)
    ]
    prompts.extend(_question(case, actor))
    if len(case.involved) > 1:
        prompts.append(_arrange(case, actor, today))
    return prompts


def _held(on: datetime, recorded_at: datetime | None, today: date) -> bool:
    return recorded_at is None and on.astimezone(LONDON).date() <= today


def _arrange(case: Case, actor: Actor, today: date) -> Prompt:
    on = datetime.combine(next_working_day(today), MEETING_HOUR, tzinfo=LONDON)
    fields = (
        Field("on", "When", FieldKind.DATETIME, default=on),
        Field(
            "purpose",
            "Purpose (shown in chat: no names or health details)",
            FieldKind.TEXT,
            default=PURPOSES[case.status],
        ),
    )
    cmd = c.ScheduleMeeting(actor=actor, on=on, purpose="")
    return Prompt(
        "meeting",
        "Arrange a meeting of the organisations?",
        (Choice("Arrange it and send the invitations", cmd, fields),),
        detail=_arrange_detail(case),
    )


def _arrange_detail(case: Case) -> str:
    guests = invited(case)
    lines = [REPRESENTED]
    if guests:
        lines.append("Invitations are emailed to " + ", ".join(case.orgs[o].name for o in guests) + ".")
    lines.extend(
        f"No invitation to {case.orgs[o].name}: consent to share with it is not on record."
        for o in case.involved
        if o != case.coordinator and o not in guests
    )
    lines.extend(
        f"Already arranged: {m.id}, {when(m.on)}." for m in case.meetings.values() if m.recorded_at is None
    )
    return "\n".join(lines)


def _record(case: Case, actor: Actor, meeting_id: str) -> Prompt:
    meeting = case.meetings[meeting_id]
    orgs = tuple((o, case.orgs[o].name) for o in case.involved)
    fields = (
        Field(
            "represented",
            "Organisations that attended or were represented",
            FieldKind.MULTI_CHOICE,
            options=orgs,
            default=case.involved,
        ),
        Field(
            "attendees",
            "Who attended, one per line",
            FieldKind.LINES,
            default=(actor.name,) if actor.name else (),
        ),
        Field("notes", "Notes: what was agreed", FieldKind.TEXT, long=True),
    )
    cmd = c.RecordMeeting(actor=actor, meeting_id=meeting.id, represented=(), attendees=(), notes="")
    return Prompt(
        f"meeting:{meeting.id}",
        f"Record meeting {meeting.id} ({meeting.purpose}), {when(meeting.on)}.",
        (Choice("Record it", cmd, fields),),
        detail=REPRESENTED,
    )


def _question(case: Case, actor: Actor) -> list[Prompt]:
    if case.status not in (S.PLANNING, S.INVESTIGATING):
        return []
    strands = tuple(
        (s.id, f"{s.id} — {case.orgs[s.org_id].name}")
        for s in case.strands.values()
        if s.contribution is None and s.org_id != case.coordinator and case.consent_active(s.org_id)
    )
    if not strands:
        return []
    fields = (
        Field("strand_id", "About strand", FieldKind.CHOICE, options=strands),
        Field("question", "The question (emailed to the organisation)", FieldKind.TEXT, long=True),
    )
    cmd = c.AskContributor(actor=actor, strand_id=strands[0][0], question="")
    return [
        Prompt(
            "ask_contributor",
            "Ask a contributing organisation a question about its strand?",
            (Choice("Email the question", cmd, fields),),
            detail="Their answer comes back by email and is filed on the strand.",
        )
    ]
