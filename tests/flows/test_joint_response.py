"""The joint response: a draft assembled from the strands, every contributor's sign-off, senior
managers' answers to an impasse, step 2 drafted from the case, outcomes per organisation, and the
person told when the actions are done."""

from __future__ import annotations

from datetime import date

import pytest

from flows import commands as c
from flows import events as ev
from flows.calendar import add_working_days
from flows.drafting import CONCLUSION, NO_ACTIONS, TO_COMPLETE, assemble_draft, overall_outcome
from flows.effects import Notify
from flows.errors import Forbidden, InvalidCommand
from flows.model import Actor, LeadCriterion, OrgRef, Outcome, Role, Status
from flows.prompts import Prompt, fill, next_prompts
from tests.flows.builders import (
    COUNCIL,
    COUNCIL_CONTRIBUTOR,
    COUNCIL_HANDLER,
    COUNCIL_MANAGER,
    ICB,
    ICB_CONTRIBUTOR,
    NOW,
    PERSON,
    TODAY,
    TRUST,
    TRUST_CONTRIBUTOR,
    H,
    Run,
    actor,
    agreeing_lead,
    at,
    coding,
    drafting,
    events_of,
    investigating,
    letters,
    only,
    responded,
)

TRUST_MANAGER = actor(TRUST, Role.MANAGER, "Dana Board")
COMMENT_BY = add_working_days(TODAY, 5)
RESOLVE_BY = add_working_days(TODAY, 3)  # Friday 27 November 2026
FINAL = c.SendFinalResponse(actor=H, body="Final.", signed_by="Chris Chief", signed_role="Chief Executive")



def asked(run: Run, who: Actor = H) -> dict[str, Prompt]:
    return {p.id: p for p in next_prompts(run.case, who, run.now)}


def three_organisations_drafting() -> Run:
    """Trust leads; the council and the ICB contribute; the draft is assembled from the strands."""
    run = agreeing_lead((TRUST, COUNCIL, ICB))
    run.do(c.RecordComplainantView(actor=H, view="No preference given"))
    run.do(c.ProposeLead(actor=H, org_id=TRUST.id, criteria=(LeadCriterion.GREATEST_RESPONSIBILITY,)))
    run.do(c.RespondToLead(actor=COUNCIL_CONTRIBUTOR, org_id=COUNCIL.id, agrees=True))
    run.do(c.RespondToLead(actor=ICB_CONTRIBUTOR, org_id=ICB.id, agrees=True))
    run.do(c.SetNamedContact(actor=H, name="Alex Rivers", email="alex@riverside.example.nhs.uk"))
    target = add_working_days(TODAY, 15)
    for org, matters in (
        (TRUST, "discharge planning"),
        (COUNCIL, "the care package"),
        (ICB, "commissioning"),
    ):
        run.do(c.AddStrand(actor=H, org_id=org.id, matters=matters, target=target))
    for who, org in ((H, TRUST), (COUNCIL_CONTRIBUTOR, COUNCIL), (ICB_CONTRIBUTOR, ICB)):
        run.do(c.AgreePlan(actor=who, org_id=org.id))
    run.do(c.RecordContribution(actor=TRUST_CONTRIBUTOR, strand_id="S1", summary="Discharge was rushed."))
    run.do(c.RecordContribution(actor=COUNCIL_CONTRIBUTOR, strand_id="S2", summary="Referral was lost."))
    run.do(c.RecordContribution(actor=ICB_CONTRIBUTOR, strand_id="S3", summary="Contract was followed."))
    run.do(c.AddAction(actor=H, owner_org=COUNCIL.id, description="Audit referrals", due=date(2027, 1, 29)))
    run.do(c.RecordDraft(actor=H, text=assemble_draft(run.case).replace(CONCLUSION, "We uphold it.")))
    return run


def sent_for_comment(run: Run | None = None) -> Run:
    run = run or drafting()
    run.do(c.OpenCommentRound(actor=H, comment_by=COMMENT_BY))
    run.do(c.ShareDraftWithComplainant(actor=H))
    return run


