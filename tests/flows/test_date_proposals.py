"""A contributor's strand: it cannot make its target date and proposes another, which the lead
accepts or refuses (moving the person's expected date), or it answers by email.

The contributor is asked about its own strands only, and the lead is asked about the proposal."""

from __future__ import annotations

import pytest

from flows import commands as c
from flows.calendar import add_working_days, working_days_between
from flows.conversation import fill
from flows.errors import Forbidden, InvalidCommand
from flows.model import Attachment, Sender
from flows.prompts import next_prompts
from tests.flows.builders import (
    COUNCIL_CONTRIBUTOR,
    NOW,
    SATURDAY,
    SYSTEM,
    TODAY,
    TRUST_CONTRIBUTOR,
    H,
    investigating,
)

LATER = add_working_days(TODAY, 25)


def test_a_contributor_sees_its_own_strands_with_a_way_to_ask_for_another_date() -> None:
    run = investigating()

    [prompt] = next_prompts(run.case, COUNCIL_CONTRIBUTOR, NOW)

    assert prompt.id == "strand:S2" and "Millbrook Borough Council" in prompt.question
    labels = [choice.label for choice in prompt.choices]
    assert labels == ["Send our response", "Can't make this date", "On track", "Snooze reminders"]
    assert "Care package" not in prompt.question + prompt.detail  # what to look into stays in email


def test_the_lead_accepts_a_proposed_date_and_the_strand_moves() -> None:
    run = investigating()
    run.do(c.ProposeTargetDate(actor=COUNCIL_CONTRIBUTOR, strand_id="S2", target=LATER, reason="Records"))

    [asked] = [p for p in next_prompts(run.case, H, NOW) if p.id == "date_proposal:S2"]
    run.do(asked.choices[0].command)

    strand = run.case.strands["S2"]
    assert strand.target == LATER and strand.proposed is None
    assert not [p for p in next_prompts(run.case, H, NOW) if p.id.startswith("date_proposal")]


def test_a_refused_date_leaves_the_target_and_lets_the_contributor_ask_again() -> None:
    run = investigating()
    before = run.case.strands["S2"].target
    run.do(c.ProposeTargetDate(actor=COUNCIL_CONTRIBUTOR, strand_id="S2", target=LATER, reason="Records"))
    [waiting] = next_prompts(run.case, COUNCIL_CONTRIBUTOR, NOW)
    assert "Can't make this date" not in [choice.label for choice in waiting.choices]  # one at a time

    run.do(c.RefuseTargetDate(actor=H, strand_id="S2", reason="The person has waited long enough"))

    assert run.case.strands["S2"].target == before and run.case.strands["S2"].proposed is None
    [again] = next_prompts(run.case, COUNCIL_CONTRIBUTOR, NOW)
    assert "Can't make this date" in [choice.label for choice in again.choices]


def test_proposals_are_checked() -> None:
    run = investigating()
    propose = c.ProposeTargetDate(actor=TRUST_CONTRIBUTOR, strand_id="S2", target=LATER, reason="Busy")
    with pytest.raises(Forbidden):
        run.do(propose)  # the trust cannot ask for the council's strand
    with pytest.raises(InvalidCommand, match="not a working day"):
        run.do(c.ProposeTargetDate(actor=COUNCIL_CONTRIBUTOR, strand_id="S2", target=SATURDAY, reason="x"))
    with pytest.raises(InvalidCommand, match="why the date cannot be met"):
        run.do(c.ProposeTargetDate(actor=COUNCIL_CONTRIBUTOR, strand_id="S2", target=LATER, reason=" "))
    with pytest.raises(InvalidCommand, match="no new date is proposed"):
        run.do(c.RefuseTargetDate(actor=H, strand_id="S2"))


def test_an_accepted_later_date_moves_the_persons_expected_date_and_tells_them() -> None:
    run = investigating()
    run.do(c.SetResponsePeriod(actor=H, due=add_working_days(TODAY, 30), agreed_with_complainant=True))
    before = run.case.response_period.due  # type: ignore[union-attr]
    run.do(c.ProposeTargetDate(actor=COUNCIL_CONTRIBUTOR, strand_id="S2", target=LATER, reason="Records"))

    decision = run.do(c.ChangeTargetDate(actor=H, strand_id="S2", target=LATER, reason="Records off site"))

    moved = working_days_between(add_working_days(TODAY, 15), LATER)
    assert run.case.response_period.due == add_working_days(before, moved)  # type: ignore[union-attr]
    [told] = [e for e in decision.effects if getattr(e, "template", "") == "timescale_changed"]
    assert told.to.kind.value == "complainant" and told.context["reason"] == "Records off site"


def test_two_strands_moved_alike_move_the_persons_date_once_as_they_run_side_by_side() -> None:
    run = investigating()
    run.do(c.SetResponsePeriod(actor=H, due=add_working_days(TODAY, 30), agreed_with_complainant=True))
    before = run.case.response_period.due  # type: ignore[union-attr]
    assert run.case.strands["S1"].target == run.case.strands["S2"].target

    first = run.do(c.ChangeTargetDate(actor=H, strand_id="S1", target=LATER, reason="Staff away"))
    second = run.do(c.ChangeTargetDate(actor=H, strand_id="S2", target=LATER, reason="Records off site"))

    moved = working_days_between(add_working_days(TODAY, 15), LATER)
    assert run.case.response_period.due == add_working_days(before, moved)  # type: ignore[union-attr]
    assert [getattr(e, "template", "") for e in first.effects].count("timescale_changed") == 1
    assert "timescale_changed" not in [getattr(e, "template", "") for e in second.effects]


def test_an_earlier_date_leaves_the_persons_expected_date_alone() -> None:
    run = investigating()
    run.do(c.SetResponsePeriod(actor=H, due=add_working_days(TODAY, 30), agreed_with_complainant=True))
    earlier = add_working_days(TODAY, 10)

    decision = run.do(c.ChangeTargetDate(actor=H, strand_id="S2", target=earlier, reason="Quicker"))

    assert run.case.response_period.due == add_working_days(TODAY, 30)  # type: ignore[union-attr]
    assert not [e for e in decision.effects if getattr(e, "template", "") == "timescale_changed"]


def test_a_response_by_email_is_recorded_on_its_strand_with_its_attachments() -> None:
    run = investigating()
    findings = Attachment("ab12.pdf", "findings.pdf", "application/pdf", 2048)
    run.do(
        c.ReceiveMessage(
            actor=SYSTEM, message_id="<r1@council.example>", sender=Sender.CONTRIBUTOR,
            from_address="kim@council.example", received_at=NOW, org_id="council", strand_id="S2",
            text="Our findings are attached.", attachments=(findings,),
        )
    )  # fmt: skip
    [asked] = [p for p in next_prompts(run.case, H, NOW) if p.id == "message:<r1@council.example>"]
    [record] = [ch for ch in asked.choices if ch.label == "Record it as the response on S2"]

    run.do(fill(record, {}))

    contribution = run.case.strands["S2"].contribution
    assert contribution is not None and contribution.attachments == ("ab12.pdf",)
    assert contribution.summary == "Our findings are attached."
