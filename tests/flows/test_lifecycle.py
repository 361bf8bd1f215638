"""Whole cases through `decide` + `fold`: the joint complaint, the NHS-only one, the one not ours."""

from __future__ import annotations

from datetime import date

from flows import commands as c
from flows import events as ev
from flows.calendar import add_working_days, is_working_day
from flows.effects import Notify, RecipientKind
from flows.model import ClosureReason, ConsentMethod, LeadCriterion, Outcome, Status
from flows.prompts import next_prompts
from tests.flows.builders import (
    COUNCIL,
    COUNCIL_CONTRIBUTOR,
    ICB,
    PERSON,
    TODAY,
    TRUST,
    TRUST_CONTRIBUTOR,
    H,
    coding,
    consent,
    events_of,
    letters,
    only,
    received,
    working_day,
)


def test_email_receipt_acknowledges_automatically_in_reply_and_tells_handlers() -> None:
    run = received()
    decision = run.decisions[0]
    ack = only(letters(decision, "acknowledgement"))
    assert ack.automatic and ack.in_reply_to == "<m1@example.org>"
    assert ack.to.kind is RecipientKind.COMPLAINANT and ack.to.address == PERSON.email
    assert ack.discloses_to is None
    assert ack.context["received_on"] == "Tuesday 24 November 2026"
    queued = events_of(decision, ev.LetterQueued)
    assert [(q.key, q.template, q.to) for q in queued] == [(ack.key, "acknowledgement", "complainant")]
    assert [n.message for n in decision.effects if isinstance(n, Notify)] == ["new_case"]
    assert run.case.status is Status.RECEIVED and run.case.letters[ack.key].template == "acknowledgement"


