"""Overdue has an end: an organisation's overdue reminders about one thing go every 2 working days
three times, then weekly, copied to its escalation contact; at the first weekly one the lead's
handlers are told once and an impasse is suggested.

Each test runs the sweep as `bot.sweep` does (`flows.due`, then `SendReminders` through `decide`)
day by day for six months after the date, and counts what each reader got.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from bot.wording import notice
from flows import commands as c
from flows.calendar import add_working_days
from flows.due import Policy, due, next_check, slowed_on
from flows.effects import Notify, SendLetter
from flows.events import DisclosureMade
from flows.model import ConsentMethod
from flows.prompts import next_prompts
from mail.letters import render_letter
from tests.flows.builders import (
    COUNCIL,
    SYSTEM,
    TODAY,
    TRUST,
    H,
    Run,
    at,
    drafting,
    investigating,
    responded,
)

POLICY = Policy()
ESCALATION = "head.of.complaints@millbrook.example.gov.uk"
SIX_MONTHS = timedelta(days=182)
NOT_COOPERATING = "an organisation is not cooperating"
COMMENT_BY = add_working_days(TODAY, 5)
COMMENTS = "comments on the draft joint response"



def with_escalation_contact(run: Run) -> Run:
    """The council's escalation contact is added to the directory, and the case takes it up; the
    person's acknowledgement is on record, so only the clocks under test run."""
    run.do(c.IdentifyOrganisations(actor=H, orgs=(TRUST, replace(COUNCIL, escalation_email=ESCALATION))))
    run.do(c.RecordAcknowledgement(actor=H, method=ConsentMethod.PHONE, on=TODAY))
    return run


def comment_round(comment_by: date) -> Run:
    """A draft out for comments by `comment_by`, which the council never gives."""
    run = with_escalation_contact(drafting())
    run.do(c.OpenCommentRound(actor=H, comment_by=comment_by))
    return run


def sweep_daily(run: Run, first: date, last: date, policy: Policy = POLICY) -> None:
    day = first
    while day <= last:
        reminders = tuple(due(run.case, at(day), policy))
        if reminders:
            run.do(c.SendReminders(actor=SYSTEM, reminders=reminders), at(day))
        day += timedelta(days=1)


def overdue_letters(run: Run, about: str) -> list[SendLetter]:
    return [
        e
        for e in run.effects
        if isinstance(e, SendLetter) and e.template == "reminder_overdue" and e.context["about"] == about
    ]


def told(run: Run, message: str) -> list[Notify]:
    return [e for e in run.effects if isinstance(e, Notify) and e.message == message]


def steps(letters: list[SendLetter], due_on: date) -> list[int]:
    """How many working days late each letter was, in order."""
    assert all(letter.context["due"] == f"{due_on:%A} {due_on.day} {due_on:%B %Y}" for letter in letters)
    return [letter.context["overdue"] for letter in letters]


def impasse_offered(run: Run, day: date) -> str | None:
    """The matter the raise-impasse question defaults to, or None when it is not asked."""
    prompts = [p for p in next_prompts(run.case, H, at(day)) if p.id == "raise_impasse"]
    return prompts[0].choices[0].fields[0].default if prompts else None


def test_a_comment_round_never_answered_gets_three_letters_then_weekly_for_six_months() -> None:
    run = comment_round(COMMENT_BY)

    sweep_daily(run, TODAY, COMMENT_BY + SIX_MONTHS)

    letters = overdue_letters(run, COMMENTS)
    assert {letter.to.org_id for letter in letters} == {COUNCIL.id}
    # before: every 2 working days, 61 letters; now 3 at 2-day spacing, then weekly
    assert steps(letters, COMMENT_BY) == [2, 4, 6, *range(11, 123, 5)]
    assert len(letters) == 26
    assert [letter.to.cc for letter in letters] == [""] * 3 + [ESCALATION] * 23
    assert [letter.context["weekly"] for letter in letters] == [False] * 3 + [True] * 23
    contacts = [n for n in told(run, "reminder_comments") if n.audience == f"contacts:{COUNCIL.id}"]
    assert len(contacts) == 3 + 26  # 5 and 1 working days before, on the day, then each letter's day
    [lead] = told(run, "reminder_comments_late")
    assert lead.audience == "handlers" and lead.context["overdue"] == 11
    assert impasse_offered(run, COMMENT_BY + SIX_MONTHS) == NOT_COOPERATING


def test_the_copy_goes_to_the_same_organisation_so_its_consent_covers_it() -> None:
    run = comment_round(COMMENT_BY)
    weekly = slowed_on(COMMENT_BY, POLICY)

    sweep_daily(run, TODAY, weekly)

    [letter] = [e for e in run.decisions[-1].effects if isinstance(e, SendLetter)]
    [disclosure] = [e for e in run.decisions[-1].events if isinstance(e, DisclosureMade)]
    assert (letter.to.org_id, letter.to.cc, letter.discloses_to) == (COUNCIL.id, ESCALATION, COUNCIL.id)
    assert (disclosure.org_id, disclosure.effect_key) == (COUNCIL.id, letter.key)