# --- the draft ------------------------------------------------------------------------------------


def test_the_draft_is_assembled_from_every_strand_and_offered_to_edit() -> None:
    run = investigating()
    run.do(c.RecordContribution(actor=TRUST_CONTRIBUTOR, strand_id="S1", summary="Discharge was rushed."))
    run.do(c.RecordContribution(actor=COUNCIL_CONTRIBUTOR, strand_id="S2", summary="Referral was lost."))

    text = assemble_draft(run.case)

    assert text.startswith("Thank you for your complaint, which we received on Tuesday 24 November 2026.")
    assert (
        f"{TRUST.name} and {COUNCIL.name} agreed to look into it together, with {TRUST.name} leading" in text
    )
    assert (
        f"{TRUST.name}\nWhat it looked into: Discharge planning on Ward 7\nWhat it found: Discharge" in text
    )
    assert f"{COUNCIL.name}\nWhat it looked into: Care package arrangements\nWhat it found: Referral" in text
    assert text.index(TRUST.name + "\n") < text.index("Our conclusions") < text.index(CONCLUSION)
    assert text.endswith("What each organisation will do to put things right\n\n" + NO_ACTIONS)
    assert PERSON.name not in text  # the letter greets the person; the draft may be shown in chat forms
    (record,) = asked(run)["draft"].choices
    assert record.fields[0].default == text


def test_the_draft_lists_actions_with_their_owner_and_date() -> None:
    run = drafting()
    run.do(c.AddAction(actor=H, owner_org=COUNCIL.id, description="Audit referrals", due=date(2027, 1, 29)))
    assert assemble_draft(run.case).endswith(f"- {COUNCIL.name}: Audit referrals, by Friday 29 January 2027.")


def test_a_response_still_marked_to_complete_is_not_sent() -> None:
    run = sent_for_comment()
    run.do(c.SignOffDraft(actor=COUNCIL_CONTRIBUTOR, org_id=COUNCIL.id))
    with pytest.raises(InvalidCommand, match="still has parts marked"):
        run.do(c.SendFinalResponse(actor=H, body=f"Dear Jo,\n\n{CONCLUSION}", signed_by="C", signed_role=""))
    assert TO_COMPLETE in CONCLUSION and run.case.status is Status.DRAFTING


# --- sign-off -------------------------------------------------------------------------------------


def test_the_final_response_is_refused_naming_each_organisation_yet_to_sign_off() -> None:
    run = sent_for_comment(three_organisations_drafting())
    run.do(c.SignOffDraft(actor=ICB_CONTRIBUTOR, org_id=ICB.id))
    run.do(c.RecordComment(actor=COUNCIL_CONTRIBUTOR, org_id=COUNCIL.id, comment="Add the dates."))
    later = at(add_working_days(COMMENT_BY, 3))  # the comment date passed: it does not stand in
    with pytest.raises(InvalidCommand) as caught:
        run.do(FINAL, now=later)
    assert COUNCIL.name in caught.value.message and ICB.name not in caught.value.message
    assert caught.value.context["org_ids"] == [COUNCIL.id]
    assert "final_response" not in {p.id for p in next_prompts(run.case, H, later)}

    run.do(c.SignOffDraft(actor=COUNCIL_CONTRIBUTOR, org_id=COUNCIL.id), now=later)
    d = run.do(FINAL, now=later)
    final = only(letters(d, "final_response"))
    assert final.context["organisations"] == [TRUST.name, COUNCIL.name, ICB.name]
    assert run.case.status is Status.RESPONDED


