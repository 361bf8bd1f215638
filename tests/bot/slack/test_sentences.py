"""Sentences read against real cases at each stage, with the prompts `flows.next_prompts` puts now.

The organisations are the sample directory's, so sentences use the names and aliases handlers
would type. Each complete suggestion is filled and judged by the real `flows.decide`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.chat.sentences import OrgName, Suggestion, org_names, understand
from bot.config import local_config
from bot.directory import org_ref
from flows import commands as c
from flows.decide import decide
from flows.model import Actor, LeadCriterion, Role
from flows.prompts import fill, next_prompts
from tests.flows.builders import NOW, TODAY, Run, actor, received

CONFIG = local_config(Path("unused"))  # builds the configuration only; nothing is read or written
ORGS = org_names(CONFIG)
TRUST, GP, COUNCIL = (org_ref(CONFIG, o) for o in ("northshire-trust", "riverside-gp", "northshire-council"))
HANDLER = actor(TRUST, Role.HANDLER, "Asha Patel")
GP_CONTRIBUTOR = actor(GP, Role.CONTRIBUTOR, "Sam Price")
SYSTEM = Actor("jointly", TRUST.id, frozenset({Role.SYSTEM}), "jointly")
YEAR_END = date(2026, 12, 20)


def identified() -> Run:
    """Organisations chosen: consent is waiting for the GP and the council."""
    run = received(by=SYSTEM, home=TRUST)
    run.do(c.IdentifyOrganisations(actor=HANDLER, orgs=(TRUST, GP, COUNCIL)))
    return run


def agreeing_lead() -> Run:
    run = identified()
    run.do(fill_first(run, "consent", c.RecordConsent, {}))
    return run


def proposed() -> Run:
    """The trust proposed itself (so agreed); the GP and the council are still to answer."""
    run = agreeing_lead()
    run.do(c.RecordComplainantView(actor=HANDLER, view="No preference given"))
    run.do(c.ProposeLead(actor=HANDLER, org_id=TRUST.id, criteria=(LeadCriterion.GREATEST_RESPONSIBILITY,)))
    return run


def planning() -> Run:
    run = proposed()
    for org in (GP, COUNCIL):
        run.do(c.RespondToLead(actor=HANDLER, org_id=org.id, agrees=True))
    run.do(c.SetNamedContact(actor=HANDLER, name="Asha Patel", email="asha.patel@northshire-trust.example"))
    return run


def fill_first(run: Run, prompt_id: str, kind: type[c.Command], values: dict[str, Any]) -> c.Command:
    prompt = next(p for p in next_prompts(run.case, HANDLER, NOW) if p.id == prompt_id)
    return fill(next(ch for ch in prompt.choices if isinstance(ch.command, kind)), values)


def said(run: Run, text: str, who: Actor = HANDLER, today: date = TODAY) -> Suggestion | None:
    return understand(text, next_prompts(run.case, who, NOW), ORGS, today)


def accepted(
    run: Run, suggestion: Suggestion | None, who: Actor = HANDLER, extra: dict[str, Any] | None = None
) -> c.Command:
    """The command the suggestion fills in, once `decide` has accepted it on the case."""
    assert suggestion is not None
    prompt = next(p for p in next_prompts(run.case, who, NOW) if p.id == suggestion.prompt_id)
    command = fill(prompt.choices[suggestion.choice], {**suggestion.values, **(extra or {})})
    decide(run.case, command, NOW)
    return command


def test_org_names_come_from_the_directory() -> None:
    aliases = ("Riverside Medical", "Riverside surgery", "my GP")
    assert OrgName("riverside-gp", "Riverside Medical Practice", aliases) in ORGS
    assert [o.id for o in ORGS] == [o.id for o in CONFIG.organisations]


# --- consent -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("consent given by phone today", {"method": "phone", "given_on": "2026-11-24"}),
        ("Consent given in writing, yesterday.", {"method": "written", "given_on": "2026-11-23"}),
        ("consent by email on 20 Nov", {"method": "email", "given_on": "2026-11-20"}),
        ("consent by email on 20 November", {"method": "email", "given_on": "2026-11-20"}),
        ("consent by email on 20/11/2026", {"method": "email", "given_on": "2026-11-20"}),
        ("consent by email on 2026-11-20", {"method": "email", "given_on": "2026-11-20"}),
        ("she gave consent in person", {"method": "in_person"}),
        ("Consent given", {}),
    ],
)
def test_consent_given(text: str, values: dict[str, Any]) -> None:
    run = identified()
    suggestion = said(run, text)
    assert suggestion is not None
    assert (suggestion.prompt_id, suggestion.values, suggestion.missing) == ("consent", values, ())
    command = accepted(run, suggestion)
    assert isinstance(command, c.RecordConsent)
    assert command.capacity_confirmed is True
    assert command.org_ids == (GP.id, COUNCIL.id)


def test_consent_wording_says_what_will_be_recorded() -> None:
    suggestion = said(identified(), "consent given by phone today")
    assert suggestion is not None
    assert suggestion.wording == (
        "Consent given by phone on Tuesday 24 November 2026 for Riverside Medical Practice "
        "and Northshire County Council, Adult Social Care"
    )


def test_consent_refused() -> None:
    run = identified()
    suggestion = said(run, "Consent refused.")
    assert suggestion is not None
    assert isinstance(accepted(run, suggestion), c.RecordConsentRefused)
    assert suggestion.wording.startswith("Consent refused for Riverside Medical Practice and ")


@pytest.mark.parametrize(
    "text",
    [
        "consent given by phone today for the council",  # the choice records both waiting, not one
        "consent not given",
        "consent given by phone and email",
        "consent given on 20 Nov or 21 Nov",
        "consent",
    ],
)
def test_consent_sentences_with_two_readings_or_none(text: str) -> None:
    assert said(identified(), text) is None


def test_consent_naming_every_waiting_organisation() -> None:
    suggestion = said(identified(), "consent given for the GP and the council by phone today")
    assert suggestion is not None and suggestion.prompt_id == "consent"


@pytest.mark.parametrize(
    ("text", "given_on"),
    [
        ("consent given on 20 Dec", "2026-12-20"),
        ("consent given on 21 Dec", None),  # not yet: a year ago is a slip, so ask
        ("consent given tomorrow", None),
        ("consent given on 21/12/2026", None),
        ("consent given on 30 Nov", "2026-11-30"),
    ],
)
def test_consent_dates_never_in_the_future(text: str, given_on: str | None) -> None:
    suggestion = said(identified(), text, today=YEAR_END)
    assert (suggestion.values["given_on"] if suggestion else None) == given_on


def test_consent_in_the_new_year_for_december() -> None:
    suggestion = said(identified(), "consent by phone on 20 Dec", today=date(2027, 1, 5))
    assert suggestion is not None and suggestion.values["given_on"] == "2026-12-20"


# --- the lead ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "org_id"),
    [
        ("lead: County Council", COUNCIL.id),
        ("lead is the trust", TRUST.id),
        ("Propose Riverside as lead", GP.id),
        ("the council should lead", COUNCIL.id),
    ],
)
def test_proposing_a_lead_leaves_the_criteria_to_the_form(text: str, org_id: str) -> None:
    run = agreeing_lead()
    suggestion = said(run, text)
    assert suggestion is not None
    assert (suggestion.prompt_id, suggestion.missing) == ("propose_lead", ("criteria",))
    command = accepted(run, suggestion, extra={"criteria": ["greatest_responsibility"]})
    assert isinstance(command, c.ProposeLead) and command.org_id == org_id


@pytest.mark.parametrize(
    "text",
    [
        "propose the council as lead because it arranges the care package",
        "the council should lead: it arranges the care package",
        "Lead is the council, because it arranges the care package.",
    ],
)
def test_proposing_a_lead_with_a_reason(text: str) -> None:
    suggestion = said(agreeing_lead(), text)
    assert suggestion is not None
    assert suggestion.values == {"reason": "it arranges the care package"}
    assert suggestion.wording == (
        "Propose Northshire County Council, Adult Social Care as the lead organisation: "
        "it arranges the care package"
    )


@pytest.mark.parametrize("text", ["lead: the council", "the council agrees", "due 14 Dec for the GP"])
def test_a_sentence_for_a_prompt_not_waiting_is_not_understood(text: str) -> None:
    assert said(identified(), text) is None


@pytest.mark.parametrize("text", ["lead: Meadowbank", "lead: Northshire", "lead: the GP or the council"])
def test_a_lead_that_is_not_one_organisation_involved(text: str) -> None:
    assert said(agreeing_lead(), text) is None


def test_the_council_agrees() -> None:
    run = proposed()
    suggestion = said(run, "The council agrees.")
    assert suggestion is not None
    assert (suggestion.prompt_id, suggestion.values, suggestion.missing) == (
        f"lead_answer:{COUNCIL.id}",
        {},
        (),
    )
    assert accepted(run, suggestion) == c.RespondToLead(actor=HANDLER, org_id=COUNCIL.id, agrees=True)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("the GP objects because the practice never saw him", "the practice never saw him"),
        ("Riverside objects: the ward discharged him", "the ward discharged him"),
        ("the GP does not agree because the trust discharged him", "the trust discharged him"),
    ],
)
def test_the_gp_objects(text: str, reason: str) -> None:
    run = proposed()
    suggestion = said(run, text)
    assert suggestion is not None
    assert (suggestion.prompt_id, suggestion.values) == (f"lead_answer:{GP.id}", {"reason": reason})
    command = accepted(run, suggestion)
    assert command == c.RespondToLead(actor=HANDLER, org_id=GP.id, agrees=False, reason=reason)
    assert suggestion.wording == f"Riverside Medical Practice objects to the proposed lead: {reason}"


def test_an_objection_without_a_reason_opens_the_form() -> None:
    suggestion = said(proposed(), "the GP objects")
    assert suggestion is not None
    assert (suggestion.values, suggestion.missing) == ({}, ("reason",))


def test_an_answer_from_an_organisation_already_answered_or_unnamed() -> None:
    run = proposed()
    assert said(run, "Northshire Trust agrees") is None  # it proposed itself, so it has agreed
    assert said(run, "we agree") is None  # the GP and the council are both waiting
    assert said(run, "Northshire agrees") is None  # the trust or the council


def test_a_contributor_answers_for_their_own_organisation_only() -> None:
    run = proposed()
    suggestion = said(run, "We agree", who=GP_CONTRIBUTOR)
    assert suggestion is not None and suggestion.prompt_id == f"lead_answer:{GP.id}"
    assert accepted(run, suggestion, who=GP_CONTRIBUTOR) == c.RespondToLead(
        actor=GP_CONTRIBUTOR, org_id=GP.id, agrees=True
    )
    assert said(run, "the council agrees", who=GP_CONTRIBUTOR) is None


# --- target dates --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "org_id", "target"),
    [
        ("due 12 Dec for the GP", GP.id, "2026-12-12"),
        ("GP by 12 December", GP.id, "2026-12-12"),
        ("the council by 1/12", COUNCIL.id, "2026-12-01"),
        ("target for the hospital: 2026-12-07", TRUST.id, "2026-12-07"),
    ],
)
def test_a_target_date_suggests_a_strand(text: str, org_id: str, target: str) -> None:
    suggestion = said(planning(), text)
    assert suggestion is not None
    assert (suggestion.prompt_id, suggestion.values, suggestion.missing) == (
        "plan",
        {"org_id": org_id, "target": target},
        ("matters",),
    )


def test_a_strand_from_a_sentence_is_accepted_once_its_matters_are_given() -> None:
    run = planning()
    suggestion = said(run, "GP by 14 December")
    assert suggestion is not None
    wording = "A strand for Riverside Medical Practice, with a target date of Monday 14 December 2026"
    assert suggestion.wording == wording
    command = accepted(run, suggestion, extra={"matters": "The GP's follow-up after discharge"})
    assert command == c.AddStrand(
        actor=HANDLER, org_id=GP.id, matters="The GP's follow-up after discharge", target=date(2026, 12, 14)
    )


@pytest.mark.parametrize(
    ("text", "target"),
    [
        ("due 12 Jan for the council", "2027-01-12"),
        ("due today for the council", "2026-12-20"),
        ("due 21 Dec for the council", "2026-12-21"),
        ("due 12 Dec for the council", None),  # next December is a slip, not a plan: ask
        ("due 30 Feb for the council", None),
    ],
)
def test_target_dates_around_the_year_end(text: str, target: str | None) -> None:
    suggestion = said(planning(), text, today=YEAR_END)
    assert (suggestion.values["target"] if suggestion else None) == target


def test_a_target_in_the_new_year_is_accepted() -> None:
    run = planning()
    suggestion = said(run, "due 12 Jan for the council", today=YEAR_END)
    later = datetime(2026, 12, 21, 10, tzinfo=UTC)
    assert suggestion is not None
    prompt = next(p for p in next_prompts(run.case, HANDLER, later) if p.id == "plan")
    command = fill(prompt.choices[suggestion.choice], {**suggestion.values, "matters": "The care package"})
    decide(run.case, command, later)


@pytest.mark.parametrize(
    "text",
    [
        "due 14 Dec for Meadowbank",  # not involved in this case
        "due 14 Dec for the GP and the council",
        "due 14 Dec or 15 Dec for the GP",
        "due for the GP",
        "14 Dec for the GP",
    ],
)
def test_targets_that_cannot_be_read_one_way(text: str) -> None:
    assert said(planning(), text) is None


# --- help and everything else --------------------------------------------------------------------


@pytest.mark.parametrize("text", ["help", "Help!", "?", "", "what now", "did the council agree?", "thanks"])
def test_help_and_unknown_sentences(text: str) -> None:
    for run in (identified(), agreeing_lead(), proposed(), planning()):
        assert said(run, text) is None


def test_nothing_is_understood_when_nothing_is_waiting() -> None:
    assert understand("consent given by phone today", [], ORGS, TODAY) is None
