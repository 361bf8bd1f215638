"""What to ask from the plan to closure (DOMAIN.md section 2, steps 7 to 13)."""

from __future__ import annotations

from datetime import date

from flows import commands as c
from flows.calendar import (
    add_working_days,
    response_due,
)
from flows.conversation import Choice, Field, FieldKind, Prompt
from flows.model import (
    Actor,
    Case,
    Outcome,
    Status,
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


def strands_for(case: Case, actor: Actor, org_id: str) -> list[Prompt]:
    """What a contributing organisation owes: its response on each of its strands, by its date."""
    if case.status not in (Status.PLANNING, Status.INVESTIGATING):
        return []
    prompts = []
    for s in case.strands.values():
        if s.org_id != org_id or s.contribution is not None:
            continue
        summary = Field("summary", "What you found", FieldKind.TEXT)
        send = Choice(
            "Send our response", c.RecordContribution(actor=actor, strand_id=s.id, summary=""), (summary,)
        )
        choices = [send]
        if s.proposed is None:
            fields = (
                Field("target", "A date you can make", FieldKind.DATE, default=add_working_days(s.target, 5)),
                Field("reason", "Why", FieldKind.TEXT),
            )
            cmd = c.ProposeTargetDate(actor=actor, strand_id=s.id, target=s.target, reason="")
            choices.append(Choice("Can't make this date", cmd, fields))
        waiting = f" A new date, {long_date(s.proposed.target)}, is with the lead." if s.proposed else ""
        prompts.append(
            Prompt(
                f"strand:{s.id}",
                f"{case.orgs[org_id].name}: your response on {s.id} is due {long_date(s.target)}.{waiting}",
                tuple(choices),
                detail="" if org_id == case.coordinator else EMAILED,
            )
        )
    return prompts


def plan(case: Case, actor: Actor, today: date) -> list[Prompt]:
    if case.status is not Status.PLANNING:
        return []
    orgs = tuple((o, case.orgs[o].name) for o in case.involved)
    fields = (
        Field("org_id", "Organisation", FieldKind.CHOICE, options=orgs),
        Field("matters", "Matters it looks into", FieldKind.TEXT),
        Field("target", "Target date for its response", FieldKind.DATE, default=add_working_days(today, 15)),
        Field("milestones", "Milestones, one per line", FieldKind.LINES, required=False, default=()),
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


def progress(case: Case, actor: Actor, today: date) -> list[Prompt]:
    if case.status is not Status.INVESTIGATING:
        return []
    summary = Field("summary", "What they found", FieldKind.TEXT)
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
    text = Field("text", "Draft joint response", FieldKind.TEXT)
    return [
        Prompt(
            "draft",
            "Every organisation has responded: draft the joint response.",
            (Choice("Record the draft", c.RecordDraft(actor=actor, text=""), (text,)),),
        )
    ]


def drafting(case: Case, actor: Actor, today: date) -> list[Prompt]:
    draft = case.draft
    if case.status is not Status.DRAFTING or draft is None:
        return []
    contributors = [o for o in case.involved if o != case.coordinator]
    if contributors and draft.comment_by is None:
        by = Field("comment_by", "Comments by", FieldKind.DATE, default=add_working_days(today, 5))
        cmd = c.OpenCommentRound(actor=actor, comment_by=today)
        return [
            Prompt(
                "comment_round",
                "Send the draft to every contributing organisation for comment.",
                (Choice("Send for comment", cmd, (by,)),),
            )
        ]
    comment = Field("comment", "Their comment", FieldKind.TEXT)
    prompts = [
        Prompt(
            f"comment:{o}",
            f"Comments from {case.orgs[o].name}?",
            (Choice("Record them", c.RecordComment(actor=actor, org_id=o, comment=""), (comment,)),),
        )
        for o in contributors
        if o not in draft.comments
    ]
    if draft.shared_with_complainant_at is None:
        prompts.append(
            Prompt(
                "share_draft",
                "Share the draft with the person?",
                (Choice("Share it", c.ShareDraftWithComplainant(actor=actor)),),
            )
        )
    awaiting_comments = len(prompts) > 0 and (draft.comment_by is None or today <= draft.comment_by)
    if awaiting_comments or draft.shared_with_complainant_at is None:
        return prompts
    fields = (
        Field("body", "Final response", FieldKind.TEXT, default=draft.text),
        Field("signed_by", "Signed by (responsible person)", FieldKind.TEXT),
        Field("signed_role", "Their role", FieldKind.TEXT, default="Chief Executive"),
    )
    send = c.SendFinalResponse(actor=actor, body=draft.text, signed_by="", signed_role="")
    prompts.append(
        Prompt(
            "final_response",
            "Send the final joint response when comments are reflected.",
            (Choice("Send the final response", send, fields),),
        )
    )
    return prompts


def impasse(case: Case, actor: Actor, today: date) -> list[Prompt]:
    impasse = case.impasse
    if impasse is None or impasse.resolved_at is not None or today <= impasse.resolve_by:
        return []
    fields = (
        Field("answered", "What could be answered", FieldKind.TEXT),
        Field("not_possible", "Where and why a full response was not possible", FieldKind.TEXT),
        Field("why_no_agreement", "Why agreement was not reached", FieldKind.TEXT),
    )
    cmd = c.SendPartialResponse(actor=actor, answered="", not_possible="", why_no_agreement="")
    return [
        Prompt(
            "partial_response",
            f"Senior managers did not resolve '{impasse.matter}' by "
            f"{impasse.resolve_by:%d %b %Y}: respond as far as possible.",
            (Choice("Write the partial response", cmd, fields),),
        )
    ]


def closing(case: Case, actor: Actor, today: date) -> list[Prompt]:
    if case.status is not Status.RESPONDED:
        return []
    open_actions = [a for a in case.actions.values() if a.completed_at is None]
    if open_actions:
        evidence = Field("evidence", "Evidence it was done", FieldKind.TEXT)
        return [
            Prompt(
                f"action:{a.id}",
                f"Action {a.id} for {case.orgs[a.owner_org].name} is due {a.due:%d %b %Y}: {a.description}",
                (
                    Choice(
                        "Record it done",
                        c.CompleteAction(actor=actor, action_id=a.id, evidence=""),
                        (evidence,),
                    ),
                ),
            )
            for a in open_actions
        ]
    outcome = Field(
        "outcome",
        "Outcome",
        FieldKind.CHOICE,
        options=tuple((o.value, o.value.replace("_", " ")) for o in Outcome),
    )
    return [
        Prompt(
            "close",
            "The response is sent and every action is done: close the case.",
            (Choice("Close", c.CloseCase(actor=actor, outcome=Outcome.UPHELD), (outcome,)),),
        )
    ]


def overdue(case: Case, actor: Actor, today: date) -> list[Prompt]:
    if case.status is Status.RESPONDED or case.delay_letter_at is not None:
        return []
    due = response_due(case.received_on, case.longer_period_until, case.longer_period_agreed_on)
    if today <= due:
        return []
    fields = (
        Field("reasons", "Why it is late", FieldKind.TEXT),
        Field("expected_by", "Expected by", FieldKind.DATE, default=add_working_days(today, 20)),
    )
    cmd = c.SendDelayLetter(actor=actor, reasons="", expected_by=today)
    return [
        Prompt(
            "delay",
            f"No response by {due:%d %b %Y}: the law requires a letter explaining why.",
            (Choice("Write the delay letter", cmd, fields),),
        )
    ]