def test_an_organisation_signs_off_itself_or_the_lead_records_it_on_its_behalf() -> None:
    run = sent_for_comment(three_organisations_drafting())
    d = run.do(c.SignOffDraft(actor=COUNCIL_CONTRIBUTOR, org_id=COUNCIL.id))
    (signed,) = events_of(d, ev.DraftSignedOff)
    assert (signed.org_id, signed.by) == (COUNCIL.id, COUNCIL_CONTRIBUTOR.id)
    assert not d.effects  # the ICB has still to sign off

    d = run.do(c.SignOffDraft(actor=H, org_id=ICB.id))  # it approved by email; the lead records it
    (signed,) = events_of(d, ev.DraftSignedOff)
    assert (signed.org_id, signed.by) == (ICB.id, H.id)
    assert [n.message for n in d.effects if isinstance(n, Notify)] == ["draft_signed_off"]
    assert run.case.draft is not None and run.case.draft.signed_off == {COUNCIL.id, ICB.id}

    with pytest.raises(InvalidCommand, match="already signed off"):
        run.do(c.SignOffDraft(actor=COUNCIL_CONTRIBUTOR, org_id=COUNCIL.id))
    with pytest.raises(InvalidCommand, match="writes the joint response"):
        run.do(c.SignOffDraft(actor=H, org_id=TRUST.id))


@pytest.mark.parametrize("who", [ICB_CONTRIBUTOR, COUNCIL_HANDLER, TRUST_CONTRIBUTOR])
def test_no_organisation_signs_off_for_another_but_the_lead(who: Actor) -> None:
    run = sent_for_comment(three_organisations_drafting())
    org = COUNCIL if who.org_id != COUNCIL.id else ICB
    with pytest.raises(Forbidden):
        run.do(c.SignOffDraft(actor=who, org_id=org.id))
    assert run.case.draft is not None and not run.case.draft.signed_off


def test_sign_off_follows_the_comment_round_and_a_new_draft_needs_it_again() -> None:
    run = drafting()
    with pytest.raises(InvalidCommand, match="send the draft for comment"):
        run.do(c.SignOffDraft(actor=COUNCIL_CONTRIBUTOR, org_id=COUNCIL.id))
    sent_for_comment(run)
    run.do(c.SignOffDraft(actor=COUNCIL_CONTRIBUTOR, org_id=COUNCIL.id))
    run.do(c.RecordDraft(actor=H, text="Dear Jo, a new draft ..."))
    assert run.case.draft is not None and not run.case.draft.signed_off


def test_a_contributor_is_asked_for_comments_until_it_approves() -> None:
    run = drafting()
    assert "comments:council" not in asked(run, COUNCIL_CONTRIBUTOR)  # not before the comment round
    sent_for_comment(run)

    review = asked(run, COUNCIL_CONTRIBUTOR)["comments:council"]
    assert (
        review.question
        == f"Comments on the draft joint response for {run.case.ref}, by Tuesday 1 December 2026?"
    )
    assert [ch.label for ch in review.choices] == ["Approve it", "Send comments"]
    assert [f.name for f in review.choices[1].fields] == ["comment"]
    assert "comments:council" not in asked(run, TRUST_CONTRIBUTOR) and not asked(run, ICB_CONTRIBUTOR)

    run.do(fill(review.choices[1], {"comment": "Please add the dates."}))
    assert run.case.draft is not None and run.case.draft.signed_off == frozenset()
    again = asked(run, COUNCIL_CONTRIBUTOR)["comments:council"]
    assert "approve the draft once they are reflected" in again.detail

    run.do(again.choices[0].command)
    assert "comments:council" not in asked(run, COUNCIL_CONTRIBUTOR)
    assert "signoff:council" not in asked(run) and "final_response" in asked(run)


def test_the_lead_records_comments_and_sign_off_on_each_organisations_behalf() -> None:
    run = sent_for_comment(three_organisations_drafting())
    ids = [p for p in asked(run) if p.startswith(("comment:", "signoff:"))]
    assert ids == ["comment:council", "signoff:council", "comment:icb", "signoff:icb"]
    run.do(fill(asked(run)["comment:icb"].choices[0], {"comment": "Fine."}))
    run.do(asked(run)["signoff:council"].choices[0].command)
    assert [p for p in asked(run) if p.startswith(("comment:", "signoff:"))] == ["signoff:icb"]


