"""What to ask from the plan to closure (DOMAIN.md section 2, steps 7 to 13)."""

from __future__ import annotations

from datetime import date

from flows import commands as c
from flows.calendar import (
    add_working_days,
    london_date,
    response_due,
)
from flows.conversation import Choice, Field, FieldKind, Prompt
from flows.drafting import (
    NO_ACTIONS,
    TO_COMPLETE,
    awaiting_sign_off,
    contributors,
    impasse_answerers,
    overall_outcome,
    partial_response_draft,
    sign_off_waived,
    unwritten,
    what_will_be_done,
)
from flows.model import (
    Action,
    Actor,
    Case,
    Impasse,
    Outcome,
    Role,
    Status,
)
from flows.moves import ALLOWED
from flows.rules import long_date

OUTCOME_WORDS = {
    Outcome.UPHELD: "Upheld",
    Outcome.PARTLY_UPHELD: "Partly upheld",
    Outcome.NOT_UPHELD: "Not upheld",
}


def actions_for(case: Case, actor: Actor, org_id: str, today: date) -> list[Prompt]:
    """The actions an organisation owes after the response: done, with evidence."""
    if case.status is not Status.RESPONDED:
        return []
    return [
        _action_done(case, actor, a)
        for a in case.actions.values()
        if a.owner_org == org_id and not a.completed_at
    ]


def actions(case: Case, actor: Actor, today: date) -> list[Prompt]:
    """What will be done to put things right: asked with the draft (each action with an owner and a
    date, or why none is needed) and added to until outcomes are recorded; then the learning."""
    responded = case.status is Status.RESPONDED
    if not (_with_the_draft(case) or (responded and not case.outcomes)):
        return []
    prompts = [_add_action(case, actor, today)]
    if responded and not case.learning:
        prompts.append(_learning(actor))
    return prompts


def _with_the_draft(case: Case) -> bool:
    """From when the draft can be written (every organisation has responded) to the final response."""
    if case.status is Status.INVESTIGATING:
        return all(s.contribution is not None for s in case.strands.values())
    return case.status is Status.DRAFTING


def _add_action(case: Case, actor: Actor, today: date) -> Prompt:
    fields = (
        Field("owner_org", "Which organisation", FieldKind.CHOICE,
              options=tuple((o, case.orgs[o].name) for o in case.involved), default=case.coordinator),
        Field("description", "The action", FieldKind.TEXT),
        Field("due", "Due by", FieldKind.DATE, default=add_working_days(today, 20)),
    )  # fmt: skip
    cmd = c.AddAction(actor=actor, owner_org=case.coordinator, description="", due=today)
    choices = [Choice("Add an action", cmd, fields)]
    listed = "; ".join(f"{a.id} ({case.orgs[a.owner_org].name})" for a in case.actions.values())
    detail = f"Actions so far: {listed}." if listed else ""
    if not listed and case.status is not Status.RESPONDED:  # the response says what is put right
        choices.append(_no_action(case, actor))
        detail = "The response must list the actions, or say why none is needed."
        if case.no_action_reason:
            detail = f"Recorded: no action is needed, because {case.no_action_reason}"
    return Prompt(
        "add_action",
        "Any action promised in the response? Each has an owner and a due date, and is followed up.",
        tuple(choices),
        detail=detail,
    )


def _no_action(case: Case, actor: Actor) -> Choice:
    because = "No action is needed, because ..."
    reason = Field("reason", because, FieldKind.TEXT, default=case.no_action_reason)
    return Choice("No action is needed", c.RecordNoActionNeeded(actor=actor, reason=""), (reason,))


def _learning(actor: Actor) -> Prompt:
    text = Field("text", "The learning (shared between the organisations: no names)", FieldKind.TEXT)
    return Prompt(
        "learning",
        "What have the organisations learned from this complaint?",
        (Choice("Record the learning", c.RecordLearning(actor=actor, text=""), (text,)),),
        detail="It goes to each other organisation involved whose consent is on record.",
    )


def _action_done(case: Case, actor: Actor, a: Action) -> Prompt:
    evidence = Field("evidence", "Evidence it was done", FieldKind.TEXT)
    return Prompt(
        f"action:{a.id}",
        f"Action {a.id} for {case.orgs[a.owner_org].name} is due {a.due:%d %b %Y}: {a.description}",
        (Choice("Record it done", c.CompleteAction(actor=actor, action_id=a.id, evidence=""), (evidence,)),),
    )


