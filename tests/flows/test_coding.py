"""The record the law keeps: the case is coded for KO41a before it closes, with defaults guessed from
the case, and an Ombudsman referral is recorded, even after closure, once per Ombudsman."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from flows import commands as c
from flows.asks_records import guessed_services, guessed_status
from flows.codec import to_plain
from flows.conversation import Choice, Prompt, fill
from flows.errors import Forbidden, InvalidCommand
from flows.model import (
    Coding,
    ConsentMethod,
    Ombudsman,
    Outcome,
    Representative,
    RepresentativeBasis,
    Status,
)
from flows.prompts import next_prompts
from tests.flows.builders import (
    COUNCIL,
    COUNCIL_HANDLER,
    ICB,
    NOW,
    TODAY,
    TRUST,
    H,
    Run,
    agreeing_lead,
    closed,
    coding,
    outcomes_recorded,
    received,
    responded,
)


def asked(run: Run) -> dict[str, Prompt]:
    return {p.id: p for p in next_prompts(run.case, H, NOW)}


def offered(choice: Choice, **values: Any) -> c.Command:
    """The choice as a person takes it: the defaults as offered, with `values` given as plain values."""
    answers = {f.name: to_plain(f.default) for f in choice.fields if f.default is not None}
    return fill(choice, answers | values)


def uncoded() -> Run:
    """Responded, each outcome recorded, not yet coded."""
    return outcomes_recorded(responded(), coded=False)


def test_coding_is_asked_once_each_outcome_is_in_and_before_closing() -> None:
    run = responded()
    run.do(c.RecordOutcome(actor=H, org_id=TRUST.id, outcome=Outcome.UPHELD))
    assert [p.id for p in next_prompts(run.case, H, NOW)] == ["outcome:council"]

    run.do(c.RecordOutcome(actor=H, org_id=COUNCIL.id, outcome=Outcome.NOT_UPHELD))
    assert [p.id for p in next_prompts(run.case, H, NOW)] == ["coding"]
    assert next_prompts(run.case, COUNCIL_HANDLER, NOW) == []  # the coordinating handler codes

    run.do(coding())
    assert [p.id for p in next_prompts(run.case, H, NOW)] == ["close"]


def test_the_coding_question_is_one_form_with_plain_labels() -> None:
    prompt = asked(uncoded())["coding"]
    (choice,) = prompt.choices
    assert prompt.question == "How should this complaint be counted in the complaints returns?"
    assert "KO41a" in prompt.detail and choice.label == "Record the coding"
    assert [(f.name, f.label) for f in choice.fields] == [
        ("subjects", "What it is about (every subject it touches)"),
        ("service_areas", "Services complained about"),
        ("professions", "Staff groups complained about"),
        ("age_band", "Age of the patient or service user"),
        ("complainant_status", "Who complained"),
        ("site", "Site (hospital, practice or service)"),
    ]


def test_defaults_are_guessed_from_the_organisations_and_the_consent() -> None:
    (choice,) = asked(uncoded())["coding"].choices
    defaults = {f.name: f.default for f in choice.fields}
    assert defaults == {
        "subjects": None,  # the handler's judgement: nothing is chosen for them
        "service_areas": ("acute", "social_care"),  # a trust and a council
        "professions": None,
        "age_band": "unknown",
        "complainant_status": "patient",  # no representative on the consent
        "site": TRUST.name,  # the coordinating organisation
    }
    assert [f.name for f in choice.fields if not f.required] == ["site"]


def test_an_icb_suggests_no_service_and_a_representative_makes_it_on_their_behalf() -> None:
    assert guessed_services(agreeing_lead((TRUST, COUNCIL, ICB)).case) == ("acute", "social_care")
    assert guessed_services(agreeing_lead((ICB,)).case) == ()

    run = received()
    run.do(c.IdentifyOrganisations(actor=H, orgs=(TRUST, COUNCIL)))
    assert guessed_status(run.case) == "patient"
    son = Representative(name="Kit", relationship="son", basis=RepresentativeBasis.LASTING_POWER_OF_ATTORNEY)
    run.do(
        c.RecordConsent(
            actor=H, org_ids=(COUNCIL.id,), method=ConsentMethod.WRITTEN, given_on=TODAY,
            capacity_confirmed=False, representative=son,
        )
    )  # fmt: skip
    assert guessed_status(run.case) == "on_behalf"


def test_the_form_answered_with_plain_values_codes_the_case() -> None:
    run = uncoded()
    (choice,) = asked(run)["coding"].choices
    command = offered(
        choice, subjects=["clinical/diagnosis", "communication", "communication"], professions=["medical"]
    )
    run.do(command)

    assert run.case.coding == Coding(
        service_areas=("acute", "social_care"),
        subjects=("clinical/diagnosis", "communication"),  # a subject counts once
        professions=("medical",),
        age_band="unknown",
        complainant_status="patient",
        site=TRUST.name,
    )
    assert "coding" not in asked(run)


@pytest.mark.parametrize(
    ("values", "message", "field"),
    [
        ({"subjects": ["clinical", "waiting"]}, "not in the subject area list: clinical", "subject area"),
        ({"subjects": []}, "choose at least one subject area from the list", "subject area"),
        ({"service_areas": []}, "choose at least one service area", "service area"),
        ({"professions": ["surgeon"]}, "not in the profession list: surgeon", "profession"),
        (
            {"complainant_status": "friend"},
            "not in the complainant status list: friend",
            "complainant status",
        ),
    ],
)
def test_unknown_codes_and_empty_lists_are_refused_clearly(
    values: dict[str, Any], message: str, field: str
) -> None:
    run = uncoded()
    (choice,) = asked(run)["coding"].choices
    answers = {"subjects": ["waiting"], "professions": ["admin"]} | values
    version = run.case.version
    with pytest.raises(InvalidCommand, match=message) as caught:
        run.do(offered(choice, **answers))
    assert caught.value.context["field"] == field and run.case.version == version


def test_closure_is_refused_until_the_case_is_coded() -> None:
    run = uncoded()
    close = c.CloseCase(actor=H, outcome=Outcome.PARTLY_UPHELD)
    with pytest.raises(InvalidCommand, match=r"record how the complaint is coded \(KO41a\) first"):
        run.do(close)
    assert "close" not in asked(run)

    run.do(coding())
    run.do(close)
    assert run.case.status is Status.CLOSED and run.case.coding is not None


def test_a_closed_case_can_be_recoded_by_the_coordinator_only() -> None:
    run = closed()
    with pytest.raises(Forbidden):
        run.do(coding(by=COUNCIL_HANDLER))
    run.do(c.CodeCase(
        actor=H, service_areas=("acute",), subjects=("admissions",), professions=("nursing",),
        age_band="85+", complainant_status="on_behalf",
    ))  # fmt: skip
    assert run.case.coding is not None and run.case.coding.service_areas == ("acute",)
    assert run.case.status is Status.CLOSED


def test_a_referral_is_recorded_on_a_closed_case_and_kept_once_per_ombudsman() -> None:
    run = closed()
    assert run.case.referrals == {}
    refer = c.RecordOmbudsmanReferral(actor=H, org_id=COUNCIL.id, ombudsman=Ombudsman.LGSCO)
    run.do(refer)
    run.do(refer, now=NOW + timedelta(days=1))  # told twice: still one referral
    run.do(c.RecordOmbudsmanReferral(actor=H, org_id=TRUST.id, ombudsman=Ombudsman.PHSO))

    assert run.case.referrals == {COUNCIL.id: (Ombudsman.LGSCO,), TRUST.id: (Ombudsman.PHSO,)}
    assert run.case.status is Status.CLOSED and run.case.closed_at is not None


def test_a_referral_names_an_organisation_involved() -> None:
    run = closed()
    with pytest.raises(InvalidCommand, match=f"not involved in this case: {ICB.id}"):
        run.do(c.RecordOmbudsmanReferral(actor=H, org_id=ICB.id, ombudsman=Ombudsman.PHSO))
    assert run.case.referrals == {}