# --- the impasse ----------------------------------------------------------------------------------


def disputed_while_drafting(resolve_by: date = RESOLVE_BY) -> Run:
    run = sent_for_comment()
    run.do(
        c.RaiseImpasse(
            actor=H, matter="who pays for the care", reason="Each says the other", resolve_by=resolve_by
        )
    )
    return run


def test_the_impasse_alert_says_since_when_and_why() -> None:
    run = sent_for_comment()
    d = run.do(c.RaiseImpasse(actor=H, matter="Remedy", reason="Each says the other", resolve_by=COMMENT_BY))
    alert = next(n for n in d.effects if isinstance(n, Notify) and n.audience == "senior_managers:council")
    assert alert.context["since"] == "Tuesday 24 November 2026"
    assert alert.context["reason"] == "Each says the other" and alert.context["matter"] == "Remedy"


def test_the_final_response_may_go_without_a_sign_off_once_the_impasse_date_passed_unresolved() -> None:
    resolve_by = RESOLVE_BY
    run = disputed_while_drafting(resolve_by)
    with pytest.raises(InvalidCommand, match=COUNCIL.name):
        run.do(FINAL, now=at(resolve_by))
    after = at(add_working_days(resolve_by, 1))
    prompt = {p.id: p for p in next_prompts(run.case, H, after)}["final_response"]
    assert f"Not signed off by {COUNCIL.name}" in prompt.detail
    run.do(FINAL, now=after)
    assert run.case.status is Status.RESPONDED and run.case.draft and not run.case.draft.signed_off


def test_a_resolved_impasse_does_not_stand_in_for_the_sign_off() -> None:
    resolve_by = RESOLVE_BY
    run = disputed_while_drafting(resolve_by)
    run.do(c.ResolveImpasse(actor=H, resolution="The council pays"))
    with pytest.raises(InvalidCommand, match=COUNCIL.name):
        run.do(FINAL, now=at(add_working_days(resolve_by, 1)))


@pytest.mark.parametrize(
    ("who", "org"),
    [
        (COUNCIL_CONTRIBUTOR, COUNCIL),
        (COUNCIL_HANDLER, COUNCIL),
        (H, TRUST),
        (H, COUNCIL),
        (COUNCIL_MANAGER, TRUST),
    ],
)
def test_only_a_senior_manager_answers_an_impasse_for_their_own_organisation(who: Actor, org: OrgRef) -> None:
    run = disputed_while_drafting()
    with pytest.raises(Forbidden):
        run.do(c.AnswerImpasse(actor=who, org_id=org.id, resolved=True, outcome="Agreed"))
    assert run.case.impasse is not None and not run.case.impasse.answers


def test_every_senior_manager_answering_resolved_resolves_the_impasse() -> None:
    run = disputed_while_drafting()
    with pytest.raises(InvalidCommand, match="the outcome"):
        run.do(c.AnswerImpasse(actor=COUNCIL_MANAGER, org_id=COUNCIL.id, resolved=True, outcome=" "))

    d = run.do(c.AnswerImpasse(actor=COUNCIL_MANAGER, org_id=COUNCIL.id, resolved=True, outcome="We pay"))
    assert not events_of(d, ev.ImpasseResolved) and run.case.impasse and run.case.impasse.resolved_at is None

    d = run.do(c.AnswerImpasse(actor=TRUST_MANAGER, org_id=TRUST.id, resolved=True, outcome="Agreed"))
    (resolved,) = events_of(d, ev.ImpasseResolved)
    assert resolved.resolution == f"{TRUST.name}: Agreed\n{COUNCIL.name}: We pay"
    assert run.case.impasse.resolved_at == NOW and run.case.impasse.resolution == resolved.resolution
    with pytest.raises(InvalidCommand, match="no unresolved impasse"):
        run.do(c.AnswerImpasse(actor=TRUST_MANAGER, org_id=TRUST.id, resolved=False))


