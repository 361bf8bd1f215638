"""The case summary kept in the store's index, and the guards added after the first review."""

from __future__ import annotations

from datetime import date

import pytest

from flows import commands as c
from flows.calendar import acknowledgement_due, add_working_days, six_month_point
from flows.codec import event_from_plain
from flows.effects import Notify
from flows.errors import InvalidCommand
from flows.prompts import next_prompts
from flows.summary import summarise
from tests.flows.builders import (
    COUNCIL,
    COUNCIL_CONTRIBUTOR,
    NOW,
    TODAY,
    TRUST,
    H,
    investigating,
    naming_contact,
    outcomes_recorded,
    planning,
    received,
    responded,
)


def test_a_new_case_is_due_its_acknowledgement_then_its_six_month_point() -> None:
    summary = summarise(received().case)
    assert summary["status"] == "received" and summary["open"] is True
    assert summary["acknowledgement_due"] == acknowledgement_due(NOW).isoformat()
    assert summary["next_deadline"] == {"on": acknowledgement_due(NOW).isoformat(), "what": "acknowledgement"}
    assert summary["deadlines"][-1] == {"on": six_month_point(TODAY).isoformat(), "what": "six-month point"}


def test_strand_targets_are_deadlines_until_their_contribution_arrives() -> None:
    run = investigating()
    target = add_working_days(TODAY, 15).isoformat()
    whats = [d["what"] for d in summarise(run.case)["deadlines"] if d["on"] == target]
    assert sorted(whats) == sorted([f"{TRUST.name} response (S1)", f"{COUNCIL.name} response (S2)"])
    run.do(c.RecordContribution(actor=COUNCIL_CONTRIBUTOR, strand_id="S2", summary="Referral was lost."))
    whats = [d["what"] for d in summarise(run.case)["deadlines"] if d["on"] == target]
    assert len(whats) == 1 and "(S1)" in whats[0]


def test_the_summary_names_organisations_and_lead_but_never_the_complainant() -> None:
    summary = summarise(planning().case)
    assert summary["lead"] == TRUST.name and set(summary["organisations"]) == {TRUST.name, COUNCIL.name}
    assert "Jo Example" not in str(summary) and "jo@example.org" not in str(summary)


def test_a_closed_case_has_no_deadlines() -> None:
    run = outcomes_recorded(responded())
    run.do(c.CloseCase(actor=H, outcome="upheld"))  # type: ignore[arg-type]
    summary = summarise(run.case)
    assert summary["open"] is False and summary["deadlines"] == [] and summary["next_deadline"] is None


def test_open_actions_are_asked_for_before_closing() -> None:
    run = responded()
    run.do(c.AddAction(actor=H, owner_org=COUNCIL.id, description="Review referrals", due=date(2027, 1, 8)))
    assert [p.id for p in next_prompts(run.case, H, NOW)] == ["add_action", "learning", "action:A1"]
    run.do(c.CompleteAction(actor=COUNCIL_CONTRIBUTOR, action_id="A1", evidence="Audit report"))
    run.do(c.RecordLearning(actor=H, text="Referrals are now checked daily."))
    asked = ["add_action", "outcome:trust", "outcome:council"]  # more actions, until outcomes come
    assert [p.id for p in next_prompts(run.case, H, NOW)] == asked
    outcomes_recorded(run)
    assert [p.id for p in next_prompts(run.case, H, NOW)] == ["close"]


def test_impasse_alerts_count_as_disclosures_and_skip_an_organisation_without_consent() -> None:
    run = planning()
    decision = run.do(
        c.RaiseImpasse(actor=H, matter="Who pays", reason="Disputed", resolve_by=date(2026, 12, 8))
    )
    alerts = [e for e in decision.effects if isinstance(e, Notify)]
    assert {a.audience: a.discloses_to for a in alerts} == {
        f"senior_managers:{TRUST.id}": TRUST.id,
        f"senior_managers:{COUNCIL.id}": COUNCIL.id,
    }
    run.do(c.ResolveImpasse(actor=H, resolution="Agreed"))
    run.do(c.WithdrawConsent(actor=H, org_ids=(COUNCIL.id,)))
    decision = run.do(
        c.RaiseImpasse(actor=H, matter="Remedy", reason="Disputed", resolve_by=date(2026, 12, 8))
    )
    assert [e.audience for e in decision.effects if isinstance(e, Notify)] == [f"senior_managers:{TRUST.id}"]


def test_the_named_contact_needs_a_real_email_address() -> None:
    with pytest.raises(InvalidCommand, match="not an email address"):
        naming_contact().do(c.SetNamedContact(actor=H, name="Alex", email="alex at the trust"))


def test_the_codec_refuses_the_base_event() -> None:
    with pytest.raises(ValueError, match="unknown record type"):
        event_from_plain({"type": "Event", "at": NOW.isoformat(), "by": "x"})
