"""Senior managers who answer an impasse by phone, email or at a meeting: the lead's handler records
each organisation's answer for it, saying how it was given, or records the impasse resolved."""

from __future__ import annotations

import pytest

from flows import commands as c
from flows import events as ev
from flows.calendar import add_working_days
from flows.effects import Notify
from flows.errors import Forbidden
from flows.model import Actor, AnswerChannel, Role
from flows.prompts import Prompt, fill, next_prompts
from tests.flows.builders import (
    COUNCIL,
    COUNCIL_CONTRIBUTOR,
    COUNCIL_HANDLER,
    COUNCIL_MANAGER,
    NOW,
    TODAY,
    TRUST,
    H,
    Run,
    actor,
    drafting,
    events_of,
    working_day,
)
from tests.flows.test_prompts import sensible

TRUST_MANAGER = actor(TRUST, Role.MANAGER, "Dana Board")
RESOLVE_BY = add_working_days(TODAY, 3)


def disputed() -> Run:
    run = drafting()
    run.do(c.OpenCommentRound(actor=H, comment_by=add_working_days(TODAY, 5)))
    run.do(c.RaiseImpasse(actor=H, matter="who pays for the care", reason="Each says the other",
                          resolve_by=RESOLVE_BY))  # fmt: skip
    return run


def asked(run: Run, who: Actor = H) -> dict[str, Prompt]:
    return {p.id: p for p in next_prompts(run.case, who, run.now)}


def on_behalf(run: Run) -> list[str]:
    return [p for p in asked(run) if p.startswith("impasse_answer:")]


def test_the_lead_is_asked_what_each_organisations_senior_managers_said() -> None:
    run = disputed()
    assert on_behalf(run) == ["impasse_answer:trust", "impasse_answer:council"]
    prompt = asked(run)["impasse_answer:council"]
    assert (
        prompt.question == f"Record what {COUNCIL.name}'s senior managers said about 'who pays for the care'."
    )
    assert [ch.label for ch in prompt.choices] == ["Resolved", "Cannot resolve"]
    assert [f.name for f in prompt.choices[0].fields] == ["outcome", "how"]
    how = prompt.choices[1].fields[0]
    assert [label for _, label in how.options] == ["By phone", "By email", "At a meeting"]

    d = run.do(fill(prompt.choices[1], {"how": "email"}))

    (answered,) = events_of(d, ev.ImpasseAnswered)
    assert (answered.org_id, answered.resolved, answered.how, answered.by) == (
        COUNCIL.id, False, AnswerChannel.EMAIL, H.id,
    )  # fmt: skip
    answer = run.case.impasse.answers[COUNCIL.id]  # type: ignore[union-attr]
    assert (answer.by, answer.how) == (H.id, AnswerChannel.EMAIL)
    assert not d.effects  # the handlers recorded it: no need to tell them
    assert on_behalf(run) == ["impasse_answer:trust"]
    assert "impasse:council" not in asked(run, COUNCIL_MANAGER)  # their answer is in


def test_answers_recorded_for_every_organisation_resolve_the_impasse() -> None:
    run = disputed()
    run.do(fill(asked(run)["impasse_answer:council"].choices[0], {"outcome": "We pay", "how": "phone"}))
    assert run.case.impasse is not None and run.case.impasse.resolved_at is None

    d = run.do(fill(asked(run)["impasse_answer:trust"].choices[0], {"outcome": "Agreed", "how": "meeting"}))

    (resolved,) = events_of(d, ev.ImpasseResolved)
    assert resolved.resolution == f"{TRUST.name}: Agreed\n{COUNCIL.name}: We pay"
    assert [n.message for n in d.effects if isinstance(n, Notify)] == ["impasse_resolved"]
    assert not on_behalf(run) and "resolve_impasse" not in asked(run)


def test_the_lead_records_the_impasse_resolved_with_the_outcome() -> None:
    run = disputed()
    (record,) = asked(run)["resolve_impasse"].choices
    assert [f.name for f in record.fields] == ["resolution"]

    run.do(fill(record, {"resolution": "The council pays for the first six weeks"}))

    impasse = run.case.impasse
    assert impasse is not None and impasse.resolved_at == NOW
    assert impasse.resolution == "The council pays for the first six weeks"
    assert not on_behalf(run) and "resolve_impasse" not in asked(run)


@pytest.mark.parametrize("who", [COUNCIL_HANDLER, COUNCIL_CONTRIBUTOR, COUNCIL_MANAGER])
def test_only_the_leads_handlers_record_an_answer_on_an_organisations_behalf(who: Actor) -> None:
    run = disputed()
    with pytest.raises(Forbidden):
        run.do(c.AnswerImpasse(actor=who, org_id=TRUST.id, resolved=False, how=AnswerChannel.PHONE))
    assert run.case.impasse is not None and not run.case.impasse.answers


def test_a_lead_handler_who_is_a_senior_manager_answers_for_their_own_organisation_in_person() -> None:
    both = Actor(id="trust-both", org_id=TRUST.id, roles=frozenset({Role.HANDLER, Role.MANAGER}))
    run = disputed()
    prompts = [p.id for p in next_prompts(run.case, both, NOW)]
    assert "impasse:trust" in prompts and "impasse_answer:trust" not in prompts
    assert "impasse_answer:council" in prompts


def test_every_choice_of_the_impasse_prompts_answered_sensibly_is_accepted() -> None:
    run = disputed()
    run.now = working_day(4)  # past the senior managers' date: step 2 is offered too
    prompts = [
        p for p in next_prompts(run.case, H, run.now) if p.id.startswith(("impasse", "resolve", "partial"))
    ]
    assert [p.id for p in prompts] == [
        "impasse_answer:trust", "impasse_answer:council", "resolve_impasse", "partial_response",
    ]  # fmt: skip
    for choice in (ch for p in prompts for ch in p.choices):
        Run(case=run.case, now=run.now).do(fill(choice, sensible(choice)))


def test_once_step_two_has_gone_no_answer_is_asked_for() -> None:
    run = disputed()
    run.do(
        c.SendPartialResponse(actor=H, answered="a", not_possible="b", why_no_agreement="c"), working_day(4)
    )
    assert not on_behalf(run) and "resolve_impasse" not in asked(run)
    assert not [p for p in asked(run, TRUST_MANAGER) if p.startswith("impasse")]