def comments_for(case: Case, actor: Actor, org_id: str, today: date) -> list[Prompt]:
    """A contributing organisation's comments on the draft and its sign-off, until it signs off."""
    draft = case.draft
    if case.status is not Status.DRAFTING or draft is None or draft.comment_by is None:
        return []
    if org_id not in contributors(case) or org_id in draft.signed_off or not case.consent_active(org_id):
        return []
    comment = Field("comment", "Your comments", FieldKind.TEXT)
    detail = "The draft was emailed to your complaints inbox."
    if org_id in draft.comments:
        detail += " Your comments are with the lead: approve the draft once they are reflected."
    return [
        Prompt(
            f"comments:{org_id}",
            f"Comments on the draft joint response for {case.ref}, by {long_date(draft.comment_by)}?",
            (
                Choice("Approve it", c.SignOffDraft(actor=actor, org_id=org_id)),
                Choice("Send comments", c.RecordComment(actor=actor, org_id=org_id, comment=""), (comment,)),
            ),
            detail=detail,
        )
    ]


def impasse_answer(case: Case, actor: Actor, org_id: str, today: date) -> list[Prompt]:
    """A senior manager's answer to an impasse, for their organisation, until it has answered."""
    impasse = case.impasse
    if Role.MANAGER not in actor.roles or actor.org_id != org_id or org_id not in impasse_answerers(case):
        return []
    if impasse is None or impasse.resolved_at is not None or org_id in impasse.answers:
        return []
    if case.status not in ALLOWED[c.AnswerImpasse]:  # step 2 has gone: the lead answered the person
        return []
    outcome = Field("outcome", "What was agreed", FieldKind.TEXT)
    resolved = c.AnswerImpasse(actor=actor, org_id=org_id, resolved=True, outcome="")
    return [
        Prompt(
            f"impasse:{org_id}",
            f"The organisations have not agreed on '{impasse.matter}' since "
            f"{long_date(london_date(impasse.raised_at))}. Can senior managers resolve it for "
            f"{case.orgs[org_id].name} by {long_date(impasse.resolve_by)}?",
            (
                Choice("Resolved", resolved, (outcome,)),
                Choice("Cannot resolve", c.AnswerImpasse(actor=actor, org_id=org_id, resolved=False)),
            ),
            detail="If it is not resolved by then, the lead responds to the person as far as it can "
            "and tells them they may go to the Ombudsman.",
        )
    ]


def drafting(case: Case, actor: Actor, today: date) -> list[Prompt]:
    """The joint response: comment round, each organisation's comments and sign-off, sharing the
    draft with the person, then the final response."""
    draft = case.draft
    if case.status is not Status.DRAFTING or draft is None:
        return []
    if unwritten(draft.text):
        return [_complete_draft(case, actor)]
    waiting = awaiting_sign_off(case)
    if contributors(case) and draft.comment_by is None:
        by = Field("comment_by", "Comments by", FieldKind.DATE, default=add_working_days(today, 5))
        cmd = c.OpenCommentRound(actor=actor, comment_by=today)
        return [
            Prompt(
                "comment_round",
                "Send the draft to every contributing organisation for comment and sign-off.",
                (Choice("Send for comment", cmd, (by,)),),
            )
        ]
    prompts = [p for o in waiting for p in _on_behalf(case, actor, o)]
    if draft.shared_with_complainant_at is None:
        prompts.append(
            Prompt(
                "share_draft",
                "Share the draft with the person?",
                (Choice("Share it", c.ShareDraftWithComplainant(actor=actor)),),
            )
        )
    elif (not waiting or sign_off_waived(case, today)) and (case.actions or case.no_action_reason):
        prompts.append(_final_response(case, actor, waiting))  # what is put right is asked by `actions`
    return prompts


def _complete_draft(case: Case, actor: Actor) -> Prompt:
    """A draft with parts still to write goes to no one; what will be put right is filled in once known."""
    assert case.draft is not None
    text = case.draft.text.replace(NO_ACTIONS, what_will_be_done(case))
    field = Field("text", "Draft joint response", FieldKind.TEXT, default=text)
    return Prompt(
        "complete_draft",
        f"The draft still has parts marked '{TO_COMPLETE} ...]': write them before it goes to anyone.",
        (Choice("Record the draft", c.RecordDraft(actor=actor, text=""), (field,)),),
    )


def _on_behalf(case: Case, actor: Actor, org_id: str) -> list[Prompt]:
    """Comments and sign-off recorded for an organisation that sent them by email or phone."""
    assert case.draft is not None
    name = case.orgs[org_id].name
    comment = Field("comment", "Their comment", FieldKind.TEXT)
    prompts = [
        Prompt(
            f"signoff:{org_id}",
            f"Has {name} signed off the draft?",
            (Choice("Signed off", c.SignOffDraft(actor=actor, org_id=org_id)),),
        )
    ]
    if org_id not in case.draft.comments:
        record = Choice("Record them", c.RecordComment(actor=actor, org_id=org_id, comment=""), (comment,))
        prompts.insert(0, Prompt(f"comment:{org_id}", f"Comments from {name}?", (record,)))
    return prompts


