"""Consent organisation by organisation, a representative acting for the person, withdrawal and
consent arriving later, each reached from the conversation (the questions and the case's menu)."""

from __future__ import annotations

from typing import Any

import pytest

from flows import commands as c
from flows import events as ev
from flows.effects import Notify, RecipientKind
from flows.errors import InvalidCommand
from flows.model import ConsentMethod, ConsentState, LeadCriterion, RepresentativeBasis, Status
from flows.prompts import Prompt, answerable, case_menu, fill, next_prompts
from mail.letters import render_letter
from tests.flows.builders import (
    COUNCIL,
    COUNCIL_HANDLER,
    ICB,
    TODAY,
    TRUST,
    H,
    Run,
    letters,
    only,
    received,
)


def three_orgs() -> Run:
    run = received()
    run.do(c.IdentifyOrganisations(actor=H, orgs=(TRUST, COUNCIL, ICB)))
    return run


def pick(prompts: list[Prompt], prompt_id: str, label: str, run: Run, **values: Any) -> c.Command:
    found = {p.id: p for p in prompts}
    assert prompt_id in found, f"no {prompt_id!r} prompt, only {list(found)}"
    choice = next(ch for ch in found[prompt_id].choices if ch.label.startswith(label))
    return fill(choice, values)


def ask(run: Run, prompt_id: str, label: str, **values: Any) -> None:
    run.do(pick(next_prompts(run.case, H, run.now), prompt_id, label, run, **values))


def menu(run: Run, label: str, **values: Any) -> None:
    run.do(pick(case_menu(run.case, H, run.now), "anytime", label, run, **values))


def state(run: Run, org_id: str) -> ConsentState | None:
    consent = run.case.consents.get(org_id)
    return consent.state if consent else None


def test_yes_for_one_organisation_and_no_for_another_is_one_answer() -> None:
    run = three_orgs()
    ask(
        run,
        "consent",
        "Given for some",
        org_ids=[COUNCIL.id],
        refused=[ICB.id],
        method="email",
        given_on=TODAY.isoformat(),
        capacity_confirmed=True,
    )
    assert (state(run, COUNCIL.id), state(run, ICB.id)) == (ConsentState.GIVEN, ConsentState.REFUSED)
    assert len(run.decisions[-1].events) == 2  # one decision, both facts
    # the refused one is signposted, then the lead is agreed between those that consented
    ask(run, "signpost", "Send the signposting letter")
    assert run.case.involved == (TRUST.id, COUNCIL.id) and run.case.status is Status.AGREEING_LEAD


def test_the_refusing_organisation_is_sent_nothing_while_the_others_carry_on() -> None:
    run = three_orgs()
    run.do(c.RecordConsent(**_given(org_ids=(COUNCIL.id,), refused=(ICB.id,))))
    run.do(c.Signpost(actor=H, org_ids=(ICB.id,)))
    run.do(c.ProposeLead(actor=H, org_id=TRUST.id, criteria=(LeadCriterion.GREATEST_RESPONSIBILITY,)))
    sent_to = {
        e.to.org_id for e in run.effects if hasattr(e, "to") and e.to.kind is RecipientKind.ORGANISATION
    }
    assert sent_to == {COUNCIL.id}
    assert not [e for e in run.events if isinstance(e, ev.DisclosureMade) and e.org_id == ICB.id]


def test_the_same_organisation_cannot_be_both_given_and_refused() -> None:
    run = three_orgs()
    with pytest.raises(InvalidCommand, match="both given and refused"):
        run.do(c.RecordConsent(**_given(org_ids=(COUNCIL.id,), refused=(COUNCIL.id,))))


def test_consent_arriving_later_for_one_organisation_is_recorded_from_the_menu() -> None:
    run = three_orgs()
    run.do(c.RecordConsent(**_given(org_ids=(COUNCIL.id,))))
    assert run.case.status is Status.AWAITING_CONSENT
    menu(run, "Record consent given", org_ids=[ICB.id], method="phone", given_on=TODAY.isoformat())
    assert state(run, ICB.id) is ConsentState.GIVEN and run.case.status is Status.AGREEING_LEAD


def test_a_refusal_can_be_overtaken_by_consent_given_later() -> None:
    run = three_orgs()
    run.do(c.RecordConsent(**_given(org_ids=(COUNCIL.id,), refused=(ICB.id,))))
    menu(run, "Record consent given", org_ids=[ICB.id], method="written", given_on=TODAY.isoformat())
    assert state(run, ICB.id) is ConsentState.GIVEN
    assert "signpost" not in {p.id for p in next_prompts(run.case, H, run.now)}


def test_withdrawal_from_the_menu_tells_the_person_and_the_lead_and_stops_everything() -> None:
    run = three_orgs()
    run.do(c.RecordConsent(**_given(org_ids=(COUNCIL.id, ICB.id))))
    menu(run, "The person withdrew consent", org_ids=[ICB.id], note="Phoned on Tuesday")
    decision = run.decisions[-1]
    assert state(run, ICB.id) is ConsentState.WITHDRAWN
    letter = only(letters(decision, "consent_withdrawn"))
    assert letter.to.kind is RecipientKind.COMPLAINANT
    text = render_letter("consent_withdrawn", letter.context).text
    assert "no longer want us to share your complaint with North Vale Integrated Care Board" in text
    assert "complaints@northvale.example.nhs.uk" in text and "Tuesday 24 November 2026" in text
    (notice,) = [e for e in decision.effects if isinstance(e, Notify)]
    assert notice.audience == "handlers" and notice.message == "consent_withdrawn"
    # nothing more reaches it; the handler may signpost the person to it, and the others carry on
    assert run.case.status is Status.AWAITING_CONSENT
    ask(run, "signpost", "Send the signposting letter")
    run.do(c.ProposeLead(actor=H, org_id=TRUST.id, criteria=(LeadCriterion.GREATEST_RESPONSIBILITY,)))
    assert {e.to.org_id for e in letters(run.decisions[-1])} == {COUNCIL.id}


