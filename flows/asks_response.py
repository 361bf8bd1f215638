"""What to ask from the plan to closure (DOMAIN.md section 2, steps 7 to 13)."""

from __future__ import annotations

from datetime import date
from functools import partial

from flows import asks_draft
from flows import commands as c
from flows.calendar import (
    add_working_days,
    london_date,
    response_due,
)
from flows.conversation import Choice, Field, FieldKind, Prompt
from flows.drafting import (
    awaiting_sign_off,
    comments_in,
    contributors,
    impasse_answerers,
    overall_outcome,
    partial_response_draft,
    sign_off_waived,
    unwritten,
)
from flows.model import (
    Action,
    Actor,
    AnswerChannel,
    Case,
    Impasse,
    Outcome,
    Role,
    Status,
)
from flows.moves import ALLOWED
from flows.rules import long_date

HOW_OPTIONS = (  # how senior managers answered, when the lead records it for them
    (AnswerChannel.PHONE.value, "By phone"),
    (AnswerChannel.EMAIL.value, "By email"),
    (AnswerChannel.MEETING.value, "At a meeting"),
)
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
    text = Field(
        "text", "The learning (shared between the organisations: no names)", FieldKind.TEXT, long=True
    )
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
    comment = Field("comment", "Your comments", FieldKind.TEXT, long=True)
    detail = "The draft was emailed to your complaints inbox."
    if org_id in draft.comments:
        detail += " Your comments are with the lead: approve the draft once they are reflected."
    return [
        Prompt(
            f"comments:{org_id}",
            f"Comments on {asks_draft.the_draft(draft)} joint response for {case.ref}, "
            f"by {long_date(draft.comment_by)}?",
            (
                Choice("Approve it", c.SignOffDraft(actor=actor, org_id=org_id)),
                Choice("Send comments", c.RecordComment(actor=actor, org_id=org_id, comment=""), (comment,)),
            ),
            detail=detail,
        )
    ]


def impasse_answer(case: Case, actor: Actor, org_id: str, today: date) -> list[Prompt]:
    """A senior manager's answer to an impasse, for their organisation, until it has answered."""
    impasse = _with_senior_managers(case)
    if Role.MANAGER not in actor.roles or actor.org_id != org_id or org_id not in impasse_answerers(case):
        return []
    if impasse is None or org_id in impasse.answers:
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
        return [asks_draft.complete_draft(case, actor)]
    waiting = awaiting_sign_off(case)
    if contributors(case) and draft.comment_by is None:
        return [asks_draft.comment_round(case, actor, today)]
    to_reflect = [o for o in draft.comments if o in waiting]  # commented, and not signed off since
    revise = bool(to_reflect) and comments_in(case, today) and not draft.kept
    prompts = [asks_draft.revise(case, actor)] if revise else []
    prompts.extend(p for o in waiting for p in asks_draft.on_behalf(case, actor, o))
    if draft.shared_with_complainant_at is None:
        prompts.append(
            Prompt(
                "share_draft",
                "Share the draft with the person?",
                (Choice("Share it", c.ShareDraftWithComplainant(actor=actor)),),
            )
        )
    elif (not waiting or sign_off_waived(case, today)) and (case.actions or case.no_action_reason):
        prompts.append(asks_draft.final_response(case, actor, waiting))  # what is put right: `actions`
    return prompts


IMPASSE_STEPS = frozenset({"impasse_answer", "resolve_impasse", "partial_response", "ombudsman"})  # ids


def impasse(case: Case, actor: Actor, today: date) -> list[Prompt]:
    """The impasse steps: senior managers' answers (the lead records those given by phone, email or
    at a meeting, or the impasse resolved), step 2 once their date passed unresolved, drafted from
    the case for the lead to approve, then step 3, the Ombudsman, and a late response that lets the
    full response follow. A lead handler who is also a senior manager answers for their own
    organisation here."""
    if case.partial_response_at is not None:
        return _after_partial(case, actor)
    impasse = _with_senior_managers(case)
    if impasse is None:
        return []
    prompts = [
        *impasse_answer(case, actor, actor.org_id, today),
        *_answers_on_behalf(case, actor, impasse),
        _resolve(actor, impasse),
    ]
    if today > impasse.resolve_by:
        prompts.append(_partial_response(case, actor, impasse))
    return prompts


