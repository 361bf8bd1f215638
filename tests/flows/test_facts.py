"""A case's report facts (`flows.facts`): what the summary keeps so `jointly report` opens no case."""

from __future__ import annotations

import json

from flows import commands as c
from flows.calendar import add_working_days
from flows.facts import CaseFacts, ImpasseFacts, StrandFacts, facts
from flows.model import Case, ClosureReason, Ombudsman, Outcome
from flows.summary import summarise
from tests.flows.builders import (
    COUNCIL,
    COUNCIL_CONTRIBUTOR,
    PERSON,
    TODAY,
    TRUST,
    H,
    Run,
    closed,
    outcomes_recorded,
    responded,
)
from tests.flows.test_codec import closed_after_an_action, coded_then_referred, impasse_to_ombudsman


def read_back(run: Run) -> CaseFacts | None:
    """The facts as the report gets them: through the summary's JSON."""
    return CaseFacts.from_plain(json.loads(json.dumps(summarise(run.case)))["facts"])


def two_actions_one_done() -> Run:
    run = responded()
    run.do(c.AddAction(actor=H, owner_org=COUNCIL.id, description="  Audit the\n referrals ", due=TODAY))
    run.do(c.AddAction(actor=H, owner_org=TRUST.id, description="Not done yet", due=TODAY))
    run.do(c.CompleteAction(actor=COUNCIL_CONTRIBUTOR, action_id="A1", evidence="Audit report"))
    return run


def test_a_case_keeps_its_days_organisations_codes_and_completed_actions() -> None:
    run = outcomes_recorded(two_actions_one_done(), Outcome.UPHELD)
    found = read_back(run)

    assert found == CaseFacts.of(run.case)
    assert found is not None
    target = add_working_days(TODAY, 15)
    assert (found.received, found.final_response, found.acknowledged) == (TODAY, TODAY, None)
    assert (found.closed, found.closure, found.impasse) == (None, None, None)
    assert found.orgs == {TRUST.id: TRUST.name, COUNCIL.id: COUNCIL.name}
    assert found.involved == (TRUST.id, COUNCIL.id)
    assert found.strands == (StrandFacts(TRUST.id, target, TODAY), StrandFacts(COUNCIL.id, target, TODAY))
    assert found.outcomes == {TRUST.id: Outcome.UPHELD, COUNCIL.id: Outcome.UPHELD}
    assert found.coding == run.case.coding
    assert found.actions_done == ((COUNCIL.id, "Audit the referrals"),)  # the open one is not a figure


def test_an_impasse_keeps_its_step_and_days() -> None:
    run = impasse_to_ombudsman()
    found = read_back(run)

    assert found == CaseFacts.of(run.case)
    assert found is not None
    assert found.impasse == ImpasseFacts(raised=TODAY, step=3)
    assert found.partial_response == add_working_days(TODAY, 1)


def test_referrals_are_kept() -> None:
    run = closed()
    run.do(c.RecordOmbudsmanReferral(actor=H, org_id=TRUST.id, ombudsman=Ombudsman.PHSO))
    run.do(c.RecordOmbudsmanReferral(actor=H, org_id=COUNCIL.id, ombudsman=Ombudsman.LGSCO))
    found = read_back(run)

    assert found == CaseFacts.of(run.case)
    assert found is not None
    assert found.referrals == {TRUST.id: (Ombudsman.PHSO,), COUNCIL.id: (Ombudsman.LGSCO,)}
    assert (found.closed, found.closure) == (TODAY, ClosureReason.RESPONDED)


def test_nothing_about_the_person_and_no_free_text_but_the_site_and_completed_actions() -> None:
    run = closed_after_an_action()
    kept = json.dumps(facts(run.case))

    for personal in (PERSON.name, PERSON.email, PERSON.phone, run.case.text, run.case.subject):
        assert personal not in kept
    for free_text in ("Discharge was rushed.", "Dear Jo", "Audit report", "Check packages", "Ward 7"):
        assert free_text not in kept
    assert '"site": "' + TRUST.name in kept and '"Audit"' in kept


def test_a_destroyed_record_or_a_case_not_received_has_no_facts() -> None:
    assert facts(coded_then_referred().case) == {}
    assert facts(Case(ref="JC-260101-AAAA")) == {}
    assert CaseFacts.from_plain({}) is None
