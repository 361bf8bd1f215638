"""The guide's steps with the person: their view on the lead before it is agreed, the shared
understanding of the complaint and the outcomes they want, and the plan discussed with them."""

from __future__ import annotations

from flows import commands as c
from flows.calendar import add_working_days
from flows.drafting import assemble_draft
from flows.model import LeadCriterion, Status
from flows.prompts import fill, next_prompts
from mail.letters import render_letter
from tests.flows.builders import (
    COUNCIL,
    COUNCIL_CONTRIBUTOR,
    TODAY,
    TRUST,
    H,
    Run,
    consent,
    investigating,
    letters,
    only,
    planning,
    received,
)

UNDERSTANDING = "The discharge on 3 November went ahead without the care package being in place."
OUTCOMES = "An apology, and to know that discharges now wait for the care package."


def asked(run: Run) -> list[str]:
    return [p.id for p in next_prompts(run.case, H, run.now)]


def answer(run: Run, prompt_id: str, **values: object) -> None:
    [prompt] = [p for p in next_prompts(run.case, H, run.now) if p.id == prompt_id]
    run.do(fill(prompt.choices[0], values))


def consented() -> Run:
    run = received()
    run.do(c.IdentifyOrganisations(actor=H, orgs=(TRUST, COUNCIL)))
    run.do(consent())
    return run


def test_the_persons_view_on_the_lead_is_the_first_question_once_consent_is_in() -> None:
    run = consented()
    assert asked(run)[:2] == ["complainant_view", "propose_lead"]


def test_the_lead_is_not_agreed_until_the_persons_view_is_recorded() -> None:
    run = consented()
    run.do(c.ProposeLead(actor=H, org_id=TRUST.id, criteria=(LeadCriterion.GREATEST_RESPONSIBILITY,)))
    run.do(c.RespondToLead(actor=COUNCIL_CONTRIBUTOR, org_id=COUNCIL.id, agrees=True))
    assert run.case.status is Status.AGREEING_LEAD and run.case.lead is None
    assert "Ask them about the proposal that" in next_prompts(run.case, H, run.now)[0].question
    answer(run, "complainant_view", view="Happy for the hospital to lead")
    assert run.case.lead == TRUST.id and run.case.status is Status.NAMING_CONTACT


def test_a_view_given_first_lets_the_last_agreement_settle_the_lead() -> None:
    run = consented()
    answer(run, "complainant_view", view="Would like the council to lead")
    run.do(c.ProposeLead(actor=H, org_id=COUNCIL.id, criteria=(LeadCriterion.BEST_RELATIONSHIP,)))
    run.do(c.RespondToLead(actor=COUNCIL_CONTRIBUTOR, org_id=COUNCIL.id, agrees=True))
    assert run.case.lead == COUNCIL.id


def test_the_shared_understanding_is_asked_after_the_discussion_and_carried_into_the_plan() -> None:
    run = planning()
    assert "shared_understanding" in asked(run)
    answer(run, "shared_understanding", understanding=UNDERSTANDING, outcomes=OUTCOMES)
    assert (run.case.shared_understanding, run.case.outcomes_wanted) == (UNDERSTANDING, OUTCOMES)
    assert "shared_understanding" not in asked(run)
    target = add_working_days(TODAY, 10)
    decision = run.do(
        c.AddStrand(actor=H, org_id=COUNCIL.id, matters="Care package arrangements", target=target)
    )
    text = render_letter("contributor_request", only(letters(decision, "contributor_request")).context).text
    assert f"The complaint as we have agreed it with the complainant:\n{UNDERSTANDING}\n" in text
    assert f"What the complainant wants from their complaint:\n{OUTCOMES}\n" in text


def test_the_draft_joint_response_opens_with_the_complaint_and_the_outcomes_as_agreed() -> None:
    run = investigating()
    run.do(c.RecordSharedUnderstanding(actor=H, understanding=UNDERSTANDING, outcomes=OUTCOMES))
    draft = assemble_draft(run.case)
    assert UNDERSTANDING in draft and f"You told us you would like:\n{OUTCOMES}" in draft
    assert draft.index(UNDERSTANDING) < draft.index("How we looked into your complaint")


def test_a_strand_request_without_a_shared_understanding_says_nothing_of_it() -> None:
    run = planning()
    target = add_working_days(TODAY, 10)
    decision = run.do(
        c.AddStrand(actor=H, org_id=COUNCIL.id, matters="Care package arrangements", target=target)
    )
    text = render_letter("contributor_request", only(letters(decision, "contributor_request")).context).text
    assert "agreed it with the complainant" not in text and "wants from their complaint" not in text


def test_plan_discussed_stays_asked_once_every_organisation_agreed_the_plan() -> None:
    run = investigating()
    assert run.case.status is Status.INVESTIGATING
    assert "plan_discussed" in asked(run)
    answer(run, "plan_discussed", note="They are content with the dates")
    assert run.case.plan_discussed_at is not None and "plan_discussed" not in asked(run)
