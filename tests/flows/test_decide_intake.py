"""Intake rules: oral complaints, consent and its conditions, answering the lead, letters sent."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from flows import commands as c
from flows import events as ev
from flows.decide import decide
from flows.effects import Notify
from flows.errors import Forbidden, InvalidCommand, NotAllowedNow
from flows.model import (
    Case,
    Channel,
    ClosureReason,
    ConsentMethod,
    ConsentState,
    LeadCriterion,
    Representative,
    RepresentativeBasis,
    Status,
)
from tests.flows.builders import (
    COUNCIL,
    COUNCIL_CONTRIBUTOR,
    ICB,
    NOW,
    PERSON,
    SYSTEM,
    TODAY,
    TRUST,
    H,
    Run,
    agreeing_lead,
    consent,
    letters,
    only,
    received,
)

WEDNESDAY_LATE = datetime(2026, 11, 25, 23, 59, tzinfo=UTC)  # end of the next working day
THURSDAY_EARLY = datetime(2026, 11, 26, 0, 1, tzinfo=UTC)


# --- oral complaints ----------------------------------------------------------------------------


def test_oral_complaint_logged_by_a_handler_gets_a_written_record() -> None:
    run = received(Channel.PHONE, by=H)
    record = only(letters(run.decisions[0], "written_record"))
    assert not record.automatic and record.in_reply_to == ""
    assert record.context["summary"] == run.case.text and record.to.address == PERSON.email
    assert not letters(run.decisions[0], "acknowledgement")


def test_only_a_handler_can_log_an_oral_complaint() -> None:
    with pytest.raises(Forbidden):
        received(Channel.IN_PERSON, by=SYSTEM)


def test_oral_complaint_resolved_by_the_end_of_the_next_working_day_closes() -> None:
    run = received(Channel.PHONE, by=H)
    run.do(c.ResolveInformally(actor=H, note="Apologised; they were satisfied."), now=WEDNESDAY_LATE)
    assert run.case.status is Status.CLOSED and run.case.closure is ClosureReason.RESOLVED_INFORMALLY


def test_oral_complaint_cannot_be_resolved_informally_after_the_next_working_day() -> None:
    run = received(Channel.PHONE, by=H)
    with pytest.raises(InvalidCommand, match="next working day"):
        run.do(c.ResolveInformally(actor=H, note="Sorted."), now=THURSDAY_EARLY)


def test_written_complaint_cannot_skip_the_process() -> None:
    with pytest.raises(InvalidCommand, match="oral"):
        received().do(c.ResolveInformally(actor=H, note="Sorted."))


def test_receipt_time_must_be_aware_and_now_too() -> None:
    cmd = c.ReceiveComplaint(
        actor=SYSTEM,
        channel=Channel.EMAIL,
        received_at=NOW.replace(tzinfo=None),
        complainant=PERSON,
        home_org=TRUST,
    )
    with pytest.raises(InvalidCommand, match="time zone"):
        decide(Case(ref="JC-new"), cmd, NOW)
    run = received()
    with pytest.raises(ValueError, match="timezone-aware"):
        decide(run.case, c.IdentifyOrganisations(actor=H, orgs=(TRUST,)), NOW.replace(tzinfo=None))


# --- consent ------------------------------------------------------------------------------------


def awaiting() -> c.Command:
    return c.IdentifyOrganisations(actor=H, orgs=(TRUST, COUNCIL))


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"capacity_confirmed": False}, "can consent"),
        ({"given_on": date(2026, 11, 25)}, "future day"),
        ({"org_ids": (TRUST.id,)}, "only for other organisations"),
        ({"org_ids": (ICB.id,)}, "not involved"),
        ({"org_ids": ()}, "say which organisations"),
        ({"refused": (COUNCIL.id,)}, "both given and refused"),
    ],
)
def test_consent_that_cannot_be_recorded(change: dict[str, object], words: str) -> None:
    run = received()
    run.do(awaiting())
    with pytest.raises(InvalidCommand, match=words):
        run.do(replace(consent(), **change))  # type: ignore[arg-type]
    assert run.case.status is Status.AWAITING_CONSENT


def test_representative_route_when_the_person_lacks_capacity() -> None:
    run = received()
    run.do(awaiting())
    rep = Representative(name="Kit Example", relationship="son", basis=RepresentativeBasis.BEST_INTERESTS)
    run.do(replace(consent(), capacity_confirmed=False, representative=rep))
    given = run.case.consents[COUNCIL.id]
    assert (given.state, given.representative, given.joint, given.includes_learning) == (
        ConsentState.GIVEN,
        rep,
        True,
        True,
    )
    assert run.case.status is Status.AGREEING_LEAD


@pytest.mark.parametrize(
    "rep",
    [
        Representative(name=" ", relationship="son", basis=RepresentativeBasis.BEST_INTERESTS),
        Representative(name="Kit", relationship="son", basis=RepresentativeBasis.WRITTEN_CONSENT),
    ],
)
def test_representative_needs_a_name_and_evidence_of_written_consent(rep: Representative) -> None:
    run = received()
    run.do(awaiting())
    with pytest.raises(InvalidCommand):
        run.do(replace(consent(), capacity_confirmed=False, representative=rep))


def test_consent_request_letter_goes_to_the_person_not_the_organisation() -> None:
    run = received()
    run.do(awaiting())
    d = run.do(c.RequestConsent(actor=H, org_ids=(COUNCIL.id,)))
    request = only(letters(d, "consent_request"))
    assert request.discloses_to is None and request.context["organisations"] == [COUNCIL.name]
    assert run.case.consents[COUNCIL.id].state is ConsentState.REQUESTED


def test_withdrawing_consent_sends_the_case_back_to_awaiting_consent() -> None:
    run = agreeing_lead()
    d = run.do(c.WithdrawConsent(actor=H, org_ids=(COUNCIL.id,), note="changed their mind"))
    assert [n.message for n in d.effects if isinstance(n, Notify)] == ["consent_withdrawn"]
    assert run.case.status is Status.AWAITING_CONSENT and not run.case.consent_active(COUNCIL.id)


# --- the lead -------------------------------------------------------------------------------


def proposed(*orgs: str) -> Run:
    run = agreeing_lead(tuple({"trust": TRUST, "council": COUNCIL, "icb": ICB}[o] for o in orgs))
    run.do(c.RecordComplainantView(actor=H, view="No preference given"))
    run.do(c.ProposeLead(actor=H, org_id=TRUST.id, criteria=(LeadCriterion.MOST_RESOURCE,)))
    return run


def test_lead_needs_a_criterion() -> None:
    with pytest.raises(InvalidCommand, match="criteria"):
        agreeing_lead().do(c.ProposeLead(actor=H, org_id=TRUST.id, criteria=()))


def test_no_answer_before_a_proposal() -> None:
    with pytest.raises(InvalidCommand, match="proposed"):
        agreeing_lead().do(c.RespondToLead(actor=COUNCIL_CONTRIBUTOR, org_id=COUNCIL.id, agrees=True))


def test_objection_needs_a_reason_and_tells_handlers() -> None:
    run = proposed("trust", "council")
    with pytest.raises(InvalidCommand, match="reason"):
        run.do(c.RespondToLead(actor=COUNCIL_CONTRIBUTOR, org_id=COUNCIL.id, agrees=False))
    d = run.do(
        c.RespondToLead(actor=COUNCIL_CONTRIBUTOR, org_id=COUNCIL.id, agrees=False, reason="We did most")
    )
    assert [n.message for n in d.effects if isinstance(n, Notify)] == ["lead_objected"]
    assert run.case.status is Status.AGREEING_LEAD and run.case.lead is None


def test_a_contributor_answers_for_its_own_organisation_only() -> None:
    run = proposed("trust", "council", "icb")
    with pytest.raises(Forbidden):
        run.do(c.RespondToLead(actor=COUNCIL_CONTRIBUTOR, org_id=ICB.id, agrees=True))
    d = run.do(c.RespondToLead(actor=COUNCIL_CONTRIBUTOR, org_id=COUNCIL.id, agrees=True))
    assert not [e for e in d.events if isinstance(e, ev.LeadAgreed)]  # the ICB has not answered yet


# --- letters sent ---------------------------------------------------------------------------


def test_only_the_assistant_records_a_sent_letter_and_that_acknowledges() -> None:
    run = received()
    key = next(iter(run.case.letters))
    sent = c.RecordLetterSent(actor=SYSTEM, key=key, message_id="<out1@jointly>")
    with pytest.raises(Forbidden):
        run.do(replace(sent, actor=H))
    with pytest.raises(InvalidCommand):
        run.do(replace(sent, key="nope"))
    run.do(sent)
    assert run.case.letters[key].message_id == "<out1@jointly>" and run.case.acknowledged_at == NOW


def test_acknowledgement_by_phone_cannot_be_dated_tomorrow() -> None:
    run = received()
    with pytest.raises(InvalidCommand):
        run.do(c.RecordAcknowledgement(actor=H, method=ConsentMethod.PHONE, on=date(2026, 11, 25)))
    run.do(c.RecordAcknowledgement(actor=H, method=ConsentMethod.PHONE, on=TODAY))
    assert run.case.acknowledged_at == NOW


def test_same_command_on_same_case_decides_the_same() -> None:
    run = agreeing_lead()
    cmd = c.ProposeLead(actor=H, org_id=TRUST.id, criteria=(LeadCriterion.BEST_RELATIONSHIP,))
    assert decide(run.case, cmd, NOW) == decide(run.case, cmd, NOW)


def test_a_case_that_does_not_exist_accepts_only_receipt() -> None:
    with pytest.raises(NotAllowedNow, match="no such case"):
        decide(Case(ref="JC-new"), awaiting(), NOW)
    cmd = received().decisions[0].events[0]
    assert isinstance(cmd, ev.ComplaintReceived)