def test_a_contribution_never_sent_slows_too_and_the_lead_is_told_once() -> None:
    run = with_escalation_contact(investigating())
    target = run.case.strands["S2"].target

    sweep_daily(run, TODAY, target + SIX_MONTHS)

    letters = overdue_letters(run, "the response on strand S2")
    assert steps(letters, target) == [2, 4, 6, *range(11, 123, 5)]
    assert [letter.to.cc for letter in letters] == [""] * 3 + [ESCALATION] * 23
    assert not overdue_letters(run, "the response on strand S1")  # our own strand: no letter to ourselves
    # the lead hears once, from the contribution's own clock (10 working days late), not again at 11
    assert [n.context["subject"] for n in told(run, "reminder_contribution_late")] == ["S1", "S2"]
    assert impasse_offered(run, target + SIX_MONTHS) == NOT_COOPERATING


def test_an_action_never_done_slows_too_and_the_lead_is_told_once() -> None:
    run = with_escalation_contact(drafting())
    action_due = add_working_days(TODAY, 10)
    run.do(c.AddAction(actor=H, owner_org=COUNCIL.id, description="Audit referrals", due=action_due))

    sweep_daily(run, TODAY, action_due + SIX_MONTHS)

    letters = overdue_letters(run, "action A1")
    assert steps(letters, action_due) == [2, 4, 6, *range(11, 123, 5)]
    assert [letter.to.cc for letter in letters] == [""] * 3 + [ESCALATION] * 23
    [lead] = told(run, "reminder_action_late")
    assert lead.context["organisation"] == COUNCIL.name and lead.context["overdue"] == 11
    assert impasse_offered(run, action_due + SIX_MONTHS) == NOT_COOPERATING


def test_after_the_response_the_lead_is_told_of_a_late_action_but_no_impasse_is_offered() -> None:
    run = responded()
    action_due = add_working_days(TODAY, 10)
    run.do(c.AddAction(actor=H, owner_org=COUNCIL.id, description="Audit referrals", due=action_due))

    sweep_daily(run, TODAY, slowed_on(action_due, POLICY))

    [lead] = told(run, "reminder_action_late")
    assert "Consider asking its senior managers to help" in notice(lead.message, lead.context)
    assert impasse_offered(run, slowed_on(action_due, POLICY)) is None  # it can no longer be raised


def test_downtime_across_the_first_weekly_step_tells_the_lead_once_marked_late() -> None:
    run = comment_round(COMMENT_BY)
    sweep_daily(run, TODAY, add_working_days(COMMENT_BY, 6))
    back = add_working_days(COMMENT_BY, 18)  # down from the day after +6 until now

    reminders = [r for r in due(run.case, at(back), POLICY) if r.subject == COUNCIL.id]

    assert [(r.kind.value, r.key.rsplit("/", 1)[1], r.late, r.weekly) for r in reminders] == [
        ("comments_late", "0", True, False),
        ("comments", "+16", True, True),
    ]


def test_the_sweep_next_looks_a_week_on_once_reminders_slow() -> None:
    run = comment_round(COMMENT_BY)
    day = add_working_days(COMMENT_BY, 11)

    sweep_daily(run, TODAY, day)

    assert next_check(run.case, day, POLICY) == add_working_days(COMMENT_BY, 16)


def test_overdue_reminders_0_goes_weekly_straight_after_the_day() -> None:
    run = comment_round(COMMENT_BY)

    sweep_daily(run, TODAY, add_working_days(COMMENT_BY, 20), Policy(overdue_reminders=0))

    assert steps(overdue_letters(run, COMMENTS), COMMENT_BY) == [5, 10, 15, 20]
    assert [n.context["overdue"] for n in told(run, "reminder_comments_late")] == [5]


def test_the_first_weekly_letter_reads_as_the_organisation_would_read_it() -> None:
    comment_by = date(2027, 2, 3)
    run = comment_round(comment_by)
    sweep_daily(run, TODAY, slowed_on(comment_by, POLICY))

    first, *_, weekly = overdue_letters(run, COMMENTS)
    letter = render_letter("reminder_overdue", weekly.context)

    assert letter.subject == f"Joint complaint: {COMMENTS}, now overdue ({run.case.ref})"
    assert f"Our reference: {run.case.ref}" in letter.text
    assert (
        f"We were due to receive {COMMENTS} from {COUNCIL.name} on Wednesday 3 February 2027, and that "
        "date is now 11 working days past." in letter.text
    )
    assert f"we will now write once a week, with a copy to {ESCALATION}." in letter.text
    assert "once a week" not in render_letter("reminder_overdue", first.context).text


def test_the_lead_reads_who_is_late_with_what_since_when_and_what_to_do() -> None:
    comment_by = date(2027, 2, 3)
    run = comment_round(comment_by)
    sweep_daily(run, TODAY, slowed_on(comment_by, POLICY))

    [lead] = told(run, "reminder_comments_late")

    assert notice(lead.message, lead.context) == (
        f"{run.case.ref}: {COUNCIL.name} has not answered the reminders about {COMMENTS}, due Wednesday "
        "3 February 2027, now 11 working days overdue. Its reminders now go weekly. Consider raising an "
        "impasse."
    )
