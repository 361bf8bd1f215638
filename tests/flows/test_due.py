"""`flows.due`: which reminders a case needs at a given moment, with working-day edges.

Times are explicit; the reminders are recorded through `SendReminders` like the sweep does, so the
case remembers what it was sent."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from flows import commands as c
from flows.calendar import add_working_days
from flows.due import Policy, due, next_check, reminder_day
from flows.errors import Forbidden, InvalidCommand
from flows.model import ConsentMethod, LeadCriterion, ReminderKind
from tests.flows.builders import (
    COUNCIL,
    COUNCIL_CONTRIBUTOR,
    SYSTEM,
    TODAY,
    H,
    Run,
    agreeing_lead,
    investigating,
    planning,
    received,
)

POLICY = Policy()
K = ReminderKind


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def contributions(run: Run, day: date, hour: int = 10) -> list[tuple[str, str, bool]]:
    """(strand, step label, late) of the contribution reminders due on `day`."""
    return [
        (r.subject, r.key.rsplit("/", 1)[1], r.late)
        for r in due(run.case, at(day, hour), POLICY)
        if r.kind is K.CONTRIBUTION
    ]


def send(run: Run, day: date, hour: int = 10) -> list[str]:
    reminders = tuple(due(run.case, at(day, hour), POLICY))
    if reminders:
        run.do(c.SendReminders(actor=SYSTEM, reminders=reminders), at(day, hour))
    return [r.key for r in reminders]


def test_a_target_is_reminded_5_and_1_working_days_before_on_the_day_then_every_2_overdue() -> None:
    run = investigating()
    target = run.case.strands["S1"].target
    schedule = {add_working_days(target, n): label for n, label in [(-5, "-5"), (-1, "-1"), (0, "0")]}
    schedule |= {add_working_days(target, n): f"+{n}" for n in (2, 4)}

    seen = {}
    day = TODAY
    while day <= add_working_days(target, 5):
        for strand, label, late in contributions(run, day):
            if strand == "S1":
                seen[day] = label
                assert not late
        send(run, day)
        day += timedelta(days=1)

    assert seen == schedule


def test_reminders_wait_for_the_start_hour_in_london() -> None:
    run = investigating()
    first = add_working_days(run.case.strands["S1"].target, -5)

    assert contributions(run, first, hour=6) == []  # 06:00 UTC = 06:00 London in winter
    assert ("S1", "-5", False) in contributions(run, first, hour=8)
    assert reminder_day(at(first, 7), POLICY) == first - timedelta(days=1)


def test_after_downtime_only_the_latest_missed_reminder_is_sent_marked_late() -> None:
    run = investigating()
    target = run.case.strands["S1"].target
    back = add_working_days(target, 3)  # down from before the first reminder until now

    found = [r for r in due(run.case, at(back), POLICY) if r.subject == "S1" and r.kind is K.CONTRIBUTION]

    assert [(r.key.rsplit("/", 1)[1], r.late, r.overdue) for r in found] == [("+2", True, 3)]


def test_a_reminder_is_sent_once_and_a_clock_jumping_back_does_not_revive_an_overtaken_one() -> None:
    run = investigating()
    target = run.case.strands["S1"].target
    send(run, add_working_days(target, 2))

    assert contributions(run, add_working_days(target, 2)) == []  # sent already
    assert contributions(run, target) == []  # the clock went back: "on the day" was overtaken
    assert ("S1", "+4", False) in contributions(run, add_working_days(target, 4))


def test_bank_holidays_and_christmas_are_not_working_days() -> None:
    run = investigating()
    run.do(c.ChangeTargetDate(actor=H, strand_id="S1", target=date(2026, 12, 29), reason="Holidays"))

    # 5 working days before Tue 29 Dec: Christmas Day and the Boxing Day substitute (28th) do not count
    assert ("S1", "-5", False) in contributions(run, date(2026, 12, 18))
    assert ("S1", "-5", False) not in contributions(run, date(2026, 12, 17))
    assert [c for c in contributions(run, date(2026, 12, 24)) if c[0] == "S1"] == [("S1", "-1", False)]


def test_a_renegotiated_date_starts_a_new_schedule() -> None:
    run = investigating()
    target = run.case.strands["S1"].target
    send(run, add_working_days(target, -1))
    later = add_working_days(target, 10)
    run.do(c.ChangeTargetDate(actor=H, strand_id="S1", target=later, reason="Records off site"))

    assert [x for x in contributions(run, target) if x[0] == "S1"] == []  # nothing on the old date
    assert ("S1", "-5", False) in contributions(run, add_working_days(later, -5))


def test_snoozed_and_on_track_quieten_reminders_but_not_once_it_is_late() -> None:
    run = investigating()
    target = run.case.strands["S2"].target
    run.do(c.Snooze(actor=COUNCIL_CONTRIBUTOR, subject="S2", until=add_working_days(target, -3)))
    assert "S2" not in [s for s, _, _ in contributions(run, add_working_days(target, -5))]
    # once the snooze is over, the step it covered is not sent late: the next one is awaited
    assert "S2" not in [s for s, _, _ in contributions(run, add_working_days(target, -2))]

    run.do(c.ReportOnTrack(actor=COUNCIL_CONTRIBUTOR, strand_id="S2"), at(add_working_days(target, -2)))
    assert "S2" not in [s for s, _, _ in contributions(run, add_working_days(target, -1))]
    assert ("S2", "0", False) in contributions(run, target)  # on the day, reminded all the same
    assert ("S2", "+2", False) in contributions(run, add_working_days(target, 2))


def test_snooze_cannot_reach_the_due_date_or_another_organisations_strand() -> None:
    run = investigating()
    target = run.case.strands["S2"].target
    with pytest.raises(InvalidCommand, match="propose a new one"):
        run.do(c.Snooze(actor=COUNCIL_CONTRIBUTOR, subject="S2", until=target))
    with pytest.raises(Forbidden):
        run.do(c.Snooze(actor=COUNCIL_CONTRIBUTOR, subject="S1", until=add_working_days(TODAY, 1)))


def test_overdue_reminders_also_go_to_the_organisations_complaints_inbox() -> None:
    run = investigating()
    target = run.case.strands["S2"].target
    before = send(run, target)
    assert before
    decision = run.do(
        c.SendReminders(
            actor=SYSTEM, reminders=tuple(due(run.case, at(add_working_days(target, 2)), POLICY))
        ),
        at(add_working_days(target, 2)),
    )

    letters = [e for e in decision.effects if getattr(e, "template", "") == "reminder_overdue"]
    assert [letter.to.org_id for letter in letters] == [COUNCIL.id]
    on_the_day = run.decisions[-2].effects
    assert not [e for e in on_the_day if getattr(e, "template", "") == "reminder_overdue"]


def test_only_the_assistant_sends_reminders() -> None:
    run = investigating()
    reminders = tuple(due(run.case, at(add_working_days(run.case.strands["S1"].target, -1)), POLICY))
    with pytest.raises(Forbidden):
        run.do(c.SendReminders(actor=H, reminders=reminders))


def test_the_acknowledgement_is_chased_from_its_due_day_until_sent() -> None:
    run = received()  # the email acknowledgement was queued but never sent (the server is down)
    due_on = add_working_days(TODAY, 3)

    assert [r.kind for r in due(run.case, at(add_working_days(due_on, -1)), POLICY)] == []
    assert K.ACKNOWLEDGEMENT in [r.kind for r in due(run.case, at(due_on), POLICY)]


def test_the_six_month_point_is_reminded_before_it_comes() -> None:
    run = investigating()
    point = date(2027, 5, 24)  # six months from Tuesday 24 November 2026, the day of receipt

    kinds = [r.kind for r in due(run.case, at(add_working_days(point, -5)), POLICY)]

    assert K.SIX_MONTHS in kinds


def test_an_impasse_is_suggested_when_the_lead_is_not_agreed_in_time() -> None:
    run = agreeing_lead()
    run.do(c.RecordComplainantView(actor=H, view="No preference given"))
    run.do(c.ProposeLead(actor=H, org_id="trust", criteria=(LeadCriterion.GREATEST_RESPONSIBILITY,)))
    proposed = add_working_days(TODAY, 10)

    assert K.LEAD_NOT_AGREED not in [
        r.kind for r in due(run.case, at(add_working_days(proposed, -1)), POLICY)
    ]
    found = [r for r in due(run.case, at(proposed), POLICY) if r.kind is K.LEAD_NOT_AGREED]
    assert len(found) == 1 and found[0].org_id == ""  # to the handlers


def test_next_check_is_the_next_day_something_can_fall_due() -> None:
    run = investigating()
    run.do(c.RecordAcknowledgement(actor=H, method=ConsentMethod.PHONE, on=TODAY))
    target = run.case.strands["S1"].target
    send(run, add_working_days(target, -5))

    assert next_check(run.case, add_working_days(target, -5), POLICY) == add_working_days(target, -1)


def test_easter_good_friday_and_monday_are_not_working_days() -> None:
    run = investigating()
    run.do(c.ChangeTargetDate(actor=H, strand_id="S1", target=date(2027, 3, 30), reason="Easter"))

    # Tue 30 Mar 2027: the working day before it is Thu 25 Mar (Good Friday 26, Easter Monday 29)
    assert [x for x in contributions(run, date(2027, 3, 25)) if x[0] == "S1"] == [("S1", "-1", False)]
    overdue = add_working_days(date(2027, 3, 30), 2)
    assert overdue == date(2027, 4, 1)
    assert ("S1", "+2", False) in contributions(run, overdue)


def test_a_dated_milestone_is_a_day_the_organisation_updates_the_lead() -> None:
    run = planning()
    day = add_working_days(TODAY, 5)
    milestones = (f"{day.isoformat()} Records gathered", "Staff spoken to")
    run.do(c.AddStrand(actor=H, org_id="council", matters="Care", target=add_working_days(TODAY, 15),
                       milestones=milestones))  # fmt: skip

    [update] = [r for r in due(run.case, at(day), POLICY) if r.kind is K.MILESTONE]

    assert (update.subject, update.org_id, update.on) == ("S1", "council", day)
    assert not [r for r in due(run.case, at(add_working_days(day, -1)), POLICY) if r.kind is K.MILESTONE]


def test_a_milestone_dated_after_the_target_or_at_a_weekend_is_refused() -> None:
    run = planning()
    target = add_working_days(TODAY, 15)
    for bad in (add_working_days(target, 1), date(2026, 12, 5)):  # after the target; a Saturday
        with pytest.raises(InvalidCommand, match="milestone"):
            run.do(c.AddStrand(actor=H, org_id="council", matters="Care", target=target,
                               milestones=(f"{bad.isoformat()} Records",)))  # fmt: skip
