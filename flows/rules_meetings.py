"""Rules for meetings of the organisations and questions put to a contributor.

DOMAIN.md section 2, steps 7 and 8: at a meeting every organisation involved attends or is
represented, and contributors answer the lead's questions promptly. A question goes by email with
the strand in its context, so the reply (handled by the mailbox code) is filed on that strand.
"""

from __future__ import annotations

from datetime import datetime

from flows import commands as c
from flows import events as ev
from flows.calendar import LONDON
from flows.errors import InvalidCommand
from flows.model import Case, Meeting
from flows.rules import (
    Out,
    Rule,
    long_date,
    names,
    organisation,
    require_coordinator,
    require_text,
    strand_of,
    today,
)


def schedule(case: Case, cmd: c.ScheduleMeeting, now: datetime) -> Out:
    """Arrange a meeting; each other organisation whose consent is on record is invited by email."""
    require_coordinator(case, cmd.actor)
    if cmd.on.tzinfo is None or cmd.on.utcoffset() is None:
        raise InvalidCommand(
            "give the meeting time with its offset from UTC, e.g. 2026-12-03 14:00+00:00 (London time)",
            field="on",
        )
    if cmd.on < now:
        raise InvalidCommand(f"the meeting time {when(cmd.on)} is in the past", field="on")
    require_text(cmd.purpose, "the purpose of the meeting")
    meeting_id = f"M{len(case.meetings) + 1}"
    out = Out(case, cmd.actor.id, now).event(
        ev.MeetingScheduled, meeting_id=meeting_id, on=cmd.on, purpose=cmd.purpose
    )
    for org_id in invited(case):
        out.letter(
            "meeting_invitation",
            organisation(case, org_id),
            to_org_name=case.orgs[org_id].name,
            when=when(cmd.on),
            purpose=cmd.purpose,
            organisations=names(case, case.involved),
            reply_hint=f"reply to this email with the name of the person who will attend for "
            f"{case.orgs[org_id].name}, or who will represent it",
            org_name=case.orgs[case.coordinator].name,
        )
    return out


def record(case: Case, cmd: c.RecordMeeting, now: datetime) -> Out:
    """Record who took part: every organisation involved must have attended or been represented."""
    require_coordinator(case, cmd.actor)
    meeting = _meeting(case, cmd.meeting_id)
    if today(now) < meeting.on.astimezone(LONDON).date():
        raise InvalidCommand(f"{meeting.id} is not until {when(meeting.on)}", meeting_id=meeting.id)
    unknown = [o for o in cmd.represented if o not in case.involved]
    if unknown:
        raise InvalidCommand(f"not involved in this case: {', '.join(unknown)}", org_ids=unknown)
    missing = [o for o in case.involved if o not in cmd.represented]
    if missing:
        raise InvalidCommand(
            "every organisation involved must attend or be represented; not represented: "
            + ", ".join(names(case, missing)),
            org_ids=missing,
        )
    attendees = tuple(name.strip() for name in cmd.attendees if name.strip())
    if not attendees:
        raise InvalidCommand("name at least one person who attended", field="attendees")
    require_text(cmd.notes, "the notes of the meeting")
    return Out(case, cmd.actor.id, now).event(
        ev.MeetingRecorded,
        meeting_id=meeting.id,
        represented=tuple(o for o in case.involved if o in cmd.represented),
        attendees=attendees,
        notes=cmd.notes,
    )


def ask(case: Case, cmd: c.AskContributor, now: datetime) -> Out:
    """Put a question to a contributing organisation about its strand; it answers by email."""
    require_coordinator(case, cmd.actor)
    strand = strand_of(case, cmd.strand_id)
    if strand.org_id == case.coordinator:
        raise InvalidCommand(
            f"{strand.id} is {case.orgs[strand.org_id].name}'s own strand: ask your colleagues directly",
            strand_id=strand.id,
        )
    require_text(cmd.question, "the question")
    to_org = case.orgs[strand.org_id].name
    return (
        Out(case, cmd.actor.id, now)
        .event(
            ev.ContributorAsked,
            question_id=f"Q{len(case.questions) + 1}",
            strand_id=strand.id,
            question=cmd.question,
        )
        .letter(
            "contributor_question",
            organisation(case, strand.org_id),
            to_org_name=to_org,
            strand=strand.id,
            question=cmd.question,
            reply_hint=f"reply to this email: your answer is filed on strand {strand.id} automatically",
            org_name=case.orgs[case.coordinator].name,
        )
    )


def invited(case: Case) -> list[str]:
    """The other organisations involved that may hear of the case: those with consent on record."""
    return [o for o in case.involved if o != case.coordinator and case.consent_active(o)]


def when(at: datetime) -> str:
    """'Thursday 3 December 2026 at 14:00 (London time)', the way letters and errors give a time."""
    local = at.astimezone(LONDON)
    return f"{long_date(local.date())} at {local:%H:%M} (London time)"


def _meeting(case: Case, meeting_id: str) -> Meeting:
    meeting = case.meetings.get(meeting_id)
    if meeting is None:
        raise InvalidCommand(f"no meeting {meeting_id} on this case", meeting_id=meeting_id)
    if meeting.recorded_at is not None:
        raise InvalidCommand(f"{meeting.id} is already recorded", meeting_id=meeting.id)
    return meeting


MEETING_RULES: dict[type[c.Command], Rule] = {
    c.ScheduleMeeting: schedule,
    c.RecordMeeting: record,
    c.AskContributor: ask,
}