def test_cannot_resolve_is_recorded_and_the_impasse_stays_open() -> None:
    run = disputed_while_drafting()
    [prompt] = [p for p in next_prompts(run.case, COUNCIL_MANAGER, NOW) if p.id.startswith("impasse:")]
    assert prompt.id == "impasse:council" and [ch.label for ch in prompt.choices] == [
        "Resolved",
        "Cannot resolve",
    ]
    assert "'who pays for the care' since Tuesday 24 November 2026" in prompt.question
    assert "by Friday 27 November 2026" in prompt.question
    assert not [p for p in next_prompts(run.case, COUNCIL_CONTRIBUTOR, NOW) if p.id.startswith("impasse:")]

    run.do(prompt.choices[1].command)

    answer = run.case.impasse.answers[COUNCIL.id]  # type: ignore[union-attr]
    assert (answer.resolved, answer.by) == (False, COUNCIL_MANAGER.id)
    assert run.case.impasse is not None and run.case.impasse.resolved_at is None
    assert not [p for p in next_prompts(run.case, COUNCIL_MANAGER, NOW) if p.id.startswith("impasse:")]
    assert "impasse:trust" in asked(run, TRUST_MANAGER)


def test_a_lead_handler_who_is_also_a_senior_manager_answers_among_the_handlers_asks() -> None:
    both = Actor(id="trust-both", org_id=TRUST.id, roles=frozenset({Role.HANDLER, Role.MANAGER}))
    run = disputed_while_drafting()
    assert "impasse:trust" in asked(run, both) and "impasse:trust" not in asked(run)


def test_step_two_is_drafted_from_the_case_for_the_lead_to_approve() -> None:
    run = investigating()
    run.do(c.RecordContribution(actor=TRUST_CONTRIBUTOR, strand_id="S1", summary="Discharge was rushed."))
    resolve_by = add_working_days(TODAY, 3)
    run.do(
        c.RaiseImpasse(
            actor=H, matter="who arranges the care", reason="Each says the other", resolve_by=resolve_by
        )
    )
    run.do(c.AnswerImpasse(actor=COUNCIL_MANAGER, org_id=COUNCIL.id, resolved=False))
    run.now = at(add_working_days(resolve_by, 1))

    (write,) = asked(run)["partial_response"].choices
    drafted = {f.name: f.default for f in write.fields}

    assert (
        drafted["answered"]
        == f"{TRUST.name} looked into Discharge planning on Ward 7. It found: Discharge was rushed."
    )
    assert "have not been able to resolve between them: who arranges the care." in drafted["not_possible"]
    assert (
        f"{COUNCIL.name} has not given its findings on Care package arrangements." in drafted["not_possible"]
    )
    assert drafted["why_no_agreement"].startswith("Each says the other")
    assert f"{COUNCIL.name}'s senior managers could not resolve it." in drafted["why_no_agreement"]
    assert (
        f"{TRUST.name}'s senior managers gave no answer by Friday 27 November 2026."
        in drafted["why_no_agreement"]
    )
    d = run.do(fill(write, drafted))  # approved as drafted
    assert only(letters(d, "partial_response")).context["not_possible"] == drafted["not_possible"]

    # step 3 follows, once; the senior managers are no longer asked
    assert "partial_response" not in asked(run) and not asked(run, TRUST_MANAGER)
    run.do(asked(run)["ombudsman"].choices[0].command)
    assert run.case.ombudsmen_signposted and "ombudsman" not in asked(run)


# --- outcomes, actions, closure -------------------------------------------------------------------


