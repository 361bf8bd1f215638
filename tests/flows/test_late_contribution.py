"""After a partial response (impasse step 2) the missing response can still come: it is recorded
late, and the full joint response follows through the usual draft, comments and sign-off, saying
it follows the partial response. No reminder chases a response once it is in."""

from __future__ import annotations

from datetime import date

import pytest

from flows import commands as c
from flows.calendar import add_working_days, six_month_point
from flows.drafting import CONCLUSION, assemble_draft
from flows.due import Policy, due
from flows.effects import SendLetter
from flows.errors import InvalidCommand
from flows.model import ReminderKind, Sender, Status
from flows.prompts import Prompt, fill, next_prompts
from tests.flows.builders import (
    COUNCIL,
    COUNCIL_CONTRIBUTOR,
    COUNCIL_MANAGER,
    SYSTEM,
    TODAY,
    TRUST,
    TRUST_CONTRIBUTOR,
    H,
    Run,
    at,
    investigating,
    letters,
    only,
    responded,
)
from tests.flows.test_prompts import sensible

RESOLVE_BY = add_working_days(TODAY, 3)
K = ReminderKind
NOT_AFTER_PARTIAL = {
    K.CONTRIBUTION,
    K.CONTRIBUTION_LATE,
    K.MILESTONE,
    K.SIX_MONTHS,
    K.RESPONSE_PERIOD,
    K.UPDATE,
    K.IMPASSE_DUE,
}
PARTIAL_ON = add_working_days(RESOLVE_BY, 1)  # Monday 30 November 2026



def asked(run: Run) -> dict[str, Prompt]:
    return {p.id: p for p in next_prompts(run.case, H, run.now)}


def partly_responded() -> Run:
    """The council never sent its response on S2; senior managers did not resolve it; step 2 went."""
    run = investigating()
    run.do(c.RecordContribution(actor=TRUST_CONTRIBUTOR, strand_id="S1", summary="Discharge was rushed."))
    run.do(c.RaiseImpasse(actor=H, matter="an organisation is not cooperating", reason="No reply",
                          resolve_by=RESOLVE_BY))  # fmt: skip
    run.now = at(PARTIAL_ON)
    run.do(c.SendPartialResponse(actor=H, answered="a", not_possible="b", why_no_agreement="c"))
    return run


def late_contribution(run: Run) -> Run:
    run.now = at(add_working_days(PARTIAL_ON, 10))
    run.do(fill(asked(run)["late_contribution:S2"].choices[0], {"summary": "The referral was lost."}))
    return run


def full_draft(run: Run) -> Run:
    """The full response drafted from the case, then completed with what will be put right."""
    (record,) = asked(run)["full_response"].choices
    run.do(fill(record, {"text": record.fields[0].default.replace(CONCLUSION, "We uphold it.")}))
    run.do(c.RecordNoActionNeeded(actor=H, reason="the referral process has since been replaced."))
    (complete,) = asked(run)["complete_draft"].choices
    run.do(fill(complete, {"text": complete.fields[0].default}))
    return run


def test_a_response_that_comes_after_the_partial_response_is_recorded() -> None:
    run = partly_responded()
    assert run.case.status is Status.RESPONDED
    prompt = asked(run)["late_contribution:S2"]
    assert prompt.question.startswith(f"{COUNCIL.name}'s response on S2 was not in for the partial response")

    late_contribution(run)

    strand = run.case.strands["S2"]
    assert strand.contribution is not None and strand.contribution.summary == "The referral was lost."
    assert run.case.status is Status.RESPONDED and "late_contribution:S2" not in asked(run)
    (draft,) = asked(run)["full_response"].choices
    assert draft.fields[0].default == assemble_draft(run.case)
    assert "to follow the partial response of Monday 30 November 2026" in asked(run)["full_response"].question


def test_the_contributing_organisation_may_record_its_late_response_itself() -> None:
    run = partly_responded()
    run.do(c.RecordContribution(actor=COUNCIL_CONTRIBUTOR, strand_id="S2", summary="The referral was lost."))
    assert "full_response" in asked(run)


