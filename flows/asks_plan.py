"""What to ask about the investigation plan (DOMAIN.md section 2, steps 7 to 9): the strands and who
agreed them, the contributions, and a contributor's own strands and its requests for a new date."""

from __future__ import annotations

from datetime import date

from flows import commands as c
from flows.calendar import (
    add_working_days,
)
from flows.conversation import Choice, Field, FieldKind, Prompt
from flows.drafting import (
    after_partial_response,
    assemble_draft,
)
from flows.model import (
    Actor,
    Case,
    Status,
    Strand,
)
from flows.rules import long_date

EMAILED = "What to look into is in the request emailed to your complaints inbox."


def date_proposals(case: Case, actor: Actor, today: date) -> list[Prompt]:
    """A contributor asked to move its target date: the lead accepts or refuses."""
    prompts = []
    for s in case.strands.values():
        if s.proposed is None or case.status not in (Status.PLANNING, Status.INVESTIGATING):
            continue
        accept = c.ChangeTargetDate(
            actor=actor, strand_id=s.id, target=s.proposed.target, reason=s.proposed.reason
        )
        reason = Field("reason", "Why not", FieldKind.TEXT, required=False, default="")
        prompts.append(
            Prompt(
                f"date_proposal:{s.id}",
                f"{case.orgs[s.org_id].name} cannot make {long_date(s.target)} for {s.id} and proposes "
                f"{long_date(s.proposed.target)}.",
                (
                    Choice("Accept the new date", accept),
                    Choice("Refuse", c.RefuseTargetDate(actor=actor, strand_id=s.id), (reason,)),
                ),
                detail=f"Their reason: {s.proposed.reason}",
            )
        )
    return prompts


def strands_for(case: Case, actor: Actor, org_id: str, today: date) -> list[Prompt]:
    """What a contributing organisation owes: its response on each of its strands, by its date; after
    a partial response, the response alone, still taken late so that a full response can follow."""
    late = after_partial_response(case)
    if case.status not in (Status.PLANNING, Status.INVESTIGATING) and not late:
        return []
    prompts = []
    for s in case.strands.values():
        if s.org_id != org_id or s.contribution is not None:
            continue
        summary = Field("summary", "What you found", FieldKind.TEXT, long=True)
        send = Choice(
            "Send our response", c.RecordContribution(actor=actor, strand_id=s.id, summary=""), (summary,)
        )
        if late:
            question = f"{case.orgs[org_id].name}: your response on {s.id} is late: the person has had a "
            question += "partial response. Send it, and a full joint response can follow."
            prompts.append(Prompt(f"strand:{s.id}", question, (send,)))
            continue
        waiting = f" A new date, {long_date(s.proposed.target)}, is with the lead." if s.proposed else ""
        sendable = (send,) if case.status is Status.INVESTIGATING else ()  # once the plan is agreed
        choices = (*sendable, *_while_due(actor, s, today))
        if not choices:
            continue
        prompts.append(
            Prompt(
                f"strand:{s.id}",
                f"{case.orgs[org_id].name}: your response on {s.id} is due {long_date(s.target)}.{waiting}",
                choices,
                detail="" if org_id == case.coordinator else EMAILED,
            )
        )
    return prompts


def _while_due(actor: Actor, s: Strand, today: date) -> list[Choice]:
    """Before its response is in: another date, on track, or a quiet spell before the date."""
    choices = []
    if s.proposed is None:
        fields = (
            Field("target", "A date you can make", FieldKind.DATE, default=add_working_days(s.target, 5)),
            Field("reason", "Why", FieldKind.TEXT),
        )
        cmd = c.ProposeTargetDate(actor=actor, strand_id=s.id, target=s.target, reason="")
        choices.append(Choice("Can't make this date", cmd, fields))
    if s.on_track_at is None:
        choices.append(Choice("On track", c.ReportOnTrack(actor=actor, strand_id=s.id)))
    last_quiet_day = add_working_days(s.target, -1)
    if today < last_quiet_day:
        until = Field("until", "No reminders until", FieldKind.DATE,
                      default=min(add_working_days(today, 5), last_quiet_day))  # fmt: skip
        choices.append(Choice("Snooze reminders", c.Snooze(actor=actor, subject=s.id, until=today), (until,)))
    return choices


