"""The conversation is case state: each prompt's choice, filled in, is a command `decide` accepts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest

from flows import commands as c
from flows.asks_intake import CRITERIA_WORDING
from flows.calendar import add_working_days
from flows.codec import to_plain
from flows.decide import decide
from flows.effects import Notify
from flows.model import Actor, Case, Channel, LeadCriterion, Person, Status
from flows.prompts import Choice, FieldKind, Prompt, case_menu, fill, next_prompts
from tests.flows.builders import (
    COUNCIL,
    COUNCIL_CONTRIBUTOR,
    COUNCIL_MANAGER,
    DIRECTORY,
    ICB_HANDLER,
    NOW,
    SYSTEM,
    TODAY,
    TRUST,
    TRUST_CONTRIBUTOR,
    H,
    Run,
    agreeing_lead,
    closed,
    drafting,
    investigating,
    naming_contact,
    planning,
    received,
    responded,
)


def prompt(run: Run, prompt_id: str, who: Actor = H) -> Prompt:
    found = {p.id: p for p in next_prompts(run.case, who, run.now)}
    assert prompt_id in found, f"no {prompt_id!r} prompt, only {list(found)}"
    return found[prompt_id]


def choice(p: Prompt, label: str) -> Choice:
    return next(ch for ch in p.choices if ch.label.startswith(label))


def answer(run: Run, prompt_id: str, label: str, who: Actor = H, **values: Any) -> None:
    run.do(fill(choice(prompt(run, prompt_id, who), label), values))


def test_the_required_conversation_from_receipt_to_the_named_contact() -> None:
    run = received()
    assert [p.id for p in next_prompts(run.case, H, NOW)] == ["organisations"]
    (pick,) = choice(prompt(run, "organisations"), "Choose").fields
    assert (pick.kind, pick.default) == (FieldKind.ORGANISATIONS, (COUNCIL.id, TRUST.id))
    answer(run, "organisations", "Choose", orgs=[to_plain(DIRECTORY[o]) for o in pick.default])
    assert run.case.orgs == {COUNCIL.id: COUNCIL, TRUST.id: TRUST}

    consent = prompt(run, "consent")
    assert COUNCIL.name in consent.question and "one response" in consent.detail
    assert [ch.label for ch in consent.choices] == [
        "Consent given",
        "Send the consent request letter",
        "Consent refused",
        "Someone acts for the person: record who and on what authority",
    ]
    answer(run, "consent", "Consent given", method="email", given_on=TODAY.isoformat())
    assert run.case.status is Status.AGREEING_LEAD

    lead = prompt(run, "propose_lead")
    assert all(words in lead.detail for words in CRITERIA_WORDING.values())
    criteria = choice(lead, f"Propose {TRUST.name}").fields[0]
    assert {v for v, _ in criteria.options} == {k.value for k in LeadCriterion}
    answer(
        run, "propose_lead", f"Propose {TRUST.name}", criteria=["greatest_responsibility", "most_resource"]
    )

    theirs = next_prompts(run.case, COUNCIL_CONTRIBUTOR, run.now)
    assert [p.id for p in theirs] == ["lead_answer:council"]
    assert [ch.label for ch in theirs[0].choices] == ["Agree", "Object"]
    assert "greatest responsibility" in theirs[0].detail
    assert [p.id for p in next_prompts(run.case, H, run.now)] == [
        "complainant_view",
        "lead_answer:council",
        "meeting",
    ]
    answer(run, "lead_answer:council", "Agree", who=COUNCIL_CONTRIBUTOR)
    assert run.case.status is Status.AGREEING_LEAD  # not without the person's view
    answer(run, "complainant_view", "Record their view", view="Happy for the hospital to lead")
    assert run.case.status is Status.NAMING_CONTACT

    assert [p.id for p in next_prompts(run.case, H, run.now)] == [
        "update_every",
        "named_contact",
        "response_period",
        "meeting",
    ]
    answer(run, "update_every", "Set")
    assert run.case.update_every == 20
    answer(run, "named_contact", "Name the contact", email="alex@riverside.example.nhs.uk")
    assert run.case.named_contact and run.case.named_contact.name == H.name
    assert run.case.status is Status.PLANNING


def test_consent_refused_leads_to_the_signposting_prompt() -> None:
    run = received()
    answer(run, "organisations", "Choose", orgs=(TRUST, COUNCIL))
    answer(run, "consent", "Consent refused")
    assert [p.id for p in next_prompts(run.case, H, NOW)] == ["signpost"]
    answer(run, "signpost", "Send the signposting letter")
    assert run.case.involved == (TRUST.id,)


def test_once_requested_the_letter_is_not_offered_again() -> None:
    run = received()
    answer(run, "organisations", "Choose", orgs=(TRUST, COUNCIL))
    answer(run, "consent", "Send the consent request letter")
    assert [ch.label for ch in prompt(run, "consent").choices][:2] == ["Consent given", "Consent refused"]


def test_an_objection_sends_the_coordinator_back_to_proposing() -> None:
    run = agreeing_lead()
    answer(run, "propose_lead", f"Propose {COUNCIL.name}", criteria=["best_relationship"])
    answer(run, "lead_answer:council", "Object", who=COUNCIL_CONTRIBUTOR, reason="The trust did most")
    assert "not agreed" in prompt(run, "propose_lead").question
    assert not next_prompts(run.case, COUNCIL_CONTRIBUTOR, run.now)


def test_fill_rejects_fields_the_choice_does_not_have_and_answers_it_cannot_read() -> None:
    run = received()
    only_ours = choice(prompt(run, "organisations"), "Only")
    with pytest.raises(ValueError, match="not fields of this choice: orgs"):
        fill(only_ours, {"orgs": (TRUST,)})
    run.do(c.IdentifyOrganisations(actor=H, orgs=(TRUST, COUNCIL)))
    with pytest.raises(ValueError):
        fill(choice(prompt(run, "consent"), "Consent given"), {"given_on": "the other day"})


def test_nobody_is_prompted_on_a_closed_case_or_from_an_uninvolved_organisation() -> None:
    assert next_prompts(closed().case, H, NOW) == []
    assert next_prompts(Case(ref="JC-new"), H, NOW) == []
    assert next_prompts(investigating().case, ICB_HANDLER, NOW) == []
    # a contributor of the coordinating organisation is asked only for its own strand
    assert [p.id for p in next_prompts(investigating().case, TRUST_CONTRIBUTOR, NOW)] == ["strand:S1"]


def sensible(ch: Choice) -> dict[str, Any]:
    """What a careful handler would answer: the suggestion, else a plain value of the right kind."""
    values: dict[str, Any] = {}
    for f in ch.fields:
        if f.kind is FieldKind.ORGANISATIONS:
            values[f.name] = tuple(DIRECTORY[o] for o in f.default)
        elif f.default not in (None, ""):
            values[f.name] = f.default
        elif f.options:
            values[f.name] = [f.options[0][0]] if f.kind is FieldKind.MULTI_CHOICE else f.options[-1][0]
        else:
            values[f.name] = "someone@example.org" if f.name == "email" else "In plain words."
    return values


def proposed() -> Run:
    run = agreeing_lead()
    run.do(c.RecordComplainantView(actor=H, view="No preference given"))
    run.do(c.ProposeLead(actor=H, org_id=TRUST.id, criteria=(LeadCriterion.MOST_RESOURCE,)))
    return run


def strand_proposed() -> Run:
    """A strand for the council in the plan, which nobody has agreed yet."""
    run = planning()
    run.do(
        c.AddStrand(
            actor=H, org_id=COUNCIL.id, matters="The care package", target=add_working_days(TODAY, 10)
        )
    )
    return run


@pytest.mark.parametrize(
    "stage",
    [
        received,
        agreeing_lead,
        proposed,
        naming_contact,
        planning,
        strand_proposed,
        investigating,
        drafting,
        responded,
    ],
)
def test_every_offered_choice_answered_sensibly_is_accepted(stage: Callable[[], Run]) -> None:
    run = stage()
    offered = [ch for p in next_prompts(run.case, H, run.now) for ch in p.choices]
    assert offered
    for who in (COUNCIL_CONTRIBUTOR, COUNCIL_MANAGER):  # what another organisation is offered too
        offered += [ch for p in next_prompts(run.case, who, run.now) for ch in p.choices]
    for ch in offered:
        decide(run.case, fill(ch, sensible(ch)), run.now)  # raises if refused


def test_the_final_response_is_offered_only_once_signed_off_and_the_draft_shared() -> None:
    def joint(run: Run) -> set[str]:
        kinds = ("comment", "signoff", "share_draft", "final_response")
        return {p.id for p in next_prompts(run.case, H, NOW) if p.id.partition(":")[0] in kinds}

    run = drafting()
    answer(run, "comment_round", "Send for comment")
    assert joint(run) == {"comment:council", "signoff:council", "share_draft"}
    answer(run, "comment:council", "Record them", comment="Fine")
    assert joint(run) == {"signoff:council", "share_draft"}
    answer(run, "share_draft", "Share it")
    assert joint(run) == {"signoff:council"}  # comments are in, but not the sign-off
    answer(run, "signoff:council", "Signed off")
    send = choice(prompt(run, "final_response"), "Send")
    assert dict(sensible(send))["body"] == run.case.draft.text  # type: ignore[union-attr]
    answer(run, "final_response", "Send", signed_by="Chris Chief")
    assert run.case.status is Status.RESPONDED
    asked = ["add_action", "learning", "outcome:trust", "outcome:council"]
    assert [p.id for p in next_prompts(run.case, H, NOW)] == asked


def test_an_oral_complaint_may_be_resolved_only_while_in_time_and_without_email_is_acknowledged() -> None:
    run = Run()
    run.do(
        c.ReceiveComplaint(
            actor=H, channel=Channel.PHONE, received_at=NOW, complainant=Person(name="Jo"), home_org=TRUST
        )
    )
    assert [p.id for p in next_prompts(run.case, H, NOW)] == ["acknowledge", "organisations"]
    assert "Resolved to their satisfaction already" in [
        ch.label for ch in prompt(run, "organisations").choices
    ]
    run.now = datetime(2026, 11, 26, 9, tzinfo=UTC)
    assert len(prompt(run, "organisations").choices) == 2
    answer(run, "acknowledge", "Record", on=date(2026, 11, 25).isoformat())
    assert run.case.acknowledged_at == run.now


def test_the_six_month_point_prompts_a_delay_letter_unless_a_longer_period_was_agreed() -> None:
    run = investigating()
    run.now = datetime(2027, 5, 24, 9, tzinfo=UTC)
    assert next_prompts(run.case, H, run.now)[0].id == "delay"
    answer(run, "delay", "Write", reasons="Records awaited")
    assert run.case.delay_letter_at == run.now and "delay" not in [
        p.id for p in next_prompts(run.case, H, run.now)
    ]

    run = investigating()
    run.do(c.AgreeLongerPeriod(actor=H, until=date(2027, 7, 30), agreed_on=TODAY))
    assert "delay" not in [p.id for p in next_prompts(run.case, H, datetime(2027, 5, 24, 9, tzinfo=UTC))]
    assert next_prompts(run.case, H, datetime(2027, 8, 2, 9, tzinfo=UTC))[0].id == "delay"


def test_the_plan_prompt_offers_a_working_day_and_asks_each_organisation_to_agree() -> None:
    run = planning()
    add = choice(prompt(run, "plan"), "Add a strand")
    target = next(f for f in add.fields if f.name == "target")
    assert target.default == add_working_days(TODAY, 15)
    answer(run, "plan", "Add a strand", org_id=COUNCIL.id, matters="Care package")
    assert {p.id for p in next_prompts(run.case, H, NOW)} >= {"plan_agreed:trust", "plan_agreed:council"}


def test_a_failed_acknowledgement_asks_the_handler_to_acknowledge_another_way() -> None:
    run = received()
    assert "acknowledge" not in [p.id for p in next_prompts(run.case, H, NOW)]
    key = next(iter(run.case.letters))
    run.do(c.RecordLetterFailed(actor=SYSTEM, key=key, reason="no such mailbox"))
    assert run.case.letters[key].failed == "no such mailbox"
    assert "no such mailbox" in prompt(run, "acknowledge").question
    answer(run, "acknowledge", "Record", method="written")
    assert run.case.acknowledged_at == NOW and "acknowledge" not in [
        p.id for p in next_prompts(run.case, H, NOW)
    ]


def test_a_longer_period_agreed_before_the_six_month_point_is_on_the_case_menu_until_that_point() -> None:
    run = investigating()
    point = date(2027, 5, 23)  # received 24 Nov 2026: six months beginning that day end on 23 May

    def offered(now: datetime) -> Choice | None:
        [menu] = case_menu(run.case, H, now)
        return next((ch for ch in menu.choices if ch.label.startswith("Record a longer period")), None)

    on_the_point = offered(datetime(2027, 5, 21, 9, tzinfo=UTC))
    assert on_the_point is not None and "Sunday 23 May 2027" in on_the_point.label
    assert offered(datetime(2027, 5, 24, 9, tzinfo=UTC)) is None  # too late: the delay letter instead
    until = next(f for f in on_the_point.fields if f.name == "until")
    assert until.default == add_working_days(point, 20)

    run.now = datetime(2027, 5, 21, 9, tzinfo=UTC)
    run.do(fill(on_the_point, {"until": "2027-07-30", "agreed_on": "2027-05-21"}))

    assert run.case.longer_period_until == date(2027, 7, 30)
    assert offered(run.now) is None  # agreed once; the response is due then
    assert "delay" not in [p.id for p in next_prompts(run.case, H, datetime(2027, 6, 1, 9, tzinfo=UTC))]


def test_a_case_that_may_be_part_of_another_asks_that_first_and_nothing_that_moves_it_on() -> None:
    run = received(related=("JC-261101-ABCD",))

    [told] = [e for e in run.decisions[-1].effects if isinstance(e, Notify)]
    assert (told.message, told.context["related"]) == ("new_case_related", "JC-261101-ABCD")
    asked = [p.id for p in next_prompts(run.case, H, NOW)]
    assert "related" in asked and "organisations" not in asked  # a merge needs the case unmoved

    run.do(c.DismissRelated(actor=H))

    assert "organisations" in [p.id for p in next_prompts(run.case, H, NOW)]
