"""The prompts of the joint response's draft, as `flows.asks_response.drafting` puts them to the
lead: parts still to write, the comment round, comments and sign-off recorded for an organisation,
revising the draft after the comments, and the final response; and, after a partial response, the
late contribution and the full response that follows it.

A draft is named by its version once it has been revised ("version 2 of the draft"): sign-off is
asked of each version afresh.
"""

from __future__ import annotations

from datetime import date

from flows import commands as c
from flows.calendar import add_working_days, london_date
from flows.conversation import Choice, Field, FieldKind, Prompt
from flows.drafting import NO_ACTIONS, TO_COMPLETE, assemble_draft, what_will_be_done
from flows.model import Actor, Case, Draft
from flows.rules import long_date


def the_draft(draft: Draft) -> str:
    """'the draft', or 'version 2 of the draft' once it has been revised after comments."""
    return "the draft" if draft.version == 1 else f"version {draft.version} of the draft"


def complete_draft(case: Case, actor: Actor) -> Prompt:
    """A draft with parts still to write goes to no one; what will be put right is filled in once known."""
    assert case.draft is not None
    text = case.draft.text.replace(NO_ACTIONS, what_will_be_done(case))
    field = Field("text", "Draft joint response", FieldKind.TEXT, long=True, default=text)
    return Prompt(
        "complete_draft",
        f"The draft still has parts marked '{TO_COMPLETE} ...]': write them before it goes to anyone.",
        (Choice("Record the draft", c.RecordDraft(actor=actor, text=""), (field,)),),
    )


def comment_round(case: Case, actor: Actor, today: date) -> Prompt:
    assert case.draft is not None
    by = Field("comment_by", "Comments by", FieldKind.DATE, default=add_working_days(today, 5))
    cmd = c.OpenCommentRound(actor=actor, comment_by=today)
    return Prompt(
        "comment_round",
        f"Send {the_draft(case.draft)} to every contributing organisation for comment and sign-off.",
        (Choice("Send for comment", cmd, (by,)),),
    )


def on_behalf(case: Case, actor: Actor, org_id: str) -> list[Prompt]:
    """Comments and sign-off recorded for an organisation that sent them by email or phone."""
    assert case.draft is not None
    name = case.orgs[org_id].name
    comment = Field("comment", "Their comment", FieldKind.TEXT, long=True)
    prompts = [
        Prompt(
            f"signoff:{org_id}",
            f"Has {name} signed off {the_draft(case.draft)}?",
            (Choice("Signed off", c.SignOffDraft(actor=actor, org_id=org_id)),),
        )
    ]
    if org_id not in case.draft.comments:
        record = Choice("Record them", c.RecordComment(actor=actor, org_id=org_id, comment=""), (comment,))
        prompts.insert(0, Prompt(f"comment:{org_id}", f"Comments from {name}?", (record,)))
    return prompts


def revise(case: Case, actor: Actor) -> Prompt:
    """The comments are in: the lead revises the draft (a new version, signed off afresh) or keeps it."""
    draft = case.draft
    assert draft is not None
    names = ", ".join(case.orgs[o].name for o in draft.comments)
    text = Field("text", "Revised draft joint response", FieldKind.TEXT, long=True, default=draft.text)
    return Prompt(
        "revise_draft",
        f"The comments on {the_draft(draft)} are in (from {names}): revise it, or keep it as it is?",
        (
            Choice("Revise the draft", c.RecordDraft(actor=actor, text=""), (text,)),
            Choice("Keep it as it is", c.KeepDraft(actor=actor)),
        ),
        detail=f"A revised draft is version {draft.version + 1}: every contributing organisation is asked "
        "to sign off that version, and earlier sign-offs do not count for it.",
    )


def final_response(case: Case, actor: Actor, waiting: list[str]) -> Prompt:
    assert case.draft is not None
    fields = (
        Field("body", "Final response", FieldKind.TEXT, long=True, default=case.draft.text),
        Field("signed_by", "Signed by (responsible person)", FieldKind.TEXT),
        Field("signed_role", "Their role", FieldKind.TEXT, default="Chief Executive"),
    )
    send = c.SendFinalResponse(actor=actor, body=case.draft.text, signed_by="", signed_role="")
    unsigned = ", ".join(case.orgs[o].name for o in waiting)
    notes = [f"Not signed off by {unsigned}: the impasse steps were followed instead."] if waiting else []
    if case.partial_response_at is not None:
        notes.append(f"The letter says it follows the partial response of {_partial_day(case)}.")
    return Prompt(
        "final_response",
        "Send the final joint response when comments are reflected.",
        (Choice("Send the final response", send, fields),),
        detail=" ".join(notes),
    )


def late_response(case: Case, actor: Actor) -> list[Prompt]:
    """After the partial response: each response still missing, recorded when it comes late; once
    every organisation has responded, the full response drafted to follow the partial one."""
    waiting = [s for s in case.strands.values() if s.contribution is None]
    if waiting:
        return [_late_contribution(case, actor, s.id) for s in waiting]
    text = Field("text", "Draft joint response", FieldKind.TEXT, long=True, default=assemble_draft(case))
    return [
        Prompt(
            "full_response",
            "Every organisation has now responded: draft the full joint response, to follow the "
            f"partial response of {_partial_day(case)}.",
            (Choice("Record the draft", c.RecordDraft(actor=actor, text=""), (text,)),),
        )
    ]


def _late_contribution(case: Case, actor: Actor, strand_id: str) -> Prompt:
    strand = case.strands[strand_id]
    summary = Field("summary", "What they found", FieldKind.TEXT, long=True)
    record = c.RecordContribution(actor=actor, strand_id=strand_id, summary="")
    return Prompt(
        f"late_contribution:{strand_id}",
        f"{case.orgs[strand.org_id].name}'s response on {strand_id} was not in for the partial response: "
        "record it if it comes, and a full response can follow.",
        (Choice("Record it", record, (summary,)),),
    )


def _partial_day(case: Case) -> str:
    assert case.partial_response_at is not None
    return long_date(london_date(case.partial_response_at))
