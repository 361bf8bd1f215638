"""After the comments on the draft joint response the lead revises it, or keeps it as it is. A
revised draft is a new version: sign-offs of an earlier version do not count for it, every
contributing organisation is asked to sign off the new one, and the record says which version each
organisation approved."""

from __future__ import annotations

import pytest

from flows import commands as c
from flows import events as ev
from flows.calendar import add_working_days
from flows.drafting import CONCLUSION, NO_ACTIONS
from flows.errors import InvalidCommand
from flows.model import Actor, LeadCriterion
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
    drafting,
    events_of,
    investigating,
    letters,
)

COMMENT_BY = add_working_days(TODAY, 5)


def asked(run: Run, who: Actor = H) -> dict[str, Prompt]:
    return {p.id: p for p in next_prompts(run.case, who, run.now)}


def three_organisations_for_comment() -> Run:
    """Trust leads; the council and the ICB contribute; the draft has gone to both for comment."""
    run = agreeing_lead((TRUST, COUNCIL, ICB))
    run.do(c.ProposeLead(actor=H, org_id=TRUST.id, criteria=(LeadCriterion.GREATEST_RESPONSIBILITY,)))
    run.do(c.RespondToLead(actor=COUNCIL_CONTRIBUTOR, org_id=COUNCIL.id, agrees=True))
    run.do(c.RespondToLead(actor=ICB_CONTRIBUTOR, org_id=ICB.id, agrees=True))
    run.do(c.SetNamedContact(actor=H, name="Alex Rivers", email="alex@riverside.example.nhs.uk"))
    for org in (TRUST, COUNCIL, ICB):
        run.do(c.AddStrand(actor=H, org_id=org.id, matters="its care", target=add_working_days(TODAY, 15)))
    for who, org in ((H, TRUST), (COUNCIL_CONTRIBUTOR, COUNCIL), (ICB_CONTRIBUTOR, ICB)):
        run.do(c.AgreePlan(actor=who, org_id=org.id))
    for who, strand in ((TRUST_CONTRIBUTOR, "S1"), (COUNCIL_CONTRIBUTOR, "S2"), (ICB_CONTRIBUTOR, "S3")):
        run.do(c.RecordContribution(actor=who, strand_id=strand, summary="What we found."))
    run.do(c.RecordNoActionNeeded(actor=H, reason="the referral process has since been replaced."))
    run.do(c.RecordDraft(actor=H, text="Dear Jo, version one ..."))
    run.do(c.OpenCommentRound(actor=H, comment_by=COMMENT_BY))
    return run


def test_once_the_comments_are_in_the_lead_is_asked_to_revise_the_draft_or_keep_it() -> None:
    run = three_organisations_for_comment()
    run.do(c.RecordComment(actor=COUNCIL_CONTRIBUTOR, org_id=COUNCIL.id, comment="Add the dates."))
    assert "revise_draft" not in asked(run)  # the ICB has still to answer

    run.do(c.SignOffDraft(actor=ICB_CONTRIBUTOR, org_id=ICB.id))

    revise = asked(run)["revise_draft"]
    assert revise.question == (
        f"The comments on the draft are in (from {COUNCIL.name}): revise it, or keep it as it is?"
    )
    assert [ch.label for ch in revise.choices] == ["Revise the draft", "Keep it as it is"]
    (text,) = revise.choices[0].fields
    assert text.default == "Dear Jo, version one ..."
    assert "version 2" in revise.detail


def test_a_revised_draft_is_a_new_version_that_every_organisation_signs_off_afresh() -> None:
    run = three_organisations_for_comment()
    run.do(c.SignOffDraft(actor=ICB_CONTRIBUTOR, org_id=ICB.id))
    run.do(c.RecordComment(actor=COUNCIL_CONTRIBUTOR, org_id=COUNCIL.id, comment="Add the dates."))

    d = run.do(fill(asked(run)["revise_draft"].choices[0], {"text": "Dear Jo, with the dates ..."}))

    (recorded,) = events_of(d, ev.DraftRecorded)
    draft = run.case.draft
    assert recorded.version == 2 and draft is not None and draft.version == 2
    assert not draft.signed_off and not draft.comments  # the ICB approved version 1, not this one
    assert "revise_draft" not in asked(run)
    send = asked(run)["comment_round"]
    assert (
        send.question
        == "Send version 2 of the draft to every contributing organisation for comment and sign-off."
    )

    d = run.do(fill(send.choices[0], {"comment_by": COMMENT_BY}))

    sent = letters(d, "draft_for_comment")
    assert {(s.to.org_id, s.context["version"], s.context["draft"]) for s in sent} == {
        (COUNCIL.id, 2, "Dear Jo, with the dates ..."),
        (ICB.id, 2, "Dear Jo, with the dates ..."),
    }
    question = asked(run, ICB_CONTRIBUTOR)["comments:icb"].question
    assert question.startswith(f"Comments on version 2 of the draft joint response for {run.case.ref}")
    assert asked(run)["signoff:icb"].question == f"Has {ICB.name} signed off version 2 of the draft?"
    (signed,) = events_of(run.do(c.SignOffDraft(actor=ICB_CONTRIBUTOR, org_id=ICB.id)), ev.DraftSignedOff)
    assert (signed.org_id, signed.version) == (ICB.id, 2)


