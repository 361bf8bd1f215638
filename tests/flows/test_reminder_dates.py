"""Reminders name the date they are about (the deadline, target, six-month point), never the day
they are sent: one test per kind that names a date, each with a known case across a weekend, a bank
holiday or Christmas (England: 25 Dec 2026 Fri, 28 Dec 2026 Mon substitute, 1 Jan 2027 Fri,
31 May 2027 Mon).

Reminders are found by `flows.due.due`, sent with `SendReminders` through `decide` as the sweep does,
and read as their reader would: notices through `bot.wording.notice`, letters through the templates.
"""

from __future__ import annotations

from datetime import date

from bot.wording import notice
from flows import commands as c
from flows.due import Policy, due
from flows.effects import Notify
from flows.model import Channel, ReminderKind
from mail.letters import render_letter
from tests.flows.builders import (
    COUNCIL,
    PERSON,
    SYSTEM,
    TODAY,
    TRUST,
    H,
    Run,
    at,
    drafting,
    investigating,
    letters,
    only,
    planning,
    received,
)

K = ReminderKind
AFTER_CHRISTMAS = date(2026, 12, 29)  # Tue: Fri 25 and Mon 28 Dec are bank holidays



def sweep(run: Run, day: date, kind: ReminderKind) -> tuple[date, list[str]]:
    """Send what the sweep finds due on `day`: the day the `kind` reminder is dated, and its notices."""
    reminders = tuple(due(run.case, at(day), Policy()))
    run.do(c.SendReminders(actor=SYSTEM, reminders=reminders), at(day))
    (reminder,) = [r for r in reminders if r.kind is kind]
    texts = [
        notice(e.message, e.context)
        for e in run.decisions[-1].effects
        if isinstance(e, Notify) and e.message == f"reminder_{kind.value}"
    ]
    return reminder.on, texts


def received_on(day: date) -> Run:
    run = Run(now=at(day))
    run.do(c.ReceiveComplaint(actor=SYSTEM, channel=Channel.EMAIL, received_at=at(day), complainant=PERSON,
                              home_org=TRUST, text="No carers came.", message_id="<m@example.org>"))
    return run


def council_strand(target: date = AFTER_CHRISTMAS, milestones: tuple[str, ...] = ()) -> Run:
    run = planning()
    run.do(c.AddStrand(actor=H, org_id=COUNCIL.id, matters="Care", target=target, milestones=milestones))
    return run


def test_the_six_month_point_is_named_not_the_day_five_working_days_before_it() -> None:
    run = received_on(date(2026, 12, 2))  # six-month point Tue 1 Jun 2027; Mon 31 May is a bank holiday
    sent, texts = sweep(run, date(2027, 5, 24), K.SIX_MONTHS)
    assert sent == date(2027, 5, 24)
    assert texts == [
        f"{run.case.ref}: the six-month point is Tuesday 1 June 2027: without a response by then, the "
        "person must be sent a letter explaining the delay."
    ]


def test_a_six_month_point_on_a_bank_holiday_monday_is_that_monday() -> None:
    run = received_on(date(2026, 12, 1))  # six-month point Mon 31 May 2027, a bank holiday
    sent, texts = sweep(run, date(2027, 5, 28), K.SIX_MONTHS)
    assert sent == date(2027, 5, 28)  # "on the day" is the working day before
    assert "the six-month point is Monday 31 May 2027:" in texts[0]


def test_a_six_month_point_on_christmas_day_is_christmas_day_then_overdue() -> None:
    run = received_on(date(2026, 6, 26))  # six-month point Fri 25 Dec 2026
    assert sweep(run, date(2026, 12, 24), K.SIX_MONTHS)[1][0].startswith(
        f"{run.case.ref}: the six-month point is Friday 25 December 2026:"
    )
    sent, texts = sweep(run, date(2026, 12, 30), K.SIX_MONTHS)  # 2 working days on, not counting 28 Dec
    assert sent == date(2026, 12, 30)
    assert texts == [
        f"{run.case.ref}: the six-month point was Friday 25 December 2026 and there is no response yet: "
        "the person must be sent a letter explaining the delay."
    ]


def test_a_longer_period_agreed_is_named_as_such_with_its_end() -> None:
    run = received()
    run.do(c.AgreeLongerPeriod(actor=H, until=date(2027, 6, 30), agreed_on=TODAY))
    sent, texts = sweep(run, date(2027, 6, 29), K.SIX_MONTHS)
    assert sent == date(2027, 6, 29)
    assert texts[0].startswith(
        f"{run.case.ref}: the end of the longer response period agreed with the person is "
        "Wednesday 30 June 2027:"
    )


def test_the_response_period_names_the_date_agreed_not_the_reminders_day() -> None:
    run = planning()
    run.do(c.SetResponsePeriod(actor=H, due=date(2027, 1, 18), agreed_with_complainant=True))
    sent, texts = sweep(run, date(2027, 1, 11), K.RESPONSE_PERIOD)
    assert sent == date(2027, 1, 11)
    assert texts == [
        f"{run.case.ref}: the response period promised to the person ends Monday 18 January 2027."
    ]
    assert sweep(run, date(2027, 1, 20), K.RESPONSE_PERIOD)[1] == [
        f"{run.case.ref}: the response period promised to the person ended Monday 18 January 2027, and the "
        "response has not gone yet."
    ]


