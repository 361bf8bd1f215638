"""Meetings of the organisations and questions to contributors: rules, letters and prompts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from flows import commands as c
from flows.calendar import LONDON
from flows.codec import to_plain
from flows.decide import decide
from flows.errors import ConsentRequired, Forbidden, InvalidCommand, NotAllowedNow
from flows.model import LeadCriterion, Status
from flows.prompts import Choice, FieldKind, Prompt, fill, next_prompts
from tests.flows.builders import (
    COUNCIL,
    COUNCIL_CONTRIBUTOR,
    COUNCIL_HANDLER,
    ICB,
    ICB_CONTRIBUTOR,
    NOW,
    PERSON,
    TRUST,
    H,
    Run,
    agreeing_lead,
    drafting,
    investigating,
    letters,
    naming_contact,
    only,
    planning,
    received,
    working_day,
)

LATER = working_day(2, hour=14)  # Thursday 26 November 2026, 14:00 London


def schedule(on: datetime = LATER, purpose: str = "Agree the plan") -> c.ScheduleMeeting:
    return c.ScheduleMeeting(actor=H, on=on, purpose=purpose)


def record(**changes: Any) -> c.RecordMeeting:
    values: dict[str, Any] = {
        "meeting_id": "M1",
        "represented": (TRUST.id, COUNCIL.id),
        "attendees": ("Alex Rivers", "Kim Social"),
        "notes": "Plan agreed; next meeting in two weeks.",
        **changes,
    }
    return c.RecordMeeting(actor=H, **values)


def three_planning() -> Run:
    """Trust (lead), council and ICB, all consented, the named contact set."""
    run = agreeing_lead((TRUST, COUNCIL, ICB))
    run.do(c.RecordComplainantView(actor=H, view="No preference given"))
    run.do(c.ProposeLead(actor=H, org_id=TRUST.id, criteria=(LeadCriterion.GREATEST_RESPONSIBILITY,)))
    run.do(c.RespondToLead(actor=COUNCIL_CONTRIBUTOR, org_id=COUNCIL.id, agrees=True))
    run.do(c.RespondToLead(actor=ICB_CONTRIBUTOR, org_id=ICB.id, agrees=True))
    run.do(c.SetNamedContact(actor=H, name="Alex Rivers", email="alex@riverside.example.nhs.uk"))
    assert run.case.status is Status.PLANNING
    return run


def partly_responded() -> Run:
    """Responded by the impasse route: the lead was never agreed."""
    run = agreeing_lead()
    run.do(c.RecordComplainantView(actor=H, view="No preference given"))
    run.do(c.ProposeLead(actor=H, org_id=COUNCIL.id, criteria=(LeadCriterion.BEST_RELATIONSHIP,)))
    run.do(c.RespondToLead(actor=COUNCIL_CONTRIBUTOR, org_id=COUNCIL.id, agrees=False, reason="Health"))
    run.do(c.RaiseImpasse(actor=H, matter="Lead", reason="No agreement", resolve_by=NOW.date()))
    run.now = working_day(1)
    run.do(c.SendPartialResponse(actor=H, answered="a", not_possible="b", why_no_agreement="c"))
    assert run.case.status is Status.RESPONDED
    return run


def prompts(run: Run, now: datetime = NOW) -> dict[str, Prompt]:
    return {p.id: p for p in next_prompts(run.case, H, now)}


def the_choice(p: Prompt) -> Choice:
    (choice,) = p.choices
    return choice


# --- scheduling ---------------------------------------------------------------------------------


def test_each_other_organisation_with_consent_is_invited_and_the_meeting_is_on_the_case() -> None:
    run = three_planning()
    decision = run.do(schedule())
    sent = letters(decision, "meeting_invitation")
    assert [s.to.org_id for s in sent] == [COUNCIL.id, ICB.id]
    assert {s.discloses_to for s in sent} == {COUNCIL.id, ICB.id}
    context = sent[0].context
    assert context["to_org_name"] == COUNCIL.name and context["org_name"] == TRUST.name
    assert context["when"] == "Thursday 26 November 2026 at 14:00 (London time)"
    assert context["purpose"] == "Agree the plan"
    assert context["organisations"] == [TRUST.name, COUNCIL.name, ICB.name]
    assert "reply to this email" in context["reply_hint"]
    meeting = run.case.meetings["M1"]
    assert (meeting.on, meeting.purpose, meeting.recorded_at) == (LATER, "Agree the plan", None)
    run.do(schedule(purpose="Review progress"))
    assert list(run.case.meetings) == ["M1", "M2"]


def test_an_organisation_without_consent_is_not_invited() -> None:
    run = three_planning()
    run.do(c.WithdrawConsent(actor=H, org_ids=(ICB.id,)))
    decision = run.do(schedule())
    assert [s.to.org_id for s in letters(decision, "meeting_invitation")] == [COUNCIL.id]
    assert "No invitation to North Vale Integrated Care Board" in prompts(run)["meeting"].detail


def test_when_another_organisation_leads_the_receiving_one_is_invited_too() -> None:
    run = agreeing_lead()
    run.do(c.RecordComplainantView(actor=H, view="No preference given"))
    run.do(c.ProposeLead(actor=H, org_id=COUNCIL.id, criteria=(LeadCriterion.BEST_RELATIONSHIP,)))
    run.do(c.RespondToLead(actor=COUNCIL_CONTRIBUTOR, org_id=COUNCIL.id, agrees=True))
    assert run.case.coordinator == COUNCIL.id
    with pytest.raises(Forbidden):
        decide(run.case, schedule(), NOW)
    decision = run.do(c.ScheduleMeeting(actor=COUNCIL_HANDLER, on=LATER, purpose="Plan"))
    assert only(letters(decision, "meeting_invitation")).to.org_id == TRUST.id


@pytest.mark.parametrize(
    ("on", "purpose", "words"),
    [
        (NOW - timedelta(minutes=1), "Plan", "is in the past"),
        (datetime(2026, 12, 3, 14, 0), "Plan", "offset from UTC"),
        (LATER, "  ", "the purpose of the meeting is required"),
    ],
)
def test_a_meeting_in_the_past_without_a_time_zone_or_a_purpose_is_refused(
    on: datetime, purpose: str, words: str
) -> None:
    with pytest.raises(InvalidCommand, match=words):
        decide(planning().case, schedule(on, purpose), NOW)


def test_meetings_belong_between_agreeing_the_lead_and_the_response() -> None:
    with pytest.raises(NotAllowedNow):
        decide(received().case, schedule(), NOW)
    with pytest.raises(NotAllowedNow):
        decide(partly_responded().case, schedule(), working_day(1))
    decide(agreeing_lead().case, schedule(), NOW)
    decide(drafting().case, schedule(), NOW)


# --- recording ----------------------------------------------------------------------------------


def scheduled() -> Run:
    run = planning()
    run.do(schedule())
    return run


def test_a_meeting_is_recorded_once_with_every_organisation_represented() -> None:
    run = scheduled()
    decision = run.do(record(represented=(COUNCIL.id, TRUST.id), attendees=(" Alex Rivers ", "")), LATER)
    (event,) = decision.events
    assert to_plain(event)["type"] == "MeetingRecorded"
    meeting = run.case.meetings["M1"]
    assert meeting.represented == (TRUST.id, COUNCIL.id) and meeting.attendees == ("Alex Rivers",)
    assert meeting.recorded_at == LATER and meeting.notes.startswith("Plan agreed")
    with pytest.raises(InvalidCommand, match="M1 is already recorded"):
        decide(run.case, record(), LATER)


def test_recording_names_the_organisations_not_represented() -> None:
    run = three_planning()
    run.do(schedule())
    with pytest.raises(InvalidCommand, match=f"not represented: {COUNCIL.name}, {ICB.name}$") as caught:
        decide(run.case, record(represented=(TRUST.id,)), LATER)
    assert caught.value.context["org_ids"] == [COUNCIL.id, ICB.id]


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"meeting_id": "M9"}, "no meeting M9"),
        ({"represented": (TRUST.id, COUNCIL.id, "nowhere")}, "not involved in this case: nowhere"),
        ({"attendees": ("", "  ")}, "at least one person"),
        ({"notes": ""}, "the notes of the meeting is required"),
    ],
)
def test_a_record_must_name_a_meeting_involved_organisations_people_and_notes(
    changes: dict[str, Any], words: str
) -> None:
    with pytest.raises(InvalidCommand, match=words):
        decide(scheduled().case, record(**changes), LATER)


def test_a_meeting_cannot_be_recorded_before_its_day_nor_by_another_organisation() -> None:
    run = scheduled()
    with pytest.raises(InvalidCommand, match="M1 is not until Thursday 26 November 2026 at 14:00"):
        decide(run.case, record(), NOW)
    early_that_day = datetime(2026, 11, 26, 8, tzinfo=UTC)
    decide(run.case, record(), early_that_day)
    with pytest.raises(Forbidden):
        decide(run.case, c.RecordMeeting(**{**vars(record()), "actor": COUNCIL_HANDLER}), LATER)


# --- questions ----------------------------------------------------------------------------------


def test_a_question_is_emailed_to_the_strands_organisation_and_filed_on_the_strand() -> None:
    run = investigating()
    decision = run.do(c.AskContributor(actor=H, strand_id="S2", question="When did the referral arrive?"))
    letter = only(letters(decision, "contributor_question"))
    assert letter.to.org_id == COUNCIL.id and letter.to.address == COUNCIL.email
    assert letter.discloses_to == COUNCIL.id
    assert letter.context["strand"] == "S2" and letter.context["to_org_name"] == COUNCIL.name
    assert letter.context["question"] == "When did the referral arrive?"
    assert "strand S2" in letter.context["reply_hint"]
    (question,) = run.case.questions
    assert (question.id, question.strand_id, question.by) == ("Q1", "S2", H.id)
    run.do(c.AskContributor(actor=H, strand_id="S2", question="And who received it?"))
    assert [q.id for q in run.case.questions] == ["Q1", "Q2"]


@pytest.mark.parametrize(
    ("strand_id", "question", "words"),
    [
        ("S9", "Why?", "no strand S9"),
        ("S2", " ", "the question is required"),
        ("S1", "Why?", "own strand"),
    ],
)
def test_a_question_needs_a_contributors_strand_and_words(strand_id: str, question: str, words: str) -> None:
    with pytest.raises(InvalidCommand, match=words):
        decide(investigating().case, c.AskContributor(actor=H, strand_id=strand_id, question=question), NOW)


def test_no_question_goes_to_an_organisation_whose_consent_was_withdrawn() -> None:
    run = investigating()
    run.do(c.WithdrawConsent(actor=H, org_ids=(COUNCIL.id,)))
    with pytest.raises(ConsentRequired):
        decide(run.case, c.AskContributor(actor=H, strand_id="S2", question="Why?"), NOW)
    assert "ask_contributor" not in prompts(run)


# --- prompts ------------------------------------------------------------------------------------


@pytest.mark.parametrize("stage", [agreeing_lead, naming_contact, planning, investigating, drafting])
def test_a_meeting_is_offered_from_agreeing_the_lead_to_drafting_and_its_suggestion_accepted(
    stage: Any,
) -> None:
    run = stage()
    choice = the_choice(prompts(run)["meeting"])
    on, purpose = choice.fields
    assert on.kind is FieldKind.DATETIME
    assert on.default == datetime(2026, 11, 25, 10, tzinfo=LONDON)  # the next working day, 10:00 in London
    run.do(fill(choice, {"on": on.default.isoformat(), "purpose": purpose.default}))
    assert run.case.meetings["M1"].on == datetime(2026, 11, 25, 10, tzinfo=LONDON)


def test_the_suggested_time_is_in_london_summer_time_when_it_applies() -> None:
    choice = the_choice(prompts(planning())["meeting"])
    summer = {p.id: p for p in next_prompts(planning().case, H, datetime(2027, 6, 1, 9, tzinfo=UTC))}
    assert the_choice(summer["meeting"]).fields[0].default.isoformat() == "2027-06-02T10:00:00+01:00"
    with pytest.raises(InvalidCommand, match="offset from UTC"):
        decide(planning().case, fill(choice, {"on": "2026-12-03 14:00", "purpose": "Plan"}), NOW)
    with pytest.raises(ValueError):
        fill(choice, {"on": "next Thursday"})


def test_no_meeting_is_offered_before_the_lead_is_sought_after_the_response_or_with_one_organisation() -> (
    None
):
    for run in (received(), partly_responded()):
        assert not {"meeting", "ask_contributor"} & set(prompts(run, run.now))
    alone = received()
    alone.do(c.IdentifyOrganisations(actor=H, orgs=(TRUST,)))
    assert "meeting" not in prompts(alone)


def test_a_held_meeting_is_offered_for_recording_from_its_day_until_recorded() -> None:
    run = scheduled()
    assert "meeting:M1" not in prompts(run)
    assert "Already arranged: M1, Thursday 26 November 2026 at 14:00" in prompts(run)["meeting"].detail
    held = prompts(run, LATER)["meeting:M1"]
    assert (
        held.question
        == "Record meeting M1 (Agree the plan), Thursday 26 November 2026 at 14:00 (London time)."
    )
    represented, attendees, notes = the_choice(held).fields
    assert represented.kind is FieldKind.MULTI_CHOICE and represented.default == (TRUST.id, COUNCIL.id)
    assert attendees.kind is FieldKind.LINES and attendees.default == (H.name,)
    plain = {
        "represented": ["trust", "council"],
        "attendees": ["Alex Rivers", "Kim Social"],
        "notes": "Agreed.",
    }
    run.do(fill(the_choice(held), plain), LATER)
    assert run.case.meetings["M1"].attendees == ("Alex Rivers", "Kim Social")
    assert "meeting:M1" not in prompts(run, LATER)


def test_a_question_is_offered_about_a_contributors_open_strand_while_planning_and_investigating() -> None:
    run = investigating()
    ask = the_choice(prompts(run)["ask_contributor"])
    strand, _ = ask.fields
    assert strand.options == (("S2", f"S2 — {COUNCIL.name}"),)  # S1 is the lead's own
    decision = run.do(fill(ask, {"strand_id": "S2", "question": "When did the referral arrive?"}))
    assert only(letters(decision, "contributor_question")).context["strand"] == "S2"
    run.do(c.RecordContribution(actor=COUNCIL_CONTRIBUTOR, strand_id="S2", summary="Referral lost."))
    assert "ask_contributor" not in prompts(run)
    assert "ask_contributor" not in prompts(drafting())


def test_the_prompts_show_no_names_of_the_person_nor_what_a_strand_is_about() -> None:
    run = investigating()
    run.do(schedule())
    shown = [p for p in next_prompts(run.case, H, LATER) if p.id.startswith(("meeting", "ask_contributor"))]
    assert {p.id for p in shown} == {"meeting", "meeting:M1", "ask_contributor"}
    matters = [s.matters for s in run.case.strands.values()]
    for p in shown:
        words = [
            p.question,
            p.detail,
            *(label for ch in p.choices for f in ch.fields for _, label in f.options),
        ]
        for text in words:
            assert PERSON.name not in text and not any(m in text for m in matters), text


def test_recording_and_the_new_meeting_prompt_come_in_order_of_urgency() -> None:
    run = investigating()
    run.do(schedule())
    ids = [p.id for p in next_prompts(run.case, H, LATER)]
    ours = [i for i in ids if i.startswith(("meeting", "ask_contributor"))]
    assert ours == ["meeting:M1", "ask_contributor", "meeting"]
