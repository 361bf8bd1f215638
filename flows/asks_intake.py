"""What to ask from receipt to the named contact (DOMAIN.md section 2, steps 1 to 6), but consent,
which `flows.asks_consent` asks.

Each ask is `ask(case, actor, today) -> list[Prompt]`, empty when it has nothing to ask now.
"""

from __future__ import annotations

from datetime import date

from flows import commands as c
from flows.asks_consent import method_field
from flows.calendar import (
    add_working_days,
    end_of_next_working_day,
    time_limit_check,
)
from flows.conversation import Choice, Field, FieldKind, Prompt
from flows.model import (
    Actor,
    Case,
    Channel,
    ConsentMethod,
    LeadCriterion,
    Status,
)

DEFAULT_UPDATE_EVERY = 20

CRITERIA_WORDING = {
    LeadCriterion.GREATEST_RESPONSIBILITY: "has the greatest responsibility for the care complained about",
    LeadCriterion.BEST_RELATIONSHIP: "has the best relationship with the person",
    LeadCriterion.MOST_RESOURCE: "has the most complaint-handling resource",
    LeadCriterion.MAIN_COMMISSIONER: "is the main commissioner (several NHS bodies involved)",
}


def acknowledge(case: Case, actor: Actor, today: date) -> list[Prompt]:
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
    fields = (method_field(), Field("on", "On", FieldKind.DATE, default=today))
    choice = Choice("Record how it was acknowledged", cmd, fields)
    return [Prompt("acknowledge", f"{why}: acknowledge by phone or post.", (choice,))]


def time_limit(case: Case, actor: Actor, today: date) -> list[Prompt]:
    check = time_limit_check(case.received_on, case.happened_on, case.aware_on)
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


def organisations(case: Case, actor: Actor, today: date) -> list[Prompt]:
    if case.orgs_identified:
        return []
    home = case.orgs[case.home_org]
    suggested = tuple(dict.fromkeys((*case.suggested_orgs, case.home_org)))
    pick = Field("orgs", "Organisations involved", FieldKind.ORGANISATIONS, default=suggested)
    choices = [
        Choice("Choose the organisations", c.IdentifyOrganisations(actor=actor, orgs=()), (pick,)),
        Choice(f"Only {home.name}", c.IdentifyOrganisations(actor=actor, orgs=(home,))),
    ]
    if case.channel in (Channel.PHONE, Channel.IN_PERSON) and today <= end_of_next_working_day(case.received):
        note = Field("note", "How it was resolved", FieldKind.TEXT)
        choices.append(
            Choice(
                "Resolved to their satisfaction already", c.ResolveInformally(actor=actor, note=""), (note,)
            )
        )
    return [Prompt("organisations", "Which organisations does this complaint involve?", tuple(choices))]


def lead(case: Case, actor: Actor, today: date) -> list[Prompt]:
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
    return [p for o in case.involved if o not in proposal.responses for p in lead_answer(case, actor, o)]


def lead_view(case: Case, actor: Actor, today: date) -> list[Prompt]:
    """The person's view on which organisation leads, asked before the lead is settled: first,
    before a proposal, and until it is recorded (the lead is not agreed without it)."""
    if case.status is not Status.AGREEING_LEAD or not case.ours or case.complainant_lead_view:
        return []
    view = Field("view", "Their view", FieldKind.TEXT)
    about = (
        f" Ask them about the proposal that {case.orgs[case.proposal.org_id].name} leads."
        if case.proposal
        else ""
    )
    return [
        Prompt(
            "complainant_view",
            f"Which organisation would the person like to lead their complaint?{about}",
            (Choice("Record their view", c.RecordComplainantView(actor=actor, view=""), (view,)),),
            detail="The lead is agreed once every organisation agrees and the person's view is recorded.",
        )
    ]


def lead_answer(case: Case, actor: Actor, org_id: str, today: date | None = None) -> list[Prompt]:
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


def named_contact(case: Case, actor: Actor, today: date) -> list[Prompt]:
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
        Field("email", "Email", FieldKind.TEXT, default=actor.email or None),  # theirs, from the directory
        Field("phone", "Phone", FieldKind.TEXT, required=False, default=""),
    )
    cmd = c.SetNamedContact(actor=actor, name=actor.name, email=actor.email)
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


def response_period(case: Case, actor: Actor, today: date) -> list[Prompt]:
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