def test_joint_trust_and_council_complaint_from_receipt_to_closure() -> None:
    run = received()
    run.do(c.IdentifyOrganisations(actor=H, orgs=(TRUST, COUNCIL)))
    assert run.case.status is Status.AWAITING_CONSENT

    run.do(consent(on=TODAY))
    assert run.case.status is Status.AGREEING_LEAD

    run.now = working_day(1)
    run.do(c.RecordComplainantView(actor=H, view="No preference given"))
    d = run.do(c.ProposeLead(actor=H, org_id=TRUST.id, criteria=(LeadCriterion.GREATEST_RESPONSIBILITY,)))
    proposal = only(letters(d, "lead_proposal"))
    assert proposal.to.org_id == COUNCIL.id and proposal.discloses_to == COUNCIL.id
    assert proposal.context["criteria"] == ["greatest_responsibility"]
    (disclosed,) = events_of(d, ev.DisclosureMade)
    assert (disclosed.org_id, disclosed.effect_key, disclosed.what) == (
        COUNCIL.id,
        proposal.key,
        "lead_proposal",
    )
    assert (disclosed.consent_method, disclosed.consent_on) == (ConsentMethod.PHONE.value, TODAY)
    assert run.case.status is Status.AGREEING_LEAD and run.case.lead is None

    d = run.do(c.RespondToLead(actor=COUNCIL_CONTRIBUTOR, org_id=COUNCIL.id, agrees=True))
    (agreed,) = events_of(d, ev.LeadAgreed)
    assert agreed.org_id == TRUST.id and set(agreed.agreed_by) == {TRUST.id, COUNCIL.id}
    assert run.case.status is Status.NAMING_CONTACT and run.case.coordinator == TRUST.id

    run.do(c.SetUpdateFrequency(actor=H, working_days=20))
    d = run.do(c.SetNamedContact(actor=H, name="Alex Rivers", email="alex@riverside.example.nhs.uk"))
    named = only(letters(d, "named_contact"))
    assert named.to.kind is RecipientKind.COMPLAINANT
    assert named.context["advocacy"] == {
        "name": "Millbrook Advocacy Hub",
        "phone": "0100 000 0099",
        "website": "https://adv.example.org",
    }
    assert named.context["update_every"] == "every 20 working days"
    assert run.case.status is Status.PLANNING

    due = add_working_days(TODAY, 40)
    d = run.do(c.SetResponsePeriod(actor=H, due=due, agreed_with_complainant=False))
    assert only(letters(d, "response_period")).context["response_due"].endswith("2027")
    assert run.case.response_period is not None and run.case.response_period.due == due

    target = date(2026, 12, 15)
    assert is_working_day(target)
    run.do(c.AddStrand(actor=H, org_id=TRUST.id, matters="Discharge planning", target=target))
    run.do(c.AddStrand(actor=H, org_id=COUNCIL.id, matters="Care package", target=target))
    assert set(run.case.strands) == {"S1", "S2"}
    run.do(c.AgreePlan(actor=H, org_id=TRUST.id))
    assert run.case.status is Status.PLANNING
    run.do(c.AgreePlan(actor=COUNCIL_CONTRIBUTOR, org_id=COUNCIL.id))
    assert run.case.status is Status.INVESTIGATING

    run.now = working_day(10)
    run.do(c.RecordContribution(actor=TRUST_CONTRIBUTOR, strand_id="S1", summary="Rushed discharge."))
    run.do(c.RecordContribution(actor=COUNCIL_CONTRIBUTOR, strand_id="S2", summary="Lost referral."))
    assert run.case.status is Status.INVESTIGATING
    run.do(c.RecordDraft(actor=H, text="Dear Jo, ..."))
    assert run.case.status is Status.DRAFTING

    d = run.do(c.OpenCommentRound(actor=H, comment_by=add_working_days(TODAY, 13)))
    for_comment = only(letters(d, "draft_for_comment"))
    assert for_comment.to.org_id == COUNCIL.id and for_comment.context["draft"] == "Dear Jo, ..."
    assert [e.effect_key for e in events_of(d, ev.DisclosureMade)] == [for_comment.key]
    run.do(c.RecordComment(actor=COUNCIL_CONTRIBUTOR, org_id=COUNCIL.id, comment="Add the dates."))
    run.do(c.SignOffDraft(actor=COUNCIL_CONTRIBUTOR, org_id=COUNCIL.id))
    d = run.do(c.ShareDraftWithComplainant(actor=H))
    assert only(letters(d, "draft_to_complainant")).to.address == PERSON.email
    assert run.case.status is Status.DRAFTING

    run.do(c.AddAction(actor=H, owner_org=COUNCIL.id, description="Audit referrals", due=date(2027, 1, 29)))
    d = run.do(c.SendFinalResponse(actor=H, body="Final.", signed_by="Chris Chief", signed_role="CEO"))
    final = only(letters(d, "final_response"))
    assert final.context["ombudsmen"] == ["phso", "lgsco"] and final.discloses_to is None
    assert run.case.status is Status.RESPONDED and run.case.signed_by == "Chris Chief"

    run.do(c.CompleteAction(actor=COUNCIL_CONTRIBUTOR, action_id="A1", evidence="Audit report"))
    assert run.case.actions["A1"].completed_at == run.now
    run.do(c.RecordOutcome(actor=H, org_id=TRUST.id, outcome=Outcome.UPHELD))
    run.do(c.RecordOutcome(actor=H, org_id=COUNCIL.id, outcome=Outcome.NOT_UPHELD))
    run.do(coding())
    run.do(c.CloseCase(actor=H, outcome=Outcome.PARTLY_UPHELD))
    assert run.case.status is Status.CLOSED
    assert (run.case.closure, run.case.outcome) == (ClosureReason.RESPONDED, Outcome.PARTLY_UPHELD)
    assert run.statuses[-1] is Status.CLOSED and Status.INVESTIGATING in run.statuses


def test_nhs_only_complaint_has_its_lead_at_once() -> None:
    run = received()
    d = run.do(c.IdentifyOrganisations(actor=H, orgs=(TRUST,)))
    (agreed,) = events_of(d, ev.LeadAgreed)
    assert (agreed.org_id, agreed.agreed_by, agreed.criteria) == (TRUST.id, (TRUST.id,), ())
    assert run.case.status is Status.NAMING_CONTACT and not d.effects


