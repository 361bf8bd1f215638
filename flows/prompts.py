"""`next_prompts(case, actor, now)`: what to ask whom next. Conversation state is case state.

A prompt is transport-neutral: a question and its choices. Each choice carries the command it
means, with the fields a person must fill in first (a date, a reason, a list of organisations).
Slack renders prompts as Block Kit, the terminal as numbered options; `fill` turns a choice and
the person's answers into the command, which `flows.decide` still judges in full.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from flows import commands as c
from flows.calendar import (
    add_working_days,
    end_of_next_working_day,
    london_date,
    response_due,
    time_limit_check,
)
from flows.codec import decode
from flows.model import (
    Actor,
    Case,
    Channel,
    ConsentMethod,
    ConsentState,
    LeadCriterion,
    Outcome,
    Status,
)
from flows.rules import COORDINATING_ROLES, ORG_ROLES

DEFAULT_UPDATE_EVERY = 20

CRITERIA_WORDING = {
    LeadCriterion.GREATEST_RESPONSIBILITY: "has the greatest responsibility for the care complained about",
    LeadCriterion.BEST_RELATIONSHIP: "has the best relationship with the person",
    LeadCriterion.MOST_RESOURCE: "has the most complaint-handling resource",
    LeadCriterion.MAIN_COMMISSIONER: "is the main commissioner (several NHS bodies involved)",
}


class FieldKind(StrEnum):
    TEXT = "text"
    DATE = "date"
    BOOL = "bool"
    INT = "int"
    CHOICE = "choice"
    MULTI_CHOICE = "multi_choice"
    ORGANISATIONS = "organisations"  # a multi-select from the organisation directory


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: FieldKind
    options: tuple[tuple[str, str], ...] = ()  # (value, label)
    default: Any = None
    required: bool = True


@dataclass(frozen=True)
class Choice:
    label: str
    command: c.Command
    fields: tuple[Field, ...] = ()


@dataclass(frozen=True)
class Prompt:
    id: str
    question: str
    choices: tuple[Choice, ...]
    detail: str = ""


def fill(choice: Choice, values: Mapping[str, Any]) -> c.Command:
    """The choice's command with the person's answers in place.

    Answers may be plain values as a transport has them ("2026-12-01", "phone", a dict for an
    organisation); they are typed by the command's own annotations. A value that cannot be typed
    raises ValueError, which transports show as "that answer was not understood".
    """
    unknown = set(values) - {f.name for f in choice.fields}
    if unknown:
        raise ValueError(f"not fields of this choice: {', '.join(sorted(unknown))}")
    hints = typing.get_type_hints(type(choice.command))
    try:
        typed = {name: decode(hints[name], value) for name, value in values.items()}
    except (TypeError, KeyError, AttributeError) as error:
        raise ValueError(f"an answer could not be understood: {error}") from error
    return replace(choice.command, **typed)


def next_prompts(case: Case, actor: Actor, now: datetime) -> list[Prompt]:
    """The questions waiting for `actor` on `case` at `now`, most urgent first."""
    if case.version == 0 or case.status is Status.CLOSED:
        return []
    prompts: list[Prompt] = []
    if _coordinates(case, actor):
        for ask in _COORDINATOR_ASKS:
            prompts.extend(ask(case, actor, london_date(now)))
    elif actor.org_id in case.involved and actor.roles & ORG_ROLES:
        prompts.extend(_lead_answer(case, actor, actor.org_id))
    return prompts


def _coordinates(case: Case, actor: Actor) -> bool:
    return bool(actor.roles & COORDINATING_ROLES) and actor.org_id == case.coordinator


Ask = Callable[[Case, Actor, date], list[Prompt]]


def _acknowledge(case: Case, actor: Actor, today: date) -> list[Prompt]:
    if case.acknowledged_at:
        return []
    letters = [x for x in case.letters.values() if x.template in ("acknowledgement", "written_record")]
    if any(not x.failed for x in letters):
        return []
    why = (
        f"The acknowledgement could not be emailed ({letters[-1].failed})"
        if letters
        else "We have no email address"
    )
    cmd = c.RecordAcknowledgement(actor=actor, method=ConsentMethod.PHONE, on=today)
    fields = (_method_field(), Field("on", "On", FieldKind.DATE, default=today))
    choice = Choice("Record how it was acknowledged", cmd, fields)
    return [Prompt("acknowledge", f"{why}: acknowledge by phone or post.", (choice,))]


def _time_limit(case: Case, actor: Actor, today: date) -> list[Prompt]:
    assert case.received_at is not None
    check = time_limit_check(london_date(case.received_at), case.happened_on, case.aware_on)
    if check.within is not False or case.out_of_time is not None:
        return []
    reasons = Field("reasons", "Reasons", FieldKind.TEXT)
    return [
        Prompt(
            "out_of_time",
            "This complaint may be outside the 12-month time limit. Investigate it anyway?",
            (
                Choice(
                    "Yes: good reason, and a fair investigation is possible",
                    c.DecideOutOfTime(actor=actor, accept=True, reasons=""),
                    (reasons,),
                ),
                Choice("No", c.DecideOutOfTime(actor=actor, accept=False, reasons=""), (reasons,)),
            ),
            detail=check.reason,
        )
    ]


def _organisations(case: Case, actor: Actor, today: date) -> list[Prompt]:
    if case.orgs_identified:
        return []
    home = case.orgs[case.home_org]
    suggested = tuple(dict.fromkeys((*case.suggested_orgs, case.home_org)))
    pick = Field("orgs", "Organisations involved", FieldKind.ORGANISATIONS, default=suggested)
    choices = [
        Choice("Choose the organisations", c.IdentifyOrganisations(actor=actor, orgs=()), (pick,)),
        Choice(f"Only {home.name}", c.IdentifyOrganisations(actor=actor, orgs=(home,))),
    ]
    if case.channel in (Channel.PHONE, Channel.IN_PERSON) and today <= end_of_next_working_day(
        _received(case)
    ):
        note = Field("note", "How it was resolved", FieldKind.TEXT)
        choices.append(
            Choice(
                "Resolved to their satisfaction already", c.ResolveInformally(actor=actor, note=""), (note,)
            )
        )
    return [Prompt("organisations", "Which organisations does this complaint involve?", tuple(choices))]


def _consent(case: Case, actor: Actor, today: date) -> list[Prompt]:
    if not case.orgs_identified or case.lead is not None:
        return []
    waiting = tuple(o for o in case.others if not case.consent_active(o) and not _refused(case, o))
    prompts = []
    if waiting:
        names = ", ".join(case.orgs[o].name for o in waiting)
        given = c.RecordConsent(
            actor=actor, org_ids=waiting, method=ConsentMethod.PHONE, given_on=today, capacity_confirmed=True
        )
        fields = (
            _method_field(),
            Field("given_on", "Given on", FieldKind.DATE, default=today),
            Field("capacity_confirmed", "You are satisfied they can consent", FieldKind.BOOL, default=True),
        )
        choices = [Choice("Consent given", given, fields)]
        if not any(_state(case, o) is ConsentState.REQUESTED for o in waiting):
            choices.append(
                Choice("Send the consent request letter", c.RequestConsent(actor=actor, org_ids=waiting))
            )
        choices.append(Choice("Consent refused", c.RecordConsentRefused(actor=actor, org_ids=waiting)))
        prompts.append(
            Prompt(
                "consent",
                f"Has the person consented to sharing with {names}?",
                tuple(choices),
                detail="Consent covers sharing their details and learning, so the "
                "complaint is handled together, with one contact and one response.",
            )
        )
    refused = tuple(o for o in case.others if _refused(case, o))
    if refused:
        names = ", ".join(case.orgs[o].name for o in refused)
        prompts.append(
            Prompt(
                "signpost",
                f"Consent refused for {names}: tell the person how to contact them directly.",
                (Choice("Send the signposting letter", c.Signpost(actor=actor, org_ids=refused)),),
            )
        )
    if not case.ours:
        for org_id in case.others:
            if case.consent_active(org_id) and org_id not in case.passed_on:
                prompts.append(
                    Prompt(
                        f"pass_on:{org_id}",
                        "This is not ours: pass it on to "
                        f"{case.orgs[org_id].name} with the person's consent?",
                        (Choice("Pass it on", c.PassOn(actor=actor, org_id=org_id)),),
                    )
                )
    return prompts


def _lead(case: Case, actor: Actor, today: date) -> list[Prompt]:
    if case.status is not Status.AGREEING_LEAD or not case.ours:
        return []
    proposal = case.proposal
    objected = proposal and any(not r.agrees for r in proposal.responses.values())
    if proposal is None or objected:
        criteria = Field(
            "criteria",
            "Why",
            FieldKind.MULTI_CHOICE,
            options=tuple((k.value, v) for k, v in CRITERIA_WORDING.items()),
        )
        reason = Field("reason", "Anything to add", FieldKind.TEXT, required=False, default="")
        choices = tuple(
            Choice(
                f"Propose {case.orgs[o].name}",
                c.ProposeLead(actor=actor, org_id=o, criteria=()),
                (criteria, reason),
            )
            for o in case.involved
        )
        question = (
            "Which organisation should lead?"
            if not objected
            else ("The proposed lead was not agreed. Propose again, or raise an impasse.")
        )
        return [
            Prompt(
                "propose_lead",
                question,
                choices,
                detail="The guide's criteria: " + "; ".join(CRITERIA_WORDING.values()),
            )
        ]
    prompts = [p for o in case.involved if o not in proposal.responses for p in _lead_answer(case, actor, o)]
    if not case.complainant_lead_view:
        view = Field("view", "Their view", FieldKind.TEXT)
        prompts.append(
            Prompt(
                "complainant_view",
                "What does the person think of the proposed lead?",
                (Choice("Record their view", c.RecordComplainantView(actor=actor, view=""), (view,)),),
            )
        )
    return prompts


def _lead_answer(case: Case, actor: Actor, org_id: str) -> list[Prompt]:
    proposal = case.proposal
    if case.status is not Status.AGREEING_LEAD or proposal is None or org_id in proposal.responses:
        return []
    reason = Field("reason", "Why", FieldKind.TEXT)
    lead = case.orgs[proposal.org_id].name
    return [
        Prompt(
            f"lead_answer:{org_id}",
            f"Does {case.orgs[org_id].name} agree that {lead} leads?",
            (
                Choice("Agree", c.RespondToLead(actor=actor, org_id=org_id, agrees=True)),
                Choice("Object", c.RespondToLead(actor=actor, org_id=org_id, agrees=False), (reason,)),
            ),
            detail="Proposed because it " + "; ".join(CRITERIA_WORDING[k] for k in proposal.criteria),
        )
    ]


def _named_contact(case: Case, actor: Actor, today: date) -> list[Prompt]:
    if case.status is not Status.NAMING_CONTACT:
        return []
    prompts = []
    if case.update_every is None:
        every = Field("working_days", "Every (working days)", FieldKind.INT, default=DEFAULT_UPDATE_EVERY)
        prompts.append(
            Prompt(
                "update_every",
                "How often will the person be updated?",
                (
                    Choice(
                        "Set the update frequency",
                        c.SetUpdateFrequency(actor=actor, working_days=DEFAULT_UPDATE_EVERY),
                        (every,),
                    ),
                ),
            )
        )
    fields = (
        Field("name", "Name", FieldKind.TEXT, default=actor.name),
        Field("email", "Email", FieldKind.TEXT),
        Field("phone", "Phone", FieldKind.TEXT, required=False, default=""),
    )
    cmd = c.SetNamedContact(actor=actor, name=actor.name, email="")
    prompts.append(
        Prompt(
            "named_contact",
            "Who is the person's named contact?",
            (Choice("Name the contact", cmd, fields),),
            detail="The letter gives their details, how the person will be kept "
            "informed, and the local advocacy service.",
        )
    )
    return prompts


def _response_period(case: Case, actor: Actor, today: date) -> list[Prompt]:
    if case.response_period is not None or case.status not in (Status.NAMING_CONTACT, Status.PLANNING):
        return []
    due = Field("due", "Response by", FieldKind.DATE, default=add_working_days(today, 30))
    return [
        Prompt(
            "response_period",
            "What response period was agreed with the person?",
            (
                Choice(
                    "Agreed with them",
                    c.SetResponsePeriod(actor=actor, due=today, agreed_with_complainant=True),
                    (due,),
                ),
                Choice(
                    "They declined to discuss it: set it and tell them",
                    c.SetResponsePeriod(actor=actor, due=today, agreed_with_complainant=False),
                    (due,),
                ),
            ),
        )
    ]


def _plan(case: Case, actor: Actor, today: date) -> list[Prompt]:
    if case.status is not Status.PLANNING:
        return []
    orgs = tuple((o, case.orgs[o].name) for o in case.involved)
    fields = (
        Field("org_id", "Organisation", FieldKind.CHOICE, options=orgs),
        Field("matters", "Matters it looks into", FieldKind.TEXT),
        Field("target", "Target date for its response", FieldKind.DATE, default=add_working_days(today, 15)),
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


def _progress(case: Case, actor: Actor, today: date) -> list[Prompt]:
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


def _drafting(case: Case, actor: Actor, today: date) -> list[Prompt]:
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


def _impasse(case: Case, actor: Actor, today: date) -> list[Prompt]:
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


def _closing(case: Case, actor: Actor, today: date) -> list[Prompt]:
    if case.status is not Status.RESPONDED or any(a.completed_at is None for a in case.actions.values()):
        return []
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


def _overdue(case: Case, actor: Actor, today: date) -> list[Prompt]:
    if case.status is Status.RESPONDED or case.delay_letter_at is not None:
        return []
    due = response_due(london_date(_received(case)), case.longer_period_until, case.longer_period_agreed_on)
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


def _method_field() -> Field:
    return Field(
        "method",
        "How",
        FieldKind.CHOICE,
        options=tuple((m.value, m.value.replace("_", " ")) for m in ConsentMethod),
        default=ConsentMethod.PHONE,
    )


def _state(case: Case, org_id: str) -> ConsentState | None:
    consent = case.consents.get(org_id)
    return consent.state if consent else None


def _refused(case: Case, org_id: str) -> bool:
    return _state(case, org_id) in (ConsentState.REFUSED, ConsentState.WITHDRAWN)


def _received(case: Case) -> datetime:
    assert case.received_at is not None
    return case.received_at


_COORDINATOR_ASKS: tuple[Ask, ...] = (
    _overdue,
    _acknowledge,
    _time_limit,
    _organisations,
    _consent,
    _lead,
    _named_contact,
    _response_period,
    _plan,
    _progress,
    _drafting,
    _impasse,
    _closing,
)
