"""Every letter that names a date names the date it is about (a deadline, a target, the day something
happened), whatever day it is sent: one known case per letter, rendered with the real template from
the context its rule queued. England's Christmas 2026 bank holidays are Fri 25 and Mon 28 Dec, and
1 Jan 2027 is a Friday bank holiday.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest

from bot.wording import notice
from flows import commands as c
from flows.calendar import LONDON
from flows.effects import Notify, SendLetter
from flows.model import Channel, ConsentMethod, LeadCriterion
from mail.letters import RenderedLetter, render_letter
from tests.flows.builders import (
    COUNCIL,
    COUNCIL_CONTRIBUTOR,
    PERSON,
    SYSTEM,
    TRUST,
    H,
    Run,
    agreeing_lead,
    drafting,
    investigating,
    planning,
    received,
)
from tests.mail.contexts import as_the_runner_would

PERIOD_END = date(2027, 1, 4)  # Mon: the first working day of 2027


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def rendered(run: Run, template: str) -> RenderedLetter:
    """The one letter of `template` the run queued, as its reader gets it."""
    (letter,) = [e for e in run.effects if isinstance(e, SendLetter) and e.template == template]
    return render_letter(template, as_the_runner_would(letter.context))


def received_late_at_night(channel: Channel = Channel.EMAIL) -> Run:
    """Received at 23:30 UTC on Thu 25 Jun 2026: already Friday 26 June in London."""
    run = Run()
    received_at = datetime(2026, 6, 25, 23, 30, tzinfo=UTC)
    run.do(c.ReceiveComplaint(actor=SYSTEM if channel is Channel.EMAIL else H, channel=channel,
                              received_at=received_at, complainant=PERSON, home_org=TRUST,
                              text="No carers came.", message_id="<m@example.org>"), received_at)
    return run


def passed_on_after_christmas() -> Run:
    run = received()
    run.do(c.IdentifyOrganisations(actor=H, orgs=(COUNCIL,)))
    run.now = at(date(2026, 12, 29))
    run.do(c.RecordConsent(actor=H, org_ids=(COUNCIL.id,), method=ConsentMethod.EMAIL,
                           given_on=date(2026, 12, 24), capacity_confirmed=True))
    run.do(c.PassOn(actor=H, org_id=COUNCIL.id))
    return run


def lead_proposed_later() -> Run:
    run = agreeing_lead()  # consent given on Tue 24 Nov 2026
    run.now = at(date(2026, 12, 29))
    run.do(c.RecordComplainantView(actor=H, view="No preference given"))
    run.do(c.ProposeLead(actor=H, org_id=TRUST.id, criteria=(LeadCriterion.GREATEST_RESPONSIBILITY,)))
    return run


def strand_due_after_christmas() -> Run:
    run = planning()
    run.do(c.AddStrand(actor=H, org_id=COUNCIL.id, matters="Care package", target=date(2026, 12, 29)))
    return run


def meeting_on_christmas_eve() -> Run:
    run = investigating()
    run.do(c.ScheduleMeeting(actor=H, on=datetime(2026, 12, 24, 14, tzinfo=LONDON), purpose="Plan"))
    return run


def comments_due() -> Run:
    run = drafting()
    run.do(c.OpenCommentRound(actor=H, comment_by=date(2027, 2, 3)))
    return run


def period_set() -> Run:
    run = planning()
    run.do(c.SetResponsePeriod(actor=H, due=PERIOD_END, agreed_with_complainant=False))
    return run


def target_moved_over_christmas() -> Run:
    run = period_set()
    run.do(c.AddStrand(actor=H, org_id=COUNCIL.id, matters="Care package", target=date(2026, 12, 24)))
    run.do(c.ChangeTargetDate(actor=H, strand_id="S1", target=date(2026, 12, 30), reason="Records off site."))
    return run  # two working days later (29 and 30 Dec): Mon 4 Jan 2027 becomes Wed 6 Jan 2027


def delayed() -> Run:
    run = investigating()
    run.do(c.SendDelayLetter(actor=H, reasons="Records awaited.", expected_by=date(2027, 6, 1)))
    return run


def updated_before_christmas() -> Run:
    run = period_set()
    run.do(c.SetUpdateFrequency(actor=H, working_days=5))
    run.do(c.SendProgressUpdate(actor=H, text="Records requested."), at(date(2026, 12, 21)))
    return run  # next update: 22, 23, 24, 29, 30 Dec


def responded_with_an_action() -> Run:
    run = drafting()
    run.do(c.AddAction(actor=H, owner_org=COUNCIL.id, description="Audit referrals", due=PERIOD_END))
    run.do(c.OpenCommentRound(actor=H, comment_by=date(2026, 12, 1)))
    run.do(c.SignOffDraft(actor=COUNCIL_CONTRIBUTOR, org_id=COUNCIL.id))
    run.do(c.ShareDraftWithComplainant(actor=H))
    run.do(c.SendFinalResponse(actor=H, body="We looked into it.", signed_by="Chris Chief", signed_role=""))
    return run


DATED: list[tuple[str, Callable[[], Run], tuple[str, ...]]] = [
    ("acknowledgement", received_late_at_night, ("We received your complaint on Friday 26 June 2026.",)),
    ("written_record", lambda: received_late_at_night(Channel.PHONE), ("on Friday 26 June 2026.",)),
    ("pass_on", passed_on_after_christmas,
     ("the complaint below on Tuesday 24 November 2026.", "consent on Thursday 24 December 2026")),
    ("lead_proposal", lead_proposed_later, ("The complainant gave consent on Tuesday 24 November 2026",)),
    ("contributor_request", strand_due_after_christmas,
     ("your part of the investigation, due Tuesday 29 December 2026 (", "by Tuesday 29 December 2026.")),
    ("meeting_invitation", meeting_on_christmas_eve, ("When: Thursday 24 December 2026 at 14:00 (London",)),
    ("draft_for_comment", comments_due, ("By Wednesday 3 February 2027, please reply",)),
    ("response_period", period_set, ("We aim to send you our full response by Monday 4 January 2027.",)),
    ("timescale_changed", target_moved_over_christmas,
     ("by Wednesday 6 January 2027, instead of Monday 4 January 2027.",)),
    ("delay", delayed, ("We now expect to send you our full response by Tuesday 1 June 2027.",)),
    ("progress_update", updated_before_christmas,
     ("full response by Monday 4 January 2027.", "next update by Wednesday 30 December 2026.")),
    ("final_response", responded_with_an_action, ("Audit referrals, by Monday 4 January 2027",)),
]


@pytest.mark.parametrize(("template", "scenario", "sentences"), DATED, ids=[d[0] for d in DATED])
def test_each_letter_names_the_date_it_is_about(
    template: str, scenario: Callable[[], Run], sentences: tuple[str, ...]
) -> None:
    letter = rendered(scenario(), template)
    for sentence in sentences:
        assert sentence in letter.subject + "\n" + letter.text


def test_an_update_after_the_delay_letter_expects_the_response_when_that_letter_said() -> None:
    run = period_set()  # the person was told Mon 4 Jan 2027, then the delay letter said Tue 1 Jun 2027
    run.do(c.SendDelayLetter(actor=H, reasons="Records awaited.", expected_by=date(2027, 6, 1)))
    run.do(c.SendProgressUpdate(actor=H, text="Records requested."))
    assert "full response by Tuesday 1 June 2027." in rendered(run, "progress_update").text


def test_an_update_never_promises_a_date_already_past_nor_an_undated_next_one() -> None:
    run = period_set()
    run.do(c.SendProgressUpdate(actor=H, text="Records requested."), at(date(2027, 1, 6)))
    text = rendered(run, "progress_update").text
    assert "We cannot yet say when we will send you our full response." in text
    assert "Monday 4 January 2027" not in text and "next update by" not in text


def test_the_impasse_alert_names_the_day_raised_and_the_senior_managers_date() -> None:
    run = investigating()
    run.do(c.RaiseImpasse(actor=H, matter="the remedy is disputed", reason="No agreement",
                          resolve_by=date(2026, 12, 24)))
    (alert, *_) = [e for e in run.effects if isinstance(e, Notify) and e.message == "impasse_alert"]
    assert notice(alert.message, alert.context) == (
        f"{run.case.ref}: since Tuesday 24 November 2026, the organisations cannot agree: the remedy is "
        "disputed. As a senior manager, please help resolve it by Thursday 24 December 2026: tell us whether "
        "your organisation can resolve it, and what it proposes."
    )