def test_several_nhs_bodies_need_everyone_to_agree_the_lead() -> None:
    run = received()
    run.do(c.IdentifyOrganisations(actor=H, orgs=(TRUST, ICB)))
    run.do(consent((ICB.id,)))
    run.do(c.RecordComplainantView(actor=H, view="No preference given"))
    run.do(c.ProposeLead(actor=H, org_id=ICB.id, criteria=(LeadCriterion.MAIN_COMMISSIONER,)))
    assert run.case.lead is None
    run.do(c.RespondToLead(actor=H, org_id=ICB.id, agrees=True))  # recorded on the ICB's behalf
    assert run.case.lead == ICB.id and run.case.coordinator == ICB.id
    assert run.case.lead_criteria == (LeadCriterion.MAIN_COMMISSIONER,)


def test_not_ours_is_passed_on_with_consent_and_closed() -> None:
    run = received()
    run.do(c.IdentifyOrganisations(actor=H, orgs=(COUNCIL,)))
    assert run.case.status is Status.AWAITING_CONSENT and not run.case.ours
    run.do(consent())
    d = run.do(c.PassOn(actor=H, org_id=COUNCIL.id))
    passed = only(letters(d, "pass_on"))
    assert passed.discloses_to == COUNCIL.id and passed.context["org_name"] == TRUST.name
    assert [e.effect_key for e in events_of(d, ev.DisclosureMade)] == [passed.key]
    assert run.case.status is Status.CLOSED and run.case.closure is ClosureReason.PASSED_ON


def test_not_ours_and_consent_refused_is_signposted_and_closed() -> None:
    run = received()
    run.do(c.IdentifyOrganisations(actor=H, orgs=(COUNCIL,)))
    run.do(c.RecordConsentRefused(actor=H, org_ids=(COUNCIL.id,), note="does not want sharing"))
    d = run.do(c.Signpost(actor=H, org_ids=(COUNCIL.id,)))
    signposting = only(letters(d, "signposting"))
    assert signposting.discloses_to is None and signposting.to.kind is RecipientKind.COMPLAINANT
    assert signposting.context["organisations"][0]["name"] == COUNCIL.name
    assert run.case.status is Status.CLOSED and run.case.closure is ClosureReason.SIGNPOSTED


def test_not_ours_consent_request_letter_can_be_sent() -> None:
    run = received()
    run.do(c.IdentifyOrganisations(actor=H, orgs=(COUNCIL,)))
    d = run.do(c.RequestConsent(actor=H, org_ids=(COUNCIL.id,)))
    assert only(letters(d, "consent_request")).context["organisations"] == [COUNCIL.name]


def test_ours_with_consent_refused_is_signposted_but_stays_open() -> None:
    run = received()
    run.do(c.IdentifyOrganisations(actor=H, orgs=(TRUST, COUNCIL)))
    run.do(c.RecordConsentRefused(actor=H, org_ids=(COUNCIL.id,)))
    assert run.case.status is Status.AWAITING_CONSENT
    d = run.do(c.Signpost(actor=H, org_ids=(COUNCIL.id,)))
    contact = only(letters(d, "signposting")).context["organisations"]
    assert contact == [{"name": COUNCIL.name, "contact": f"{COUNCIL.email}, {COUNCIL.phone}"}]
    # with no other organisation left, the one that received it leads: nobody is asked to choose
    assert run.case.involved == (TRUST.id,) and run.case.lead == TRUST.id
    assert run.case.status is Status.NAMING_CONTACT


def test_not_ours_for_two_organisations_closes_once_each_is_passed_on_or_signposted() -> None:
    run = received()
    run.do(c.IdentifyOrganisations(actor=H, orgs=(COUNCIL, ICB)))
    run.do(consent((COUNCIL.id,)))
    run.do(c.RecordConsentRefused(actor=H, org_ids=(ICB.id,)))
    assert [p.id for p in next_prompts(run.case, H, run.now)] == ["signpost", "pass_on:council"]
    run.do(c.PassOn(actor=H, org_id=COUNCIL.id))
    assert run.case.status is Status.AWAITING_CONSENT and run.case.passed_on == {COUNCIL.id}
    assert [p.id for p in next_prompts(run.case, H, run.now)] == ["signpost"]
    run.do(c.Signpost(actor=H, org_ids=(ICB.id,)))
    assert run.case.status is Status.CLOSED and run.case.closure is ClosureReason.PASSED_ON
