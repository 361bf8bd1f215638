"""Wording found wrong in letters as sent (issue 12, item 8), each read in the rendered letter: the
partial response's sentence about the disputed matter, the overdue letter's grammar and strand, the
contributor's own heading and signature quoted in our letters, the strand request before the plan
is agreed, and the named contact's email taken from the directory.
"""

from __future__ import annotations

import pytest

from bot.config import Person
from bot.directory import actor
from flows import commands as c
from flows.asks_clock import DISPUTES
from flows.calendar import add_working_days
from flows.drafting import assemble_draft
from flows.due import Policy, due
from flows.effects import SendLetter
from flows.prompts import fill, next_prompts
from mail.letters import RenderedLetter, render_letter
from tests.flows.builders import (
    COUNCIL,
    COUNCIL_CONTRIBUTOR,
    SYSTEM,
    TODAY,
    TRUST,
    TRUST_CONTRIBUTOR,
    H,
    Run,
    at,
    drafting,
    investigating,
    naming_contact,
    planning,
)
from tests.mail.contexts import as_the_runner_would

SIGNED = (
    "Response from Millbrook Borough Council\n\n"
    "The referral was lost between the ward and the council.\n\n"
    "Yours sincerely,\nJane Doe\nComplaints Manager"
)
FINDINGS = "The referral was lost between the ward and the council."



def last_letter(run: Run, template: str) -> RenderedLetter:
    letter = [e for e in run.effects if isinstance(e, SendLetter) and e.template == template][-1]
    return render_letter(template, as_the_runner_would(letter.context))


def partial_response(matter: str, council_says: str = "") -> RenderedLetter:
    """Step 2 sent as drafted: the trust's strand answered, the council's as `council_says` if given."""
    run = investigating()
    run.do(c.RecordContribution(actor=TRUST_CONTRIBUTOR, strand_id="S1", summary="Discharge was rushed."))
    if council_says:
        run.do(c.RecordContribution(actor=COUNCIL_CONTRIBUTOR, strand_id="S2", summary=council_says))
    resolve_by = add_working_days(TODAY, 3)
    run.do(c.RaiseImpasse(actor=H, matter=matter, reason="Each says the other", resolve_by=resolve_by))
    run.now = at(add_working_days(resolve_by, 1))
    prompt = {p.id: p for p in next_prompts(run.case, H, run.now)}["partial_response"]
    (write,) = prompt.choices
    run.do(fill(write, {f.name: f.default for f in write.fields}))
    return last_letter(run, "partial_response")


@pytest.mark.parametrize("matter", [*(value for value, _ in DISPUTES), "Who pays for the care."])
def test_the_partial_response_names_any_disputed_matter_in_a_sentence(matter: str) -> None:
    text = partial_response(matter).text
    assert (
        "We could not give you a full response, because of something the organisations have not been able "
        f"to resolve between them: {matter.rstrip('.')}." in text
    )
    assert "full response about" not in text


def test_the_partial_response_quotes_findings_without_their_heading_or_signature() -> None:
    text = partial_response(DISPUTES[1][0], council_says=SIGNED).text
    answered = text.split("What we can tell you:")[1].split("What we have not been able")[0]
    assert answered.strip().endswith(f"looked into Care package arrangements. It found: {FINDINGS}")
    for pasted in ("Response from", "Yours sincerely", "Jane Doe", "Complaints Manager"):
        assert pasted not in answered


@pytest.mark.parametrize(
    "contribution",
    [
        SIGNED,
        f"Re: your request of 24 November\n\n{FINDINGS}\n\nKind regards\n\nJane Doe\nComplaints Manager\n"
        "Millbrook Borough Council",
        f"MILLBROOK BOROUGH COUNCIL\n\n{FINDINGS}\n\nBest wishes,\nJane",
        f"{FINDINGS}\n\nRegards,\nJane Doe",
        f"{FINDINGS}\n\nWith kind regards\nJane Doe",
        f"Millbrook Borough Council reviewed the file.\n\n{FINDINGS}",  # a sentence, not a heading: kept
    ],
)
def test_the_joint_response_draft_quotes_each_contribution_without_its_letter_framing(
    contribution: str,
) -> None:
    run = investigating()
    run.do(c.RecordContribution(actor=COUNCIL_CONTRIBUTOR, strand_id="S2", summary=contribution))
    draft = assemble_draft(run.case)
    strand = draft.split(f"\n\n{COUNCIL.name}\n", 1)[1].split("\n\nOur conclusions")[0]
    kept = "Millbrook Borough Council reviewed the file.\n\n" if "reviewed" in contribution else ""
    assert strand == f"What it looked into: Care package arrangements\nWhat it found: {kept}{FINDINGS}"


def test_the_overdue_letter_reads_right_for_plural_things_and_names_the_strand_once() -> None:
    run = drafting()
    run.do(c.OpenCommentRound(actor=H, comment_by=add_working_days(TODAY, 5)))
    late = at(add_working_days(TODAY, 7))
    run.do(c.SendReminders(actor=SYSTEM, reminders=tuple(due(run.case, late, Policy()))), late)
    comments = last_letter(run, "reminder_overdue")
    assert "is overdue" not in comments.subject + comments.text
    assert "We were due to receive comments on the draft joint response from" in comments.text

    run = investigating()
    late = at(add_working_days(run.case.strands["S2"].target, 2))
    run.do(c.SendReminders(actor=SYSTEM, reminders=tuple(due(run.case, late, Policy()))), late)
    strand = last_letter(run, "reminder_overdue")
    assert strand.text.count("strand S2") == 1 and "(strand S2)" not in strand.text


def test_a_strand_request_before_the_plan_is_agreed_does_not_call_it_agreed() -> None:
    run = planning()
    run.do(c.AddStrand(actor=H, org_id=COUNCIL.id, matters="Care", target=add_working_days(TODAY, 15)))
    text = last_letter(run, "contributor_request").text
    assert "agreed investigation plan" not in text
    assert f"we propose that {COUNCIL.name} looks into these matters (strand S1)" in text
    assert f"Please also tell us whether {COUNCIL.name} agrees to this part of the plan." in text


def test_a_strand_added_to_a_plan_every_organisation_agreed_says_so() -> None:
    run = investigating()
    run.do(c.AddStrand(actor=H, org_id=COUNCIL.id, matters="Day care", target=add_working_days(TODAY, 15)))
    text = last_letter(run, "contributor_request").text
    assert f"Under the agreed investigation plan, {COUNCIL.name} is looking into" in text
    assert "agrees to this part of the plan" not in text


def test_the_named_contact_email_is_the_handlers_own_from_the_directory() -> None:
    run = naming_contact()
    handler = actor(Person(id="alex-rivers", name="Alex Rivers", organisation=TRUST.id, roles=("handler",),
                           email="alex.rivers@riverside.example.nhs.uk"))
    prompt = {p.id: p for p in next_prompts(run.case, handler, run.now)}["named_contact"]
    (name,) = prompt.choices
    assert {f.name: f.default for f in name.fields}["email"] == "alex.rivers@riverside.example.nhs.uk"
    run.do(fill(name, {"phone": "0100 000 0001"}))  # names themselves: nothing else to type
    text = last_letter(run, "named_contact").text
    assert "Alex Rivers\nEmail: alex.rivers@riverside.example.nhs.uk\nTelephone: 0100 000 0001" in text