def test_an_earlier_versions_sign_off_does_not_let_the_final_response_go() -> None:
    run = three_organisations_for_comment()
    run.do(c.SignOffDraft(actor=ICB_CONTRIBUTOR, org_id=ICB.id))
    run.do(c.SignOffDraft(actor=COUNCIL_CONTRIBUTOR, org_id=COUNCIL.id))
    run.do(c.RecordDraft(actor=H, text="Dear Jo, changed after all ..."))
    run.do(c.OpenCommentRound(actor=H, comment_by=COMMENT_BY))
    run.do(c.ShareDraftWithComplainant(actor=H))
    run.do(c.SignOffDraft(actor=COUNCIL_CONTRIBUTOR, org_id=COUNCIL.id))

    with pytest.raises(InvalidCommand) as caught:
        run.do(c.SendFinalResponse(actor=H, body="Final.", signed_by="Chris Chief", signed_role="CEO"))
    assert caught.value.context["org_ids"] == [ICB.id]
    assert "final_response" not in asked(run) and "signoff:icb" in asked(run)


def test_kept_as_it_is_the_same_version_is_signed_off() -> None:
    run = three_organisations_for_comment()
    with pytest.raises(InvalidCommand, match="no comments"):
        run.do(c.KeepDraft(actor=H))
    run.do(c.RecordComment(actor=H, org_id=COUNCIL.id, comment="Fine as it is, really."))
    run.do(c.RecordComment(actor=H, org_id=ICB.id, comment="A typo in the second part."))

    d = run.do(asked(run)["revise_draft"].choices[1].command)

    assert [e.version for e in events_of(d, ev.DraftKept)] == [1]
    draft = run.case.draft
    assert draft is not None and (draft.version, draft.kept, len(draft.comments)) == (1, True, 2)
    assert "revise_draft" not in asked(run)
    assert {"signoff:council", "signoff:icb"} <= set(asked(run))
    (signed,) = events_of(run.do(c.SignOffDraft(actor=H, org_id=COUNCIL.id)), ev.DraftSignedOff)
    assert signed.version == 1


def test_no_revision_is_asked_once_those_who_commented_have_signed_off() -> None:
    run = drafting()
    run.do(c.OpenCommentRound(actor=H, comment_by=COMMENT_BY))
    run.do(c.RecordComment(actor=COUNCIL_CONTRIBUTOR, org_id=COUNCIL.id, comment="Fine by us."))
    assert "revise_draft" in asked(run)
    run.do(c.SignOffDraft(actor=COUNCIL_CONTRIBUTOR, org_id=COUNCIL.id))
    assert "revise_draft" not in asked(run)


def test_a_draft_rewritten_before_it_went_out_keeps_its_version() -> None:
    run = investigating()
    run.do(c.RecordContribution(actor=TRUST_CONTRIBUTOR, strand_id="S1", summary="Discharge was rushed."))
    run.do(c.RecordContribution(actor=COUNCIL_CONTRIBUTOR, strand_id="S2", summary="Referral was lost."))
    run.do(c.RecordDraft(actor=H, text=f"Dear Jo,\n\n{CONCLUSION}\n\n{NO_ACTIONS}"))
    run.do(fill(asked(run)["complete_draft"].choices[0], {"text": "Dear Jo, we uphold it."}))
    assert run.case.draft is not None and run.case.draft.version == 1
    (sent,) = letters(run.do(c.OpenCommentRound(actor=H, comment_by=COMMENT_BY)), "draft_for_comment")
    assert sent.context["version"] == 1