def _with_senior_managers(case: Case) -> Impasse | None:
    """The impasse senior managers are answering: unresolved, and step 2 not yet gone."""
    impasse = case.impasse
    if impasse is None or impasse.resolved_at is not None or case.partial_response_at is not None:
        return None
    return impasse if case.status in ALLOWED[c.AnswerImpasse] else None


def _answers_on_behalf(case: Case, actor: Actor, impasse: Impasse) -> list[Prompt]:
    """What each organisation's senior managers said by phone, email or at a meeting, recorded by the
    lead as that organisation's answer (a senior manager among the lead's handlers answers in person)."""
    how = Field("how", "How they answered", FieldKind.CHOICE, options=HOW_OPTIONS, default=HOW_OPTIONS[0][0])
    outcome = Field("outcome", "What was agreed", FieldKind.TEXT)
    prompts = []
    for org_id in impasse_answerers(case):
        if org_id in impasse.answers or (org_id == actor.org_id and Role.MANAGER in actor.roles):
            continue
        answer = partial(c.AnswerImpasse, actor=actor, org_id=org_id, how=AnswerChannel.PHONE)
        prompts.append(
            Prompt(
                f"impasse_answer:{org_id}",
                f"Record what {case.orgs[org_id].name}'s senior managers said about '{impasse.matter}'.",
                (
                    Choice("Resolved", answer(resolved=True), (outcome, how)),
                    Choice("Cannot resolve", answer(resolved=False), (how,)),
                ),
                detail="When they answered by phone, email or at a meeting rather than here.",
            )
        )
    return prompts


def _resolve(actor: Actor, impasse: Impasse) -> Prompt:
    resolution = Field("resolution", "The outcome", FieldKind.TEXT)
    return Prompt(
        "resolve_impasse",
        f"Has '{impasse.matter}' been resolved between the organisations?",
        (Choice("Record it resolved", c.ResolveImpasse(actor=actor, resolution=""), (resolution,)),),
        detail="Record the outcome once senior managers have agreed it, however they did.",
    )


def _after_partial(case: Case, actor: Actor) -> list[Prompt]:
    """After step 2, until a full response follows it: step 3, the Ombudsman, and any response that
    comes late, which lets the full response be drafted."""
    if case.status is not Status.RESPONDED or case.final_response_at is not None:
        return []
    signpost = Choice("Send the Ombudsman signposting", c.SignpostOmbudsman(actor=actor))
    step_3 = Prompt("ombudsman", "Step 3: tell the person they may take it to the Ombudsman.", (signpost,))
    return [*([] if case.ombudsmen_signposted else [step_3]), *asks_draft.late_response(case, actor)]


def _partial_response(case: Case, actor: Actor, impasse: Impasse) -> Prompt:
    drafted = partial_response_draft(case)
    labels = {
        "answered": "What could be answered",
        "not_possible": "Where and why a full response was not possible",
        "why_no_agreement": "Why agreement was not reached",
    }
    fields = tuple(
        Field(name, label, FieldKind.TEXT, default=drafted[name], long=True) for name, label in labels.items()
    )
    cmd = c.SendPartialResponse(actor=actor, answered="", not_possible="", why_no_agreement="")
    return Prompt(
        "partial_response",
        f"Senior managers did not resolve '{impasse.matter}' by "
        f"{impasse.resolve_by:%d %b %Y}: respond as far as possible.",
        (Choice("Write the partial response", cmd, fields),),
    )


def closing(case: Case, actor: Actor, today: date) -> list[Prompt]:
    """After the response: each action done, each organisation's outcome, then (once coded) closure.
    After a partial response alone, only once the person has been told of the Ombudsman (step 3)."""
    if case.status is not Status.RESPONDED:
        return []
    if case.final_response_at is None and not case.ombudsmen_signposted:
        return []  # step 3 first (`_after_partial`)
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
    overall = overall_outcome(case.outcomes[o] for o in case.involved)  # the record answers it
    return [
        Prompt(
            "close",
            "The response is sent, every action is done and each outcome recorded "
            f"({OUTCOME_WORDS[overall].lower()} overall): close the case.",
            (Choice("Close", c.CloseCase(actor=actor, outcome=overall)),),
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
    if case.status is Status.RESPONDED or case.delay_letter_at is not None or case.partial_response_at:
        return []  # responded, in part at least, or the delay already explained
    due = response_due(case.received_on, case.longer_period_until, case.longer_period_agreed_on)
    if today <= due:
        return []
    fields = (
        Field("reasons", "Why it is late", FieldKind.TEXT, default=delay_reasons(case), long=True),
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
