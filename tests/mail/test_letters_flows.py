"""Every letter the core queues has a template, and renders with exactly the keys its rule gives.

The template names come from the source of `flows` (each `.letter("<name>", ...)` call, found with
`ast`), and the contexts from real decisions: a few scenarios built with `tests.flows.builders`
are driven through `flows.decide.decide`, and each queued letter is rendered from its effect's own
context, so a template can never need a key that its rule does not pass. Ombudsman names are
expanded to contact details from configuration, as the effect runner does.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from datetime import date, datetime, time
from pathlib import Path

import pytest

import flows
from flows import commands as c
from flows.calendar import LONDON, add_working_days
from flows.effects import SendLetter
from flows.model import Channel, ConsentMethod, LeadCriterion
from mail.letters import render_letter, template_names
from tests.flows.builders import (
    COUNCIL,
    COUNCIL_CONTRIBUTOR,
    ICB,
    TODAY,
    TRUST,
    H,
    Run,
    agreeing_lead,
    drafting,
    investigating,
    received,
    reminded,
    responded,
    working_day,
)
from tests.mail.contexts import LEFTOVERS, as_the_runner_would

FLOWS_DIR = Path(flows.__file__).parent
CODE_WORD = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")  # an enum value such as 'greatest_responsibility'


def queued_in_source() -> dict[str, list[str]]:
    """Template name -> the flows files whose code queues it with `.letter("<name>", ...)`."""
    found: dict[str, list[str]] = {}
    for path in sorted(FLOWS_DIR.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "letter"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.setdefault(node.args[0].value, []).append(path.name)
    return found


def consent_then_signposting() -> Run:
    run = received()
    run.do(c.IdentifyOrganisations(actor=H, orgs=(TRUST, COUNCIL, ICB)))
    run.do(c.RequestConsent(actor=H, org_ids=(COUNCIL.id, ICB.id)))
    run.do(c.RecordConsentRefused(actor=H, org_ids=(ICB.id,), note="Only the council, please"))
    run.do(c.Signpost(actor=H, org_ids=(ICB.id,)))
    run.do(c.RecordConsent(actor=H, org_ids=(COUNCIL.id,), method=ConsentMethod.EMAIL, given_on=TODAY,
                           capacity_confirmed=True))  # fmt: skip
    run.do(c.WithdrawConsent(actor=H, org_ids=(COUNCIL.id,), note="Changed their mind"))
    return run


def passed_on() -> Run:
    run = received()
    run.do(c.IdentifyOrganisations(actor=H, orgs=(COUNCIL,)))
    run.do(c.RecordConsent(actor=H, org_ids=(COUNCIL.id,), method=ConsentMethod.EMAIL, given_on=TODAY,
                           capacity_confirmed=True))
    run.do(c.PassOn(actor=H, org_id=COUNCIL.id))
    return run


def timescales() -> Run:
    run = investigating()
    run.do(c.SetResponsePeriod(actor=H, due=add_working_days(TODAY, 40), agreed_with_complainant=False))
    run.do(c.SendDelayLetter(actor=H, reasons="The council's records of the care visits are still awaited.",
                             expected_by=date(2027, 6, 15)))
    return run


def impasse() -> Run:
    run = agreeing_lead()
    run.do(c.RecordComplainantView(actor=H, view="No preference given"))
    run.do(c.ProposeLead(actor=H, org_id=COUNCIL.id, criteria=(LeadCriterion.BEST_RELATIONSHIP,)))
    run.do(c.RespondToLead(actor=COUNCIL_CONTRIBUTOR, org_id=COUNCIL.id, agrees=False,
                           reason="The care complained about was mostly in hospital"))
    run.do(c.RaiseImpasse(actor=H, matter="Which organisation leads", reason="Each names the other",
                          resolve_by=TODAY))
    run.do(c.SendPartialResponse(actor=H, answered="Your father's discharge was not planned well.",
                                 not_possible="Why the care visits did not start.",
                                 why_no_agreement="The organisations disagree about who arranged them."),
           working_day(1))
    run.do(c.SignpostOmbudsman(actor=H), working_day(1))
    return run


def meeting_and_question() -> Run:
    run = investigating()
    on = datetime.combine(add_working_days(TODAY, 3), time(14), tzinfo=LONDON)
    run.do(c.ScheduleMeeting(actor=H, on=on, purpose="Review progress on the investigation"))
    run.do(c.AskContributor(actor=H, strand_id="S2", question="Who was told the care visits should start?"))
    return run


def actions_done() -> Run:
    run = drafting()
    run.do(c.AddAction(actor=H, owner_org=COUNCIL.id, description="Audit how referrals are received",
                       due=date(2027, 1, 29)))
    run.do(c.OpenCommentRound(actor=H, comment_by=add_working_days(TODAY, 5)))
    run.do(c.SignOffDraft(actor=COUNCIL_CONTRIBUTOR, org_id=COUNCIL.id))
    run.do(c.ShareDraftWithComplainant(actor=H))
    run.do(c.SendFinalResponse(actor=H, body="We looked into each part of your complaint.",
                               signed_by="Chris Chief", signed_role="Chief Executive"))
    run.do(c.CompleteAction(actor=COUNCIL_CONTRIBUTOR, action_id="A1", evidence="The audit report."))
    run.do(c.RecordLearning(actor=H, text="Referrals for home care are now confirmed on the day."))
    return run


SCENARIOS: list[Callable[[], Run]] = [
    responded,
    actions_done,
    lambda: received(Channel.PHONE, by=H),
    consent_then_signposting,
    passed_on,
    timescales,
    impasse,
    meeting_and_question,
    reminded,
]


def queued_letters() -> list[SendLetter]:
    runs = [scenario() for scenario in SCENARIOS]
    return [e for run in runs for e in run.effects if isinstance(e, SendLetter)]


def test_every_letter_flows_queues_has_a_template() -> None:
    queued = queued_in_source()
    assert queued, "no .letter(...) calls found in flows: has the API changed?"
    missing = {name: files for name, files in queued.items() if name not in template_names()}
    assert not missing, f"letters queued by flows without a template: {missing}"


def test_the_scenarios_queue_every_letter_flows_can_queue() -> None:
    assert {letter.template for letter in queued_letters()} == set(queued_in_source())


@pytest.mark.parametrize("letter", queued_letters(), ids=lambda letter: letter.key)
def test_each_queued_letter_renders_from_exactly_its_rules_context(letter: SendLetter) -> None:
    rendered = render_letter(letter.template, as_the_runner_would(letter.context))
    for part in (rendered.subject, rendered.text, rendered.html):
        for leftover in LEFTOVERS:
            assert leftover not in part, f"{letter.template}: {leftover!r} left in the letter"
    assert letter.ref in rendered.subject and f"Our reference: {letter.ref}" in rendered.text
    assert not CODE_WORD.search(rendered.text), f"{letter.template}: a code, not words, in the letter"