def plan(case: Case, actor: Actor, today: date) -> list[Prompt]:
    if case.status is not Status.PLANNING:
        return []
    orgs = tuple((o, case.orgs[o].name) for o in case.involved)
    fields = (
        Field("org_id", "Organisation", FieldKind.CHOICE, options=orgs),
        Field("matters", "Matters it looks into", FieldKind.TEXT),
        Field("target", "Target date for its response", FieldKind.DATE, default=add_working_days(today, 15)),
        Field(
            "milestones",
            "Milestones, one per line; start one with a date (2026-12-03 Records gathered) for the day "
            "the organisation updates the lead",
            FieldKind.LINES,
            required=False,
            default=(),
        ),
    )
    add = Choice("Add a strand", c.AddStrand(actor=actor, org_id="", matters="", target=today), fields)
    prompts = [Prompt("plan", "Build the investigation plan: who looks into what, by when.", (add,))]
    if case.strands:
        prompts.extend(
            Prompt(
                f"plan_agreed:{o}",
                f"Has {case.orgs[o].name} agreed the plan?",
                (Choice("Agreed", c.AgreePlan(actor=actor, org_id=o)),),
            )
            for o in case.involved
            if o not in case.plan_agreed_by
        )
    return prompts


def discussion(case: Case, actor: Actor, today: date) -> list[Prompt]:
    """The guide's discussion with the person, asked until answered (not only while planning): the
    shared understanding of the complaint and the outcomes they want, then the plan itself."""
    if case.status not in (Status.PLANNING, Status.INVESTIGATING):
        return []
    prompts = []
    if not case.shared_understanding:
        fields = (
            Field(
                "understanding",
                "The complaint, as you and the person understand it",
                FieldKind.TEXT,
                long=True,
            ),
            Field("outcomes", "The outcomes the person wants", FieldKind.TEXT, long=True),
        )
        cmd = c.RecordSharedUnderstanding(actor=actor, understanding="", outcomes="")
        prompts.append(
            Prompt(
                "shared_understanding",
                "After talking with the person: what is the complaint about, and what do they want from it?",
                (Choice("Record it", cmd, fields),),
                detail="It goes into the requests to the organisations and the draft joint response.",
            )
        )
    if case.strands and case.plan_discussed_at is None:
        note = Field("note", "What they said", FieldKind.TEXT, required=False, default="")
        prompts.append(
            Prompt(
                "plan_discussed",
                "Has the plan been discussed with the person?",
                (Choice("Yes: record it", c.RecordPlanDiscussed(actor=actor), (note,)),),
            )
        )
    return prompts


def progress(case: Case, actor: Actor, today: date) -> list[Prompt]:
    if case.status is not Status.INVESTIGATING:
        return []
    summary = Field("summary", "What they found", FieldKind.TEXT, long=True)
    waiting = [s for s in case.strands.values() if s.contribution is None]
    if waiting:
        return [
            Prompt(
                f"contribution:{s.id}",
                f"{case.orgs[s.org_id].name}'s response on {s.id} is due {s.target:%d %b %Y}.",
                (
                    Choice(
                        "Record it", c.RecordContribution(actor=actor, strand_id=s.id, summary=""), (summary,)
                    ),
                ),
            )
            for s in waiting
        ]
    text = Field("text", "Draft joint response", FieldKind.TEXT, long=True, default=assemble_draft(case))
    return [
        Prompt(
            "draft",
            "Every organisation has responded: draft the joint response.",
            (Choice("Record the draft", c.RecordDraft(actor=actor, text=""), (text,)),),
        )
    ]