def test_a_contribution_names_its_target_before_and_after_christmas() -> None:
    run = council_strand()
    assert sweep(run, date(2026, 12, 18), K.CONTRIBUTION) == (
        date(2026, 12, 18),
        [f"{run.case.ref}: reminder: the response on strand S1 is due Tuesday 29 December 2026."],
    )
    sent, texts = sweep(run, date(2026, 12, 31), K.CONTRIBUTION)
    assert sent == date(2026, 12, 31)
    assert texts == [
        f"{run.case.ref}: reminder: the response on strand S1 was due Tuesday 29 December 2026 and is now "
        "2 working days overdue."
    ]
    letter = render_letter("reminder_overdue", only(letters(run.decisions[-1], "reminder_overdue")).context)
    assert letter.subject == f"Joint complaint: the response on strand S1, now overdue ({run.case.ref})"
    assert (
        f"We were due to receive the response on strand S1 from {COUNCIL.name} on Tuesday 29 December 2026, "
        "and that date is now 2 working days past." in letter.text
    )


def test_a_milestone_reminded_late_after_christmas_names_its_own_day() -> None:
    run = council_strand(milestones=("2026-12-24 Records gathered",))
    sent, texts = sweep(run, AFTER_CHRISTMAS, K.MILESTONE)  # the sweep was down over Christmas
    assert sent == date(2026, 12, 24)
    assert texts == [
        f"{run.case.ref}: an update to the lead on strand S1 was due Thursday 24 December 2026: "
        "how is it going?"
    ]


def test_an_action_due_on_a_bank_holiday_names_that_day() -> None:
    run = investigating()
    run.do(c.AddAction(actor=H, owner_org=COUNCIL.id, description="Audit referrals", due=date(2027, 5, 31)))
    sent, texts = sweep(run, date(2027, 5, 28), K.ACTION)
    assert sent == date(2027, 5, 28)
    assert texts == [f"{run.case.ref}: reminder: action A1 is due Monday 31 May 2027."]


def test_comments_on_the_draft_name_the_date_the_request_gave() -> None:
    run = drafting()
    run.do(c.OpenCommentRound(actor=H, comment_by=date(2027, 2, 3)))
    sent, texts = sweep(run, date(2027, 1, 27), K.COMMENTS)
    assert sent == date(2027, 1, 27)
    assert texts == [
        f"{run.case.ref}: reminder: comments on the draft joint response are due Wednesday 3 February 2027."
    ]
    assert sweep(run, date(2027, 2, 5), K.COMMENTS)[1] == [
        f"{run.case.ref}: reminder: comments on the draft joint response were due Wednesday 3 February 2027 "
        "and are now 2 working days overdue."
    ]
    letter = render_letter("reminder_overdue", only(letters(run.decisions[-1], "reminder_overdue")).context)
    assert letter.subject.startswith("Joint complaint: comments on the draft joint response, now overdue")
    assert "on Wednesday 3 February 2027, and that date is now 2 working days past." in letter.text


def test_the_acknowledgement_over_christmas_names_its_due_day() -> None:
    run = received_on(date(2026, 12, 23))  # due Wed 30 Dec 2026 (DOMAIN.md section 3)
    sent, texts = sweep(run, date(2027, 1, 4), K.ACKNOWLEDGEMENT)  # 1 Jan is a bank holiday
    assert sent == date(2027, 1, 4)
    assert texts == [
        f"{run.case.ref}: the acknowledgement was due Wednesday 30 December 2026 and has not gone yet: "
        "it is 2 working days late."
    ]


def test_an_update_letter_owed_before_christmas_names_its_due_day_when_reminded_late() -> None:
    run = planning()  # the named contact was set on Tue 24 Nov 2026
    run.do(c.SetUpdateFrequency(actor=H, working_days=20))  # so the first update is due Tue 22 Dec
    sent, texts = sweep(run, AFTER_CHRISTMAS, K.UPDATE)
    assert sent == date(2026, 12, 24)
    assert texts == [f"{run.case.ref}: the person is owed an update letter (due Tuesday 22 December 2026)."]


def test_a_long_overdue_contribution_names_its_target_not_the_day_an_impasse_is_suggested() -> None:
    run = council_strand()
    sent, texts = sweep(run, date(2027, 1, 13), K.CONTRIBUTION_LATE)  # 10 working days after the target
    assert sent == date(2027, 1, 13)
    assert texts == [
        f"{run.case.ref}: the response on strand S1 was due Tuesday 29 December 2026 and is long overdue. "
        "Consider raising an impasse."
    ]


def test_an_unresolved_impasse_names_the_senior_managers_date() -> None:
    run = investigating()
    run.do(c.RaiseImpasse(actor=H, matter="the remedy is disputed", reason="No agreement",
                          resolve_by=date(2026, 12, 24)))
    sent, texts = sweep(run, AFTER_CHRISTMAS, K.IMPASSE_DUE)
    assert sent == AFTER_CHRISTMAS
    assert texts == [
        f"{run.case.ref}: senior managers did not resolve the impasse by Thursday 24 December 2026: "
        "the partial response is next."
    ]
