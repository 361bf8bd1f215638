"""Events and effects survive the trip through plain JSON exactly as the scenarios produced them."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from flows import commands as c
from flows import events as ev
from flows.calendar import add_working_days, london_date, retention_review_on
from flows.codec import (
    EFFECT_TYPES,
    EVENT_TYPES,
    command_from_plain,
    effect_from_plain,
    event_from_plain,
    to_plain,
)
from flows.effects import Effect
from flows.model import (
    AnswerChannel,
    Attachment,
    Channel,
    ConsentMethod,
    LeadCriterion,
    Ombudsman,
    Outcome,
    Representative,
    RepresentativeBasis,
    Sender,
)
from tests.flows.builders import (
    COUNCIL,
    COUNCIL_CONTRIBUTOR,
    COUNCIL_MANAGER,
    ICB,
    NOW,
    SYSTEM,
    TODAY,
    TRUST,
    H,
    Run,
    agreeing_lead,
    closed,
    drafting,
    investigating,
    outcomes_recorded,
    received,
    reminded,
    responded,
    working_day,
)


def closed_after_an_action() -> Run:
    run = responded()
    run.do(c.AddAction(actor=H, owner_org=COUNCIL.id, description="Audit", due=date(2027, 1, 29)))
    run.do(c.RecordLearning(actor=H, text="Check packages before discharge"))
    run.do(c.CompleteAction(actor=COUNCIL_CONTRIBUTOR, action_id="A1", evidence="Audit report"))
    outcomes_recorded(run, Outcome.UPHELD)
    run.do(c.CloseCase(actor=H, outcome=Outcome.UPHELD))
    return run


def coded_then_referred() -> Run:
    """Coded at closure (by the builder), taken to both Ombudsmen after it closed, and destroyed at
    its retention review."""
    run = closed()
    run.do(c.RecordOmbudsmanReferral(actor=H, org_id=TRUST.id, ombudsman=Ombudsman.PHSO))
    run.do(c.RecordOmbudsmanReferral(actor=H, org_id=COUNCIL.id, ombudsman=Ombudsman.LGSCO))
    review = retention_review_on(london_date(run.case.closed_at or NOW))
    run.do(c.DestroyRecord(actor=H, reason="Retention period over"), datetime.combine(review, NOW.timetz()))
    return run


def impasse_to_ombudsman() -> Run:
    run = agreeing_lead()
    run.do(c.RecordComplainantView(actor=H, view="No preference given"))
    run.do(c.ProposeLead(actor=H, org_id=COUNCIL.id, criteria=(LeadCriterion.BEST_RELATIONSHIP,)))
    run.do(c.RespondToLead(actor=COUNCIL_CONTRIBUTOR, org_id=COUNCIL.id, agrees=False, reason="Health"))
    run.do(c.RecordComplainantView(actor=H, view="Wants the trust to lead"))
    run.do(c.RaiseImpasse(actor=H, matter="Lead", reason="No agreement", resolve_by=TODAY))
    run.do(c.ResolveImpasse(actor=COUNCIL_MANAGER, resolution="Still none"))
    run.do(c.RaiseImpasse(actor=H, matter="Lead", reason="Again", resolve_by=TODAY))
    run.do(c.AnswerImpasse(actor=COUNCIL_MANAGER, org_id=COUNCIL.id, resolved=False))
    run.do(c.AnswerImpasse(actor=H, org_id=TRUST.id, resolved=False, how=AnswerChannel.MEETING))
    run.do(
        c.SendPartialResponse(actor=H, answered="a", not_possible="b", why_no_agreement="c"), working_day(1)
    )
    run.do(c.SignpostOmbudsman(actor=H), working_day(1))
    return run


def revised_draft() -> Run:
    """Comments on the draft, the draft kept as it is, then revised all the same: version 2."""
    run = drafting()
    run.do(c.OpenCommentRound(actor=H, comment_by=add_working_days(TODAY, 5)))
    run.do(c.RecordComment(actor=COUNCIL_CONTRIBUTOR, org_id=COUNCIL.id, comment="Add the dates."))
    run.do(c.KeepDraft(actor=H))
    run.do(c.RecordDraft(actor=H, text="Dear Jo, with the dates ..."))
    return run


def odds_and_ends() -> Run:
    run = received()
    key = next(iter(run.case.letters))
    run.do(c.RecordLetterSent(actor=SYSTEM, key=key, message_id="<out@jointly>"))
    run.do(c.RecordLetterRead(actor=SYSTEM, key=key))
    run.do(c.RecordAcknowledgement(actor=H, method=ConsentMethod.EMAIL, on=TODAY))
    run.do(c.DecideOutOfTime(actor=H, accept=True, reasons="Good reason"))
    run.do(c.IdentifyOrganisations(actor=H, orgs=(TRUST, COUNCIL, ICB)))
    request = run.do(c.RequestConsent(actor=H, org_ids=(COUNCIL.id, ICB.id))).effects[0]
    run.do(c.RecordLetterFailed(actor=SYSTEM, key=request.key, reason="550 mailbox unavailable"))
    rep = Representative(
        name="Kit", relationship="son", basis=RepresentativeBasis.WRITTEN_CONSENT, evidence="form 3"
    )
    run.do(
        c.RecordConsent(
            actor=H,
            org_ids=(COUNCIL.id,),
            method=ConsentMethod.WRITTEN,
            given_on=TODAY,
            capacity_confirmed=False,
            representative=rep,
        )
    )
    run.do(c.RecordConsentRefused(actor=H, org_ids=(ICB.id,), note="not the ICB"))
    run.do(c.Signpost(actor=H, org_ids=(ICB.id,)))
    run.do(c.WithdrawConsent(actor=H, org_ids=(COUNCIL.id,)))
    run.do(c.WithdrawComplaint(actor=H, note="no longer wishes to complain"))
    return run


def timescales() -> Run:
    run = investigating()
    run.do(c.ChangeTargetDate(actor=H, strand_id="S1", target=add_working_days(TODAY, 20), reason="Leave"))
    later = add_working_days(TODAY, 25)
    run.do(c.ProposeTargetDate(actor=COUNCIL_CONTRIBUTOR, strand_id="S2", target=later, reason="Records"))
    run.do(c.RefuseTargetDate(actor=H, strand_id="S2", reason="The person has waited long enough"))
    run.do(c.RecordPlanDiscussed(actor=H, note="by phone"))
    run.do(c.SetUpdateFrequency(actor=H, working_days=10))
    run.do(c.SetResponsePeriod(actor=H, due=date(2027, 3, 1), agreed_with_complainant=False))
    run.do(c.AgreeLongerPeriod(actor=H, until=date(2027, 7, 30), agreed_on=TODAY))
    run.do(c.SendDelayLetter(actor=H, reasons="Records", expected_by=date(2027, 8, 2)))
    return run


def oral() -> Run:
    run = received(Channel.PHONE, by=H)
    run.do(c.ResolveInformally(actor=H, note="Apologised"))
    return run


def passed_on() -> Run:
    run = received()
    run.do(c.IdentifyOrganisations(actor=H, orgs=(COUNCIL,)))
    run.do(
        c.RecordConsent(
            actor=H,
            org_ids=(COUNCIL.id,),
            method=ConsentMethod.EMAIL,
            given_on=TODAY,
            capacity_confirmed=True,
        )
    )
    run.do(c.PassOn(actor=H, org_id=COUNCIL.id))
    return run


def messages() -> Run:
    run = investigating()
    at = NOW + timedelta(hours=2)
    run.do(
        c.ReceiveMessage(
            actor=SYSTEM,
            message_id="<r1@example.org>",
            sender=Sender.CONTRIBUTOR,
            from_address="kim@council.example",
            received_at=at,
            org_id=COUNCIL.id,
            strand_id="S2",
            text="Our findings",
            attachments=(Attachment("ab12.pdf", "findings.pdf", "application/pdf", 2048),),
        )
    )
    run.do(c.MarkMessageRead(actor=H, message_id="<r1@example.org>"))
    stranger = received(related=("JC-261101-ABCD",))
    stranger.do(c.DismissRelated(actor=H))
    stranger.do(c.MergeInto(actor=H, target="JC-261101-ABCD"))
    run.decisions.extend(stranger.decisions)
    return run


def letter_in_doubt() -> Run:
    """The acknowledgement cut off while it went, sent again, cut off again, then recorded as sent."""
    run = received()
    [key] = run.case.letters
    doubt = c.RecordLetterInDoubt(actor=SYSTEM, key=key, message_id="<ack@jointly.example>", since=NOW)
    run.do(doubt)
    run.do(c.ResendLetter(actor=H, key=key))
    run.do(doubt)
    run.do(c.ConfirmLetterSent(actor=H, key=key))
    return run


def meeting_and_question() -> Run:
    run = investigating()
    run.do(c.RecordSharedUnderstanding(actor=H, understanding="A late discharge", outcomes="An apology"))
    run.do(c.ScheduleMeeting(actor=H, on=working_day(2, hour=14), purpose="Review progress"))
    run.do(c.AskContributor(actor=H, strand_id="S2", question="When did the referral arrive?"))
    both, people = (TRUST.id, COUNCIL.id), ("Alex Rivers",)
    record = c.RecordMeeting(actor=H, meeting_id="M1", represented=both, attendees=people, notes="ok")
    run.do(record, working_day(2, hour=16))
    return run


SCENARIOS = [
    closed_after_an_action,
    coded_then_referred,
    impasse_to_ombudsman,
    revised_draft,
    odds_and_ends,
    timescales,
    oral,
    passed_on,
    messages,
    letter_in_doubt,
    meeting_and_question,
    reminded,
]


def produced() -> tuple[list[ev.Event], list[Effect]]:
    runs = [scenario() for scenario in SCENARIOS]
    return [e for r in runs for e in r.events], [e for r in runs for e in r.effects]


def through_json(value: Any) -> Any:
    return json.loads(json.dumps(to_plain(value)))


def test_every_event_round_trips_and_every_event_type_is_covered() -> None:
    events, _ = produced()
    for event in events:
        assert event_from_plain(through_json(event)) == event
    assert {type(e).__name__ for e in events} == set(EVENT_TYPES) - {"Event"}


def test_every_effect_round_trips() -> None:
    _, effects = produced()
    for effect in effects:
        assert effect_from_plain(through_json(effect)) == effect
    assert {type(e).__name__ for e in effects} == set(EFFECT_TYPES) - {"Effect"}


def test_a_plain_event_keeps_its_facts_readable() -> None:
    consent = next(e for e in odds_and_ends().events if isinstance(e, ev.ConsentGiven))
    plain = to_plain(consent)
    assert plain["type"] == "ConsentGiven" and plain["given_on"] == "2026-11-24"
    assert plain["method"] == "written" and plain["representative"]["basis"] == "written_consent"
    assert plain["at"] == "2026-11-24T10:00:00+00:00"


def test_commands_round_trip_with_their_actor() -> None:
    command = c.RecordConsent(
        actor=H, org_ids=(COUNCIL.id,), method=ConsentMethod.PHONE, given_on=TODAY, capacity_confirmed=True
    )
    assert command_from_plain(through_json(command)) == command
    assert through_json(command)["actor"]["roles"] == ["handler"]


@pytest.mark.parametrize(
    "data", [{"type": "NoSuchThing", "at": "2026-11-24"}, {"at": "2026-11-24"}, {"type": None}]
)
def test_an_unknown_record_type_is_refused(data: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="unknown record type"):
        event_from_plain(data)
    with pytest.raises(ValueError, match="unknown record type"):
        effect_from_plain(data)


def test_an_effect_is_not_read_as_an_event_nor_the_reverse() -> None:
    run = received()
    with pytest.raises(ValueError):
        event_from_plain(through_json(run.effects[0]))
    with pytest.raises(ValueError):
        effect_from_plain(through_json(run.events[0]))