def test_withdrawal_needs_consent_on_record() -> None:
    run = three_orgs()
    with pytest.raises(InvalidCommand, match="no consent on record"):
        run.do(c.WithdrawConsent(actor=H, org_ids=(ICB.id,)))


def test_a_representative_with_lasting_power_of_attorney_is_recorded_and_the_letters_follow() -> None:
    run = three_orgs()
    ask(
        run,
        "consent",
        "Someone acts for the person",
        name="",  # the one who complained
        relationship="daughter",
        basis="lasting_power_of_attorney",
        acts_for="Edith Example",
        evidence="LPA registered 2024, copy on file",
        capacity_note="",
        email="",
    )
    rep = run.case.representative
    assert rep is not None and rep.name == "Jo Example"  # who wrote in, as the name was left empty
    assert (rep.basis, rep.acts_for) == (
        RepresentativeBasis.LASTING_POWER_OF_ATTORNEY,
        "Edith Example",
    )
    # the representative consents: the person need not be shown to have capacity
    ask(
        run,
        "consent",
        "Consent given",
        method="written",
        given_on=TODAY.isoformat(),
        capacity_confirmed=False,
    )
    assert run.case.consents[COUNCIL.id].representative == rep
    menu(run, "The person withdrew consent", org_ids=[ICB.id], note="")
    text = render_letter(
        "consent_withdrawn", only(letters(run.decisions[-1], "consent_withdrawn")).context
    ).text
    assert "Dear Jo Example," in text and "on behalf of Edith Example" in text


def test_a_representative_with_their_own_address_gets_the_letters() -> None:
    run = three_orgs()
    run.do(
        c.RecordRepresentative(
            actor=H,
            name="Kit Example",
            relationship="son",
            basis=RepresentativeBasis.DEPUTYSHIP,
            acts_for="Jo Example",
            evidence="Court of Protection order 12345",
            email="kit@example.org",
        )
    )
    run.do(c.RequestConsent(actor=H, org_ids=(COUNCIL.id,)))
    letter = only(letters(run.decisions[-1], "consent_request"))
    assert (letter.to.address, letter.to.name) == ("kit@example.org", "Kit Example")
    assert letter.context["complainant_name"] == "Kit Example"
    assert letter.context["on_behalf_of"] == "Jo Example"


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"relationship": ""}, "relationship"),
        ({"acts_for": ""}, "person they act for"),
        ({"basis": RepresentativeBasis.WRITTEN_CONSENT, "evidence": ""}, "written consent"),
        ({"basis": RepresentativeBasis.BEST_INTERESTS, "capacity_note": ""}, "cannot consent"),
        ({"email": "not an address"}, "not an email address"),
    ],
)
def test_a_representative_needs_who_how_related_and_on_what_authority(
    change: dict[str, Any], words: str
) -> None:
    run = three_orgs()
    fields: dict[str, Any] = dict(
        name="Kit", relationship="son", basis=RepresentativeBasis.LASTING_POWER_OF_ATTORNEY, acts_for="Jo"
    )
    with pytest.raises(InvalidCommand, match=words):
        run.do(c.RecordRepresentative(actor=H, **{**fields, **change}))


def test_acting_in_best_interests_records_the_handlers_note_on_capacity() -> None:
    run = three_orgs()
    note = "Advanced dementia; assessed by the ward team on 20 November"
    run.do(
        c.RecordRepresentative(
            actor=H, name="Kit", relationship="son", basis=RepresentativeBasis.BEST_INTERESTS, acts_for="Jo",
            capacity_note=note,
        )
    )  # fmt: skip
    assert run.case.representative is not None and run.case.representative.capacity_note == note


def test_the_menu_offers_an_impasse_at_any_time_once_the_lead_is_being_agreed() -> None:
    run = three_orgs()
    labels = [ch.label for p in case_menu(run.case, H, run.now) for ch in p.choices]
    assert "Raise an impasse" not in labels  # nobody else may be told anything yet
    run.do(c.RecordConsent(**_given(org_ids=(COUNCIL.id, ICB.id))))
    menu(run, "Raise an impasse", matter="the remedy is disputed", reason="Each says the other arranged it",
         resolve_by="2026-12-08")  # fmt: skip
    assert run.case.impasse is not None and run.case.impasse.matter == "the remedy is disputed"


def test_the_menu_is_for_the_coordinating_handler_and_is_answerable() -> None:
    run = three_orgs()
    assert case_menu(run.case, COUNCIL_HANDLER, run.now) == []
    assert [p.id for p in answerable(run.case, H, run.now)][-1] == "anytime"
    assert "anytime" not in {p.id for p in next_prompts(run.case, H, run.now)}


def _given(**change: Any) -> dict[str, Any]:
    return dict(actor=H, method=ConsentMethod.PHONE, given_on=TODAY, capacity_confirmed=True, **change)