def test_closure_needs_an_outcome_for_each_organisation() -> None:
    run = responded()
    close = c.CloseCase(actor=H, outcome=Outcome.PARTLY_UPHELD)
    with pytest.raises(InvalidCommand, match=f"{TRUST.name}, {COUNCIL.name}"):
        run.do(close)
    with pytest.raises(Forbidden):
        run.do(c.RecordOutcome(actor=COUNCIL_CONTRIBUTOR, org_id=COUNCIL.id, outcome=Outcome.UPHELD))

    upheld = asked(run)["outcome:trust"]
    assert [(ch.label, ch.fields) for ch in upheld.choices] == [
        ("Upheld", ()),
        ("Partly upheld", ()),
        ("Not upheld", ()),
    ]
    run.do(upheld.choices[0].command)
    with pytest.raises(InvalidCommand) as caught:
        run.do(close)
    assert caught.value.context["org_ids"] == [COUNCIL.id] and "close" not in asked(run)

    run.do(asked(run)["outcome:council"].choices[2].command)
    assert run.case.outcomes == {TRUST.id: Outcome.UPHELD, COUNCIL.id: Outcome.NOT_UPHELD}
    assert "close" not in asked(run)  # the coding comes first
    run.do(coding())
    (closing,) = asked(run)["close"].choices
    assert closing.fields == ()  # each organisation's outcome answers it: partly upheld overall
    assert "(partly upheld overall)" in asked(run)["close"].question
    run.do(fill(closing, {}))
    assert run.case.status is Status.CLOSED and run.case.outcome is Outcome.PARTLY_UPHELD


@pytest.mark.parametrize(
    ("each", "overall"),
    [
        ((Outcome.UPHELD, Outcome.UPHELD), Outcome.UPHELD),
        ((Outcome.UPHELD, Outcome.NOT_UPHELD), Outcome.PARTLY_UPHELD),
        ((Outcome.PARTLY_UPHELD, Outcome.NOT_UPHELD), Outcome.PARTLY_UPHELD),
        ((Outcome.NOT_UPHELD, Outcome.NOT_UPHELD), Outcome.NOT_UPHELD),
    ],
)
def test_the_overall_outcome_suggested_follows_each_organisations(
    each: tuple[Outcome, ...], overall: Outcome
) -> None:
    assert overall_outcome(each) is overall


def test_the_final_response_lists_each_action_with_its_owner_and_date() -> None:
    run = drafting()
    run.do(c.AddAction(actor=H, owner_org=COUNCIL.id, description="Audit referrals", due=date(2027, 1, 29)))
    sent_for_comment(run)
    run.do(c.SignOffDraft(actor=COUNCIL_CONTRIBUTOR, org_id=COUNCIL.id))
    final = only(letters(run.do(FINAL), "final_response"))
    assert final.context["actions"] == [
        {
            "organisation": COUNCIL.name,
            "description": "Audit referrals",
            "due": "Friday 29 January 2027",
            "evidence": "",
        }
    ]


def test_the_person_is_told_once_when_the_last_action_is_done() -> None:
    run = responded()
    run.do(c.AddAction(actor=H, owner_org=COUNCIL.id, description="Audit referrals", due=date(2027, 1, 29)))
    run.do(c.AddAction(actor=H, owner_org=TRUST.id, description="Retrain ward staff", due=date(2027, 2, 26)))

    first = run.do(c.CompleteAction(actor=COUNCIL_CONTRIBUTOR, action_id="A1", evidence="Audit report"))
    assert not letters(first)
    last = run.do(c.CompleteAction(actor=TRUST_CONTRIBUTOR, action_id="A2", evidence="Training log"))

    told = only(letters(last, "actions_complete"))
    assert told.to.address == PERSON.email and told.discloses_to is None
    assert [(a["organisation"], a["description"], a["evidence"]) for a in told.context["actions"]] == [
        (COUNCIL.name, "Audit referrals", "Audit report"),
        (TRUST.name, "Retrain ward staff", "Training log"),
    ]
    assert [q.template for q in events_of(last, ev.LetterQueued)] == ["actions_complete"]
    with pytest.raises(InvalidCommand, match="already done"):
        run.do(c.CompleteAction(actor=TRUST_CONTRIBUTOR, action_id="A2", evidence="Training log"))
    assert [x.template for x in run.case.letters.values()].count("actions_complete") == 1
