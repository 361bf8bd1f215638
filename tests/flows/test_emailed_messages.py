"""An organisation that only uses email: from its message's prompt the handler records its request
for a new date, a new date, its answer to the proposed lead, or its response, in one answer that
also marks the message read. What the email most likely says is offered first, filled in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date

import pytest

from flows import commands as c
from flows import events as ev
from flows.calendar import add_working_days, working_days_between
from flows.conversation import Prompt, fill
from flows.decide import decide
from flows.errors import Forbidden, InvalidCommand
from flows.model import Attachment, LeadCriterion, Sender, Status
from flows.prompts import next_prompts
from flows.rules import long_date
from tests.flows.builders import (
    COUNCIL,
    COUNCIL_CONTRIBUTOR,
    NOW,
    SYSTEM,
    TODAY,
    TRUST,
    H,
    Run,
    agreeing_lead,
    investigating,
    letters,
    only,
)
from tests.flows.test_prompts import choice, prompt

TARGET = date(2026, 12, 15)  # the council's strand, S2, is due 15 working days after TODAY
ASKED = date(2027, 1, 13)  # "13 January", read forwards: next year's
ASKING = "Dear Alex,\n\nWe can't make 15 December, can we have 13 January? Our records are off site.\n\nKim"


def emailed(run: Run, text: str, strand: str = "S2", files: tuple[Attachment, ...] = ()) -> Prompt:
    """The council's email on the case, and the handler's prompt for it."""
    message_id = f"<{len(run.case.messages) + 1}@millbrook.example.gov.uk>"
    run.do(
        c.ReceiveMessage(
            actor=SYSTEM, message_id=message_id, sender=Sender.CONTRIBUTOR, from_address=COUNCIL.email,
            received_at=NOW, text=text, org_id=COUNCIL.id, strand_id=strand, attachments=files,
        )
    )  # fmt: skip
    return prompt(run, f"message:{message_id}")


def proposed() -> Run:
    """The trust proposed itself as the lead; the council has not answered."""
    run = agreeing_lead()
    run.do(c.ProposeLead(actor=H, org_id=TRUST.id, criteria=(LeadCriterion.GREATEST_RESPONSIBILITY,)))
    return run


def with_period() -> Run:
    """Investigating, with the date the person expects the response by."""
    run = investigating()
    assert run.case.strands["S2"].target == TARGET
    run.do(c.SetResponsePeriod(actor=H, due=add_working_days(TODAY, 30), agreed_with_complainant=True))
    return run


def unread(run: Run) -> list[str]:
    return [m.message_id for m in run.case.messages if not m.read]


def test_a_request_for_a_later_date_is_read_and_offered_first_with_the_date_filled_in() -> None:
    asked = emailed(with_period(), ASKING)

    assert asked.detail == (
        "This looks like Millbrook Borough Council asking to move S2 from Tuesday 15 December 2026 "
        "to Wednesday 13 January 2027: record it?"
    )
    first = asked.choices[0]
    assert first.label == "Record their request for a new date on S2"
    assert {f.name: f.default for f in first.fields} == {"target": ASKED, "reason": None}
    assert "records" not in (asked.question + asked.detail).lower()  # chat never says what it says


def test_the_recorded_request_is_accepted_as_a_slack_request_would_be_and_the_person_told() -> None:
    run = with_period()
    before = run.case.response_period.due  # type: ignore[union-attr]
    asked = emailed(run, ASKING)

    decision = run.do(fill(asked.choices[0], {"reason": "Their records are off site"}))

    assert unread(run) == [] and len(decision.events) == 2  # the request and the message read
    proposal = run.case.strands["S2"].proposed
    assert proposal is not None and (proposal.target, proposal.reason) == (
        ASKED,
        "Their records are off site",
    )
    accepted = run.do(choice(prompt(run, "date_proposal:S2"), "Accept").command)
    told = only(letters(accepted, "timescale_changed"))
    due = add_working_days(before, working_days_between(TARGET, ASKED))
    assert run.case.response_period.due == due  # type: ignore[union-attr]
    assert (told.context["previously"], told.context["response_due"]) == (long_date(before), long_date(due))


def test_the_handler_changes_the_target_date_on_an_email_and_the_person_is_told() -> None:
    run = with_period()
    asked = emailed(run, ASKING)

    later = choice(asked, "Change the target date of S2")
    decision = run.do(fill(later, {"reason": "Records off site", "target": "2027-01-13"}))

    assert run.case.strands["S2"].target == ASKED and unread(run) == []
    assert only(letters(decision, "timescale_changed")).context["reason"] == "Records off site"


@pytest.mark.parametrize(
    ("text", "agrees", "looks_like"),
    [
        (
            "Dear Alex,\n\nThank you. Millbrook Borough Council agrees that Riverside Hospitals leads.",
            True,
            "Millbrook Borough Council agreeing that Riverside Hospitals NHS Foundation Trust leads",
        ),
        (
            "We do not agree. Most of what went wrong was on the ward.",
            False,
            "Millbrook Borough Council objecting to Riverside Hospitals NHS Foundation Trust leading",
        ),
    ],
)
def test_an_emailed_answer_to_the_proposed_lead_is_read_and_recorded_for_the_council(
    text: str, agrees: bool, looks_like: str
) -> None:
    run = proposed()
    asked = emailed(run, text, strand="")

    assert asked.detail == f"This looks like {looks_like}: record it?"
    first = asked.choices[0]
    assert isinstance(first.command, c.RespondToLeadByEmail) and first.command.agrees is agrees
    run.do(fill(first, {} if agrees else {"reason": "Most of it happened on the ward"}))

    answer = run.case.proposal.responses[COUNCIL.id]  # type: ignore[union-attr]
    assert answer.agrees is agrees and unread(run) == []
    assert run.case.status is (Status.NAMING_CONTACT if agrees else Status.AGREEING_LEAD)


def test_an_emailed_objection_needs_its_reason() -> None:
    run = proposed()
    asked = emailed(run, "We object.", strand="")
    with pytest.raises(InvalidCommand, match="the reason for objecting"):
        run.do(fill(asked.choices[0], {"reason": " "}))
    assert len(unread(run)) == 1


def test_emailed_findings_are_recorded_as_the_response_and_the_message_read_in_one_answer() -> None:
    run = investigating()
    findings = Attachment("ab12.pdf", "findings.pdf", "application/pdf", 2048)
    asked = emailed(run, "Please find our findings attached.", files=(findings,))

    assert asked.detail == "This looks like Millbrook Borough Council's response on S2: record it?"
    run.do(fill(asked.choices[0], {}))

    contribution = run.case.strands["S2"].contribution
    assert contribution is not None and contribution.attachments == ("ab12.pdf",)
    assert unread(run) == []


@pytest.mark.parametrize("stage", [proposed, investigating])
def test_every_way_of_recording_an_email_marks_it_read_in_the_same_decision(stage: Callable[[], Run]) -> None:
    run = stage()
    asked = emailed(run, "Thank you.", strand="S2" if run.case.strands else "")
    answers = {"reason": "As they said", "summary": "What they found", "target": "2027-01-13"}

    recorded = [ch for ch in asked.choices if isinstance(ch.command, c.ByEmail)]
    assert len(recorded) == (3 if run.case.strands else 2)
    for ch in recorded:
        decision = decide(run.case, fill(ch, {f.name: answers[f.name] for f in ch.fields}), NOW)
        read = [e.message_id for e in decision.events if isinstance(e, ev.MessageRead)]
        assert read == [run.case.messages[-1].message_id], ch.label
        assert decision.after.messages[-1].read


def test_nothing_is_suggested_when_the_email_is_unclear_and_the_handler_still_has_every_choice() -> None:
    run = investigating()
    for text in ("Thank you.", "We can't make 15 December: 6 January or 13 January?", "Can we talk?"):
        asked = emailed(run, text)
        assert asked.detail == ""
        assert [ch.label for ch in asked.choices] == [
            "Record it as the response on S2",
            "Record their request for a new date on S2",
            "Change the target date of S2",
            "Mark it read",
        ]


def test_only_the_coordinating_handler_records_an_email_for_an_organisation() -> None:
    run = investigating()
    asked = emailed(run, ASKING)
    command = fill(asked.choices[0], {"reason": "Records off site"})
    with pytest.raises(Forbidden):
        run.do(replace(command, actor=COUNCIL_CONTRIBUTOR))
    assert next_prompts(run.case, COUNCIL_CONTRIBUTOR, NOW)[0].id == "strand:S2"