def test_the_full_response_follows_the_partial_one_through_the_draft_and_sign_off() -> None:
    run = full_draft(late_contribution(partly_responded()))
    assert run.case.status is Status.DRAFTING  # back from responded: an edge of the diagram
    assert "ombudsman" not in asked(run) and "delay" not in asked(run)
    assert not [p for p in next_prompts(run.case, COUNCIL_MANAGER, run.now) if p.id.startswith("impasse")]

    run.do(fill(asked(run)["comment_round"].choices[0], {"comment_by": add_working_days(run.now.date(), 5)}))
    run.do(c.SignOffDraft(actor=COUNCIL_CONTRIBUTOR, org_id=COUNCIL.id))
    run.do(asked(run)["share_draft"].choices[0].command)
    send = asked(run)["final_response"]
    assert "follows the partial response of Monday 30 November 2026" in send.detail
    d = run.do(fill(send.choices[0], {"signed_by": "Chris Chief"}))

    final = only(letters(d, "final_response"))
    assert final.context["partial_response_on"] == "Monday 30 November 2026"
    assert run.case.status is Status.RESPONDED
    assert not [p for p in asked(run) if p.startswith(("ombudsman", "late_", "full_response"))]
    with pytest.raises(InvalidCommand, match="the final response has gone"):
        run.do(c.RecordDraft(actor=H, text="Dear Jo, again ..."))


def test_a_final_response_without_a_partial_one_says_nothing_of_it() -> None:
    final = only(
        [e for e in responded().effects if isinstance(e, SendLetter) and e.template == "final_response"]
    )
    assert final.context["partial_response_on"] == ""


def test_after_a_final_response_no_contribution_is_recorded() -> None:
    run = responded()
    with pytest.raises(InvalidCommand, match="the final response has gone"):
        run.do(c.RecordContribution(actor=COUNCIL_CONTRIBUTOR, strand_id="S2", summary="More."))


def test_the_partial_response_goes_once() -> None:
    run = full_draft(late_contribution(partly_responded()))
    with pytest.raises(InvalidCommand, match="already gone"):
        run.do(c.SendPartialResponse(actor=H, answered="a", not_possible="b", why_no_agreement="c"))


def test_every_choice_after_the_partial_response_answered_sensibly_is_accepted() -> None:
    for run in (partly_responded(), late_contribution(partly_responded())):
        for choice in (ch for p in next_prompts(run.case, H, run.now) for ch in p.choices):
            Run(case=run.case, now=run.now).do(fill(choice, sensible(choice)))


def reminded(run: Run, day: date) -> set[tuple[ReminderKind, str]]:
    return {(r.kind, r.org_id) for r in due(run.case, at(day), Policy())}


def test_no_reminder_chases_the_late_response_once_it_is_in() -> None:
    run = partly_responded()
    assert not {kind for kind, _ in reminded(run, add_working_days(PARTIAL_ON, 8))} & NOT_AFTER_PARTIAL

    full_draft(late_contribution(run))
    run.do(c.OpenCommentRound(actor=H, comment_by=add_working_days(run.now.date(), 5)))

    past_six_months = add_working_days(six_month_point(TODAY), 1)
    found = reminded(run, past_six_months)
    assert (K.COMMENTS, COUNCIL.id) in found  # on the full response's draft
    assert not {kind for kind, _ in found} & NOT_AFTER_PARTIAL  # the person had a response, in part
    run.do(c.SignOffDraft(actor=COUNCIL_CONTRIBUTOR, org_id=COUNCIL.id))
    assert not {org for _, org in reminded(run, past_six_months)} & {COUNCIL.id, TRUST.id}


def test_the_council_sends_its_late_response_itself_in_the_chat() -> None:
    run = partly_responded()
    [mine] = [p for p in next_prompts(run.case, COUNCIL_CONTRIBUTOR, run.now) if p.id == "strand:S2"]
    assert "partial response" in mine.question and [ch.label for ch in mine.choices] == ["Send our response"]
    run.do(fill(mine.choices[0], {"summary": "The referral was lost in our system."}))
    assert run.case.strands["S2"].contribution is not None


def test_a_late_response_that_comes_by_email_is_recorded_in_one_answer() -> None:
    run = partly_responded()
    run.do(
        c.ReceiveMessage(
            actor=SYSTEM, message_id="<late@council.example>", sender=Sender.CONTRIBUTOR,
            from_address="kim@council.example", received_at=run.now, org_id=COUNCIL.id, strand_id="S2",
            text="Our findings: the referral was lost.",
        )
    )  # fmt: skip
    prompt = asked(run)["message:<late@council.example>"]
    assert [ch.label for ch in prompt.choices] == ["Record it as the response on S2", "Mark it read"]
    run.do(fill(prompt.choices[0], {}))
    assert run.case.strands["S2"].contribution is not None and all(m.read for m in run.case.messages)
    assert "full_response" in asked(run)
