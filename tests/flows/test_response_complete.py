"""The final response is complete before it goes (reg 14): what will be put right is asked with the
draft, no draft or response goes out with a part still to write, and the learning is shared."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from flows import commands as c
from flows import events as ev
from flows.calendar import add_working_days
from flows.drafting import CONCLUSION, NO_ACTIONS, assemble_draft
from flows.effects import Notify
from flows.errors import InvalidCommand
from flows.model import LeadCriterion, OrgRef, Status
from flows.prompts import Prompt, fill, next_prompts
from tests.flows.builders import (
    COUNCIL,
    COUNCIL_CONTRIBUTOR,
    ICB,
    ICB_CONTRIBUTOR,
    TODAY,
    TRUST,
    TRUST_CONTRIBUTOR,
    H,
    Run,
    agreeing_lead,
    events_of,
    investigating,
    letters,
    only,
)

AUDIT = c.AddAction(actor=H, owner_org=COUNCIL.id, description="Audit referrals", due=date(2027, 1, 29))
FINAL = c.SendFinalResponse(actor=H, body="Final.", signed_by="Chris Chief", signed_role="Chief Executive")


def asked(run: Run) -> dict[str, Prompt]:
    return {p.id: p for p in next_prompts(run.case, H, run.now)}


def every_strand_in() -> Run:
    run = investigating()
    run.do(c.RecordContribution(actor=TRUST_CONTRIBUTOR, strand_id="S1", summary="Discharge was rushed."))
    run.do(c.RecordContribution(actor=COUNCIL_CONTRIBUTOR, strand_id="S2", summary="Referral was lost."))
    return run


def ready_but_for_what_is_put_right() -> Run:
    """Drafted, signed off and shared with the person; nothing said of actions."""
    run = every_strand_in()
    run.do(c.RecordDraft(actor=H, text="Dear Jo, we are sorry ..."))
    run.do(c.OpenCommentRound(actor=H, comment_by=add_working_days(TODAY, 5)))
    run.do(c.SignOffDraft(actor=COUNCIL_CONTRIBUTOR, org_id=COUNCIL.id))
    run.do(c.ShareDraftWithComplainant(actor=H))
    return run


# --- what will be put right -----------------------------------------------------------------------


def test_actions_are_asked_with_the_draft_and_the_draft_lists_them() -> None:
    run = every_strand_in()
    offered = asked(run)
    assert {"draft", "add_action"} <= set(offered)
    assert [ch.label for ch in offered["add_action"].choices] == ["Add an action", "No action is needed"]

    run.do(fill(offered["add_action"].choices[0], {"owner_org": COUNCIL.id, "description": "Audit referrals",
                                                   "due": "2027-01-29"}))  # fmt: skip

    (record,) = asked(run)["draft"].choices
    assert record.fields[0].default.endswith(f"- {COUNCIL.name}: Audit referrals, by Friday 29 January 2027.")
    assert [ch.label for ch in asked(run)["add_action"].choices] == ["Add an action"]


def test_the_final_response_needs_an_action_or_why_none_is_needed() -> None:
    run = ready_but_for_what_is_put_right()
    assert "final_response" not in asked(run)
    with pytest.raises(InvalidCommand, match="what will be done to put things right"):
        run.do(FINAL)
    assert run.case.status is Status.DRAFTING

    no_action = next(ch for ch in asked(run)["add_action"].choices if ch.label == "No action is needed")
    run.do(fill(no_action, {"reason": "the referral process has since been replaced."}))
    assert "final_response" in asked(run)
    final = only(letters(run.do(FINAL), "final_response"))
    assert final.context["actions"] == []
    assert final.context["no_action"] == "the referral process has since been replaced."


def test_no_action_cannot_be_recorded_beside_an_action() -> None:
    run = every_strand_in()
    run.do(AUDIT)
    with pytest.raises(InvalidCommand, match="actions are already recorded"):
        run.do(c.RecordNoActionNeeded(actor=H, reason="nothing went wrong."))


# --- nothing goes out with a part still to write --------------------------------------------------


SENDING_THE_DRAFT = [
    c.OpenCommentRound(actor=H, comment_by=add_working_days(TODAY, 5)),  # to the organisations
    c.ShareDraftWithComplainant(actor=H),
]


@pytest.mark.parametrize("sending", SENDING_THE_DRAFT)
def test_no_draft_goes_out_with_a_part_still_to_write(sending: c.Command) -> None:
    run = every_strand_in()
    run.do(c.RecordDraft(actor=H, text=assemble_draft(run.case).replace(CONCLUSION, "We uphold it.")))
    with pytest.raises(InvalidCommand, match="still has parts marked"):
        run.do(sending)


def test_a_draft_with_a_part_to_write_is_offered_again_with_what_is_now_known() -> None:
    run = every_strand_in()
    run.do(c.RecordDraft(actor=H, text=assemble_draft(run.case).replace(CONCLUSION, "We uphold it.")))
    run.do(AUDIT)
    assert "comment_round" not in asked(run) and "share_draft" not in asked(run)

    (record,) = asked(run)["complete_draft"].choices
    completed = record.fields[0].default
    assert NO_ACTIONS not in completed and f"- {COUNCIL.name}: Audit referrals" in completed
    run.do(fill(record, {"text": completed}))
    assert "complete_draft" not in asked(run) and "comment_round" in asked(run)


# --- the learning is shared -----------------------------------------------------------------------


def responded_with(council: OrgRef) -> Run:
    """Trust leads; `council` and the ICB contribute; the response has gone."""
    run = agreeing_lead((TRUST, council, ICB))
    run.do(c.RecordComplainantView(actor=H, view="No preference given"))
    run.do(c.ProposeLead(actor=H, org_id=TRUST.id, criteria=(LeadCriterion.GREATEST_RESPONSIBILITY,)))
    for who, org in ((COUNCIL_CONTRIBUTOR, COUNCIL), (ICB_CONTRIBUTOR, ICB)):
        run.do(c.RespondToLead(actor=who, org_id=org.id, agrees=True))
    run.do(c.SetNamedContact(actor=H, name="Alex Rivers", email="alex@riverside.example.nhs.uk"))
    for org in (TRUST, COUNCIL, ICB):
        run.do(c.AddStrand(actor=H, org_id=org.id, matters="its part", target=add_working_days(TODAY, 15)))
    for who, org in ((H, TRUST), (COUNCIL_CONTRIBUTOR, COUNCIL), (ICB_CONTRIBUTOR, ICB)):
        run.do(c.AgreePlan(actor=who, org_id=org.id))
    for strand in ("S1", "S2", "S3"):
        run.do(c.RecordContribution(actor=H, strand_id=strand, summary="Found."))
    run.do(AUDIT)
    run.do(c.RecordDraft(actor=H, text="Dear Jo, ..."))
    run.do(c.OpenCommentRound(actor=H, comment_by=add_working_days(TODAY, 5)))
    for org in (COUNCIL, ICB):
        run.do(c.SignOffDraft(actor=H, org_id=org.id))
    run.do(c.ShareDraftWithComplainant(actor=H))
    run.do(FINAL)
    return run


def test_the_learning_goes_to_each_organisation_in_chat_or_by_letter_and_is_on_record() -> None:
    run = responded_with(replace(COUNCIL, has_contacts=True))
    learning = asked(run)["learning"].choices[0]

    d = run.do(fill(learning, {"text": "Referrals are now confirmed by phone."}))

    (chat,) = [n for n in d.effects if isinstance(n, Notify)]
    assert (chat.audience, chat.discloses_to) == (f"contacts:{COUNCIL.id}", COUNCIL.id)
    assert chat.context["learning"] == "Referrals are now confirmed by phone."
    letter = only(letters(d, "learning_shared"))  # the ICB has no contacts: its complaints inbox hears
    assert letter.to.org_id == ICB.id
    assert letter.context["learning"] == "Referrals are now confirmed by phone."
    (shared,) = events_of(d, ev.LearningShared)
    assert shared.org_ids == (COUNCIL.id, ICB.id)  # the lead recorded it: it is not told again
    assert {e.org_id for e in events_of(d, ev.DisclosureMade)} == {COUNCIL.id, ICB.id}


def test_an_organisation_whose_consent_was_withdrawn_does_not_hear_the_learning() -> None:
    run = responded_with(COUNCIL)
    run.do(c.WithdrawConsent(actor=H, org_ids=(ICB.id,), note="The person asked us to stop"))

    d = run.do(c.RecordLearning(actor=H, text="Referrals are now confirmed by phone."))

    assert [x.to.org_id for x in letters(d, "learning_shared")] == [COUNCIL.id]
    assert [e.org_ids for e in events_of(d, ev.LearningShared)] == [(COUNCIL.id,)]