def _final_response(case: Case, actor: Actor, waiting: list[str]) -> Prompt:
    assert case.draft is not None
    fields = (
        Field("body", "Final response", FieldKind.TEXT, default=case.draft.text),
        Field("signed_by", "Signed by (responsible person)", FieldKind.TEXT),
        Field("signed_role", "Their role", FieldKind.TEXT, default="Chief Executive"),
    )
    send = c.SendFinalResponse(actor=actor, body=case.draft.text, signed_by="", signed_role="")
    unsigned = ", ".join(case.orgs[o].name for o in waiting)
    return Prompt(
        "final_response",
        "Send the final joint response when comments are reflected.",
        (Choice("Send the final response", send, fields),),
        detail=f"Not signed off by {unsigned}: the impasse steps were followed instead." if waiting else "",
    )


def impasse(case: Case, actor: Actor, today: date) -> list[Prompt]:
    """The impasse steps: step 2 once senior managers' date passed unresolved, drafted from the case
    for the lead to approve, then step 3, the Ombudsman. A lead handler who is also a senior manager
    answers for their own organisation here."""
    impasse = case.impasse
    own = impasse_answer(case, actor, actor.org_id, today)
    if case.partial_response_at is not None:
        if case.ombudsmen_signposted or case.status is not Status.RESPONDED:
            return []
        signpost = Choice("Send the Ombudsman signposting", c.SignpostOmbudsman(actor=actor))
        return [
            Prompt("ombudsman", "Step 3: tell the person they may take it to the Ombudsman.", (signpost,))
        ]
    if impasse is None or impasse.resolved_at is not None or today <= impasse.resolve_by:
        return own
    return [*own, _partial_response(case, actor, impasse)]


def _partial_response(case: Case, actor: Actor, impasse: Impasse) -> Prompt:
    drafted = partial_response_draft(case)
    labels = {
        "answered": "What could be answered",
        "not_possible": "Where and why a full response was not possible",
        "why_no_agreement": "Why agreement was not reached",
    }
    fields = tuple(
        Field(name, label, FieldKind.TEXT, default=drafted[name]) for name, label in labels.items()
    )
    cmd = c.SendPartialResponse(actor=actor, answered="", not_possible="", why_no_agreement="")
    return Prompt(
        "partial_response",
        f"Senior managers did not resolve '{impasse.matter}' by "
        f"{impasse.resolve_by:%d %b %Y}: respond as far as possible.",
        (Choice("Write the partial response", cmd, fields),),
    )


def closing(case: Case, actor: Actor, today: date) -> list[Prompt]:
    """After the response: each action done, each organisation's outcome, then (once coded) closure."""
    if case.status is not Status.RESPONDED:
        return []
    open_actions = [a for a in case.actions.values() if a.completed_at is None]
    if open_actions:
        return [_action_done(case, actor, a) for a in open_actions]
    no_outcome = [o for o in case.involved if o not in case.outcomes]
    if no_outcome:
        return [
            Prompt(
                f"outcome:{o}",
                f"Was the complaint upheld for {case.orgs[o].name}?",
                tuple(
                    Choice(OUTCOME_WORDS[v], c.RecordOutcome(actor=actor, org_id=o, outcome=v))
                    for v in Outcome
                ),
            )
            for o in no_outcome
        ]
    if case.coding is None:  # asked first, by `flows.asks_records.coding`
        return []
    overall = overall_outcome(case.outcomes[o] for o in case.involved)
    outcome = Field(
        "outcome",
        "Outcome",
        FieldKind.CHOICE,
        options=tuple((v.value, OUTCOME_WORDS[v].lower()) for v in Outcome),
        default=overall,
    )
    return [
        Prompt(
            "close",
            "The response is sent, every action is done and each outcome recorded: close the case.",
            (Choice("Close", c.CloseCase(actor=actor, outcome=overall), (outcome,)),),
        )
    ]


def delay_reasons(case: Case) -> str:
    """A first draft of why the response is late, from where the case stands, for the handler to edit."""
    waiting = sorted({case.orgs[s.org_id].name for s in case.strands.values() if s.contribution is None})
    if waiting:
        return f"We are still waiting for the findings of {', '.join(waiting)}."
    if case.impasse is not None and case.impasse.resolved_at is None:
        return "The organisations involved have not yet agreed, and their senior managers are working on it."
    if case.draft is not None:
        return "Every organisation involved must agree the joint response before we send it."
    return (
        "Agreeing how the organisations involved will look into your complaint has taken longer than planned."
    )


def overdue(case: Case, actor: Actor, today: date) -> list[Prompt]:
    if case.status is Status.RESPONDED or case.delay_letter_at is not None:
        return []
    due = response_due(case.received_on, case.longer_period_until, case.longer_period_agreed_on)
    if today <= due:
        return []
    fields = (
        Field("reasons", "Why it is late", FieldKind.TEXT, default=delay_reasons(case)),
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
