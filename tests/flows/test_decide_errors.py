"""Refusals: a move from the wrong status, the wrong person, and moves the diagram does not know."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from flows import commands as c
from flows.calendar import add_working_days
from flows.errors import DomainError, Forbidden, InvalidCommand, NotAllowedNow
from flows.model import Actor, LeadCriterion, OrgRef, Outcome, Status
from tests.flows.builders import (
    COUNCIL,
    COUNCIL_CONTRIBUTOR,
    COUNCIL_HANDLER,
    COUNCIL_MANAGER,
    ICB,
    ICB_CONTRIBUTOR,
    NOW,
    PERSON,
    SYSTEM,
    TODAY,
    TRUST,
    TRUST_CONTRIBUTOR,
    H,
    Run,
    agreeing_lead,
    closed,
    consent,
    drafting,
    investigating,
    naming_contact,
    planning,
    received,
    responded,
    working_day,
)


@pytest.mark.parametrize(
    ("stage", "command", "words"),
    [
        (
            received,
            c.ProposeLead(actor=H, org_id=TRUST.id, criteria=()),
            "propose lead while the case is received",
        ),
        (
            agreeing_lead,
            c.CloseCase(actor=H, outcome=Outcome.UPHELD),
            "close case while the case is agreeing lead",
        ),
        (planning, c.RecordDraft(actor=H, text="x"), "record draft while the case is planning"),
        (responded, c.AddStrand(actor=H, org_id=TRUST.id, matters="x", target=TODAY), "is responded"),
        (closed, c.WithdrawComplaint(actor=H), "withdraw complaint while the case is closed"),
    ],
)
def test_a_move_from_the_wrong_status_names_the_status(
    stage: Callable[[], Run], command: c.Command, words: str
) -> None:
    run = stage()
    with pytest.raises(NotAllowedNow) as caught:
        run.do(command)
    assert words in caught.value.message
    assert caught.value.context["status"] is run.case.status
    assert caught.value.context["command"] == type(command).__name__


def test_a_complaint_is_received_once() -> None:
    run = received()
    with pytest.raises(NotAllowedNow, match="already been received"):
        run.do(
            c.ReceiveComplaint(
                actor=SYSTEM,
                channel=run.case.channel,
                received_at=NOW,
                complainant=PERSON,
                home_org=TRUST,
            )
        )


COORDINATOR_MOVES: list[tuple[Callable[[], Run], Callable[[Actor], c.Command]]] = [
    (received, lambda a: c.IdentifyOrganisations(actor=a, orgs=(TRUST, COUNCIL))),
    (
        agreeing_lead,
        lambda a: c.ProposeLead(actor=a, org_id=COUNCIL.id, criteria=(LeadCriterion.MOST_RESOURCE,)),
    ),
    (naming_contact, lambda a: c.SetNamedContact(actor=a, name="Sam", email="sam@example.org")),
    (planning, lambda a: c.AddStrand(actor=a, org_id=COUNCIL.id, matters="x", target=date(2026, 12, 15))),
    (investigating, lambda a: c.RecordDraft(actor=a, text="x")),
    (drafting, lambda a: c.ShareDraftWithComplainant(actor=a)),
    (responded, lambda a: c.CloseCase(actor=a, outcome=Outcome.UPHELD)),
]


@pytest.mark.parametrize(("stage", "move"), COORDINATOR_MOVES)
@pytest.mark.parametrize("who", [COUNCIL_CONTRIBUTOR, COUNCIL_HANDLER, TRUST_CONTRIBUTOR, ICB_CONTRIBUTOR])
def test_only_a_handler_of_the_coordinating_organisation_runs_the_case(
    stage: Callable[[], Run], move: Callable[[Actor], c.Command], who: Actor
) -> None:
    run = stage()
    version = run.case.version
    with pytest.raises(Forbidden) as caught:
        run.do(move(who))
    assert caught.value.context["actor"] == who.id and run.case.version == version


def test_a_handler_of_another_organisation_is_told_who_coordinates() -> None:
    with pytest.raises(Forbidden, match=f"only {TRUST.name} coordinates"):
        naming_contact().do(c.SetNamedContact(actor=COUNCIL_HANDLER, name="Sam", email="s@example.org"))


def test_once_the_council_leads_the_trust_no_longer_coordinates() -> None:
    run = agreeing_lead()
    run.do(c.RecordComplainantView(actor=H, view="No preference given"))
    run.do(c.ProposeLead(actor=H, org_id=COUNCIL.id, criteria=(LeadCriterion.BEST_RELATIONSHIP,)))
    run.do(c.RespondToLead(actor=COUNCIL_CONTRIBUTOR, org_id=COUNCIL.id, agrees=True))
    assert run.case.coordinator == COUNCIL.id
    with pytest.raises(Forbidden):
        run.do(c.SetNamedContact(actor=H, name="Alex", email="alex@example.org"))
    run.do(c.SetNamedContact(actor=COUNCIL_HANDLER, name="Sam", email="sam@example.org"))
    assert run.case.status is Status.PLANNING


def test_an_organisation_answers_for_its_own_strand_and_action_only() -> None:
    run = investigating()
    with pytest.raises(Forbidden):
        run.do(c.RecordContribution(actor=COUNCIL_CONTRIBUTOR, strand_id="S1", summary="not ours"))
    with pytest.raises(InvalidCommand, match="no strand"):
        run.do(c.RecordContribution(actor=COUNCIL_CONTRIBUTOR, strand_id="S9", summary="x"))
    run = responded()
    run.do(c.AddAction(actor=H, owner_org=TRUST.id, description="Retrain", due=date(2027, 1, 29)))
    with pytest.raises(Forbidden):
        run.do(c.CompleteAction(actor=COUNCIL_CONTRIBUTOR, action_id="A1", evidence="done"))
    with pytest.raises(InvalidCommand, match="evidence"):
        run.do(c.CompleteAction(actor=TRUST_CONTRIBUTOR, action_id="A1", evidence=" "))


def test_an_uninvolved_organisation_cannot_answer_for_itself() -> None:
    run = agreeing_lead()
    run.do(c.RecordComplainantView(actor=H, view="No preference given"))
    run.do(c.ProposeLead(actor=H, org_id=TRUST.id, criteria=(LeadCriterion.MOST_RESOURCE,)))
    with pytest.raises(InvalidCommand, match="not involved"):
        run.do(c.RespondToLead(actor=ICB_CONTRIBUTOR, org_id=ICB.id, agrees=True))


def test_a_senior_manager_of_an_involved_organisation_may_resolve_an_impasse() -> None:
    run = planning()
    run.do(c.RaiseImpasse(actor=H, matter="Remedy", reason="Disagree", resolve_by=add_working_days(TODAY, 3)))
    with pytest.raises(Forbidden):
        run.do(c.ResolveImpasse(actor=COUNCIL_CONTRIBUTOR, resolution="Agreed"))
    run.do(c.ResolveImpasse(actor=COUNCIL_MANAGER, resolution="Council pays"))
    assert run.case.impasse is not None and run.case.impasse.resolution == "Council pays"


def test_every_refusal_is_a_domain_error_and_changes_nothing() -> None:
    run = received()
    before = run.case
    for command in (
        c.CloseCase(actor=H, outcome=Outcome.UPHELD),
        c.IdentifyOrganisations(actor=COUNCIL_CONTRIBUTOR, orgs=(TRUST,)),
        c.IdentifyOrganisations(actor=H, orgs=(TRUST, TRUST)),
    ):
        with pytest.raises(DomainError):
            run.do(command, now=NOW)
    assert run.case is before


# --- changes late in the process -----------------------------------------------------------------
# These once failed: the moves were allowed but their status changes were not edges, and dropping an
# organisation the case depends on crashed later commands with KeyError.


def test_partial_response_while_naming_the_contact_is_an_edge() -> None:
    run = received()
    run.do(c.IdentifyOrganisations(actor=H, orgs=(TRUST,)))
    run.do(c.RaiseImpasse(actor=H, matter="Remedy", reason="x", resolve_by=add_working_days(TODAY, 2)))
    partial = c.SendPartialResponse(actor=H, answered="a", not_possible="b", why_no_agreement="c")
    run.do(partial, working_day(3))
    assert run.case.status is Status.RESPONDED


def test_adding_an_organisation_while_investigating_returns_to_planning_until_it_agrees() -> None:
    run = investigating()
    run.do(c.IdentifyOrganisations(actor=H, orgs=(TRUST, COUNCIL, ICB)))
    assert run.case.status is Status.PLANNING and not run.case.consent_active(ICB.id)
    run.do(consent((ICB.id,)))
    run.do(c.AgreePlan(actor=ICB_CONTRIBUTOR, org_id=ICB.id))
    assert run.case.status is Status.INVESTIGATING


def council_leads() -> Run:
    run = agreeing_lead()
    run.do(c.RecordComplainantView(actor=H, view="No preference given"))
    run.do(c.ProposeLead(actor=H, org_id=COUNCIL.id, criteria=(LeadCriterion.BEST_RELATIONSHIP,)))
    run.do(c.RespondToLead(actor=COUNCIL_CONTRIBUTOR, org_id=COUNCIL.id, agrees=True))
    return run


def icb_owns_an_action() -> Run:
    run = drafting()
    run.do(c.IdentifyOrganisations(actor=H, orgs=(TRUST, COUNCIL, ICB)))
    run.do(c.AddAction(actor=H, owner_org=ICB.id, description="Review commissioning", due=date(2027, 1, 29)))
    return run


@pytest.mark.parametrize(
    ("stage", "who", "kept", "dropped"),
    [
        (council_leads, COUNCIL_HANDLER, (TRUST,), [COUNCIL.id]),  # the lead
        (investigating, H, (TRUST,), [COUNCIL.id]),  # owns strand S2
        (investigating, H, (COUNCIL,), [TRUST.id]),  # the lead, and owns strand S1
        (icb_owns_an_action, H, (TRUST, COUNCIL), [ICB.id]),
    ],
)
def test_an_organisation_the_case_depends_on_cannot_be_dropped(
    stage: Callable[[], Run], who: Actor, kept: tuple[OrgRef, ...], dropped: list[str]
) -> None:
    run = stage()
    before = run.case
    with pytest.raises(InvalidCommand, match="so they stay") as caught:
        run.do(c.IdentifyOrganisations(actor=who, orgs=kept))
    assert caught.value.context["org_ids"] == dropped and run.case is before


def test_an_organisation_named_by_mistake_may_be_dropped_before_the_lead() -> None:
    run = agreeing_lead((TRUST, COUNCIL, ICB))
    run.do(c.IdentifyOrganisations(actor=H, orgs=(TRUST, COUNCIL)))
    assert run.case.involved == (TRUST.id, COUNCIL.id) and run.case.status is Status.AGREEING_LEAD
