"""The working-day clock: DOMAIN.md's worked examples, holiday facts and properties."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flows.calendar import (
    LONDON,
    TimeLimitCheck,
    acknowledgement_due,
    add_working_days,
    end_of_next_working_day,
    is_working_day,
    london_date,
    longer_period_counts,
    next_working_day,
    reminder_dates,
    response_due,
    six_month_point,
    time_limit_check,
    working_days_between,
)

DAYS = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))


def noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=LONDON)


# --- worked examples from DOMAIN.md section 3 -------------------------------------------------


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (date(2026, 12, 23), date(2026, 12, 30)),  # Wed: Christmas and Boxing Day substitute
        (date(2026, 4, 2), date(2026, 4, 9)),  # Thu: Good Friday, Easter Monday
        (date(2026, 5, 22), date(2026, 5, 28)),  # Fri: Spring bank holiday
        (date(2025, 12, 24), date(2025, 12, 31)),  # Wed: Christmas Day, Boxing Day
        (date(2026, 4, 4), date(2026, 4, 9)),  # Sat over Easter
    ],
)
def test_acknowledgement_worked_examples(received: date, due: date) -> None:
    assert acknowledgement_due(noon(received)) == due


def test_receipt_late_evening_utc_in_summer_is_the_next_london_day() -> None:
    received = datetime(2026, 6, 30, 23, 30, tzinfo=UTC)
    assert london_date(received) == date(2026, 7, 1)
    assert acknowledgement_due(received) == date(2026, 7, 6)  # Wed 1 Jul -> Mon 6 Jul


def test_receipt_late_evening_utc_in_winter_is_the_same_london_day() -> None:
    received = datetime(2026, 1, 14, 23, 30, tzinfo=UTC)
    assert london_date(received) == date(2026, 1, 14)
    assert acknowledgement_due(received) == date(2026, 1, 19)  # Wed 14 Jan -> Mon 19 Jan


def test_other_time_zones_are_converted_to_london() -> None:
    received = datetime(2026, 3, 2, 8, 0, tzinfo=ZoneInfo("Asia/Tokyo"))  # 23:00 1 Mar London
    assert london_date(received) == date(2026, 3, 1)


def test_naive_receipt_time_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        london_date(datetime(2026, 1, 1, 9, 0))
    with pytest.raises(ValueError):
        acknowledgement_due(datetime(2026, 1, 1, 9, 0))


def test_oral_complaint_resolution_window() -> None:
    assert end_of_next_working_day(noon(date(2026, 4, 2))) == date(2026, 4, 7)
    assert end_of_next_working_day(datetime(2026, 6, 30, 23, 30, tzinfo=UTC)) == date(2026, 7, 2)


# --- holiday facts ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "day",
    [
        date(2022, 9, 19),  # state funeral of Queen Elizabeth II
        date(2023, 5, 8),  # coronation of Charles III
        date(2022, 6, 2),  # Spring bank holiday moved to a Thursday
        date(2022, 6, 3),  # Platinum Jubilee
        date(2020, 5, 8),  # Early May bank holiday moved to a Friday for VE Day
        date(2026, 12, 25),
        date(2026, 12, 28),  # Boxing Day substitute
        date(2027, 12, 27),  # Christmas Day substitute
        date(2027, 12, 28),  # Boxing Day substitute
        date(2028, 1, 3),  # New Year's Day substitute
        date(2026, 4, 3),  # Good Friday
        date(2026, 4, 6),  # Easter Monday
        date(2026, 4, 4),  # Saturday
        date(2026, 4, 5),  # Sunday
    ],
)
def test_not_working_days(day: date) -> None:
    assert not is_working_day(day)


@pytest.mark.parametrize(
    "day",
    [
        date(2020, 5, 4),  # the Monday the 2020 May holiday moved away from
        date(2022, 5, 30),  # the Monday the 2022 Spring holiday moved away from
        date(2026, 12, 24),
        date(2026, 12, 29),
        date(2026, 3, 17),  # St Patrick's Day: Northern Ireland only
        date(2026, 8, 3),  # Scotland's summer holiday, not England's
    ],
)
def test_working_days(day: date) -> None:
    assert is_working_day(day)


# --- counting -----------------------------------------------------------------------------------


def test_next_working_day_skips_weekends_and_holidays() -> None:
    assert next_working_day(date(2026, 4, 2)) == date(2026, 4, 7)
    assert next_working_day(date(2026, 4, 7)) == date(2026, 4, 8)
    assert next_working_day(date(2026, 12, 24)) == date(2026, 12, 29)


def test_add_zero_working_days_returns_the_day_itself() -> None:
    assert add_working_days(date(2026, 4, 4), 0) == date(2026, 4, 4)


def test_add_working_days_backwards() -> None:
    assert add_working_days(date(2026, 4, 7), -1) == date(2026, 4, 2)
    assert add_working_days(date(2026, 4, 4), -1) == date(2026, 4, 2)


def test_working_days_between() -> None:
    assert working_days_between(date(2026, 4, 2), date(2026, 4, 9)) == 3
    assert working_days_between(date(2026, 4, 9), date(2026, 4, 2)) == -3
    assert working_days_between(date(2026, 4, 9), date(2026, 4, 9)) == 0
    assert working_days_between(date(2026, 4, 3), date(2026, 4, 6)) == 0


# --- response period ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("received", "point"),
    [
        (date(2026, 1, 15), date(2026, 7, 14)),
        (date(2026, 3, 1), date(2026, 8, 31)),
        (date(2026, 9, 1), date(2027, 2, 28)),
        (date(2027, 9, 1), date(2028, 2, 29)),  # leap year
        (date(2026, 8, 28), date(2027, 2, 27)),
        (date(2026, 8, 29), date(2027, 2, 28)),  # no 29 Feb 2027: clamp
        (date(2026, 8, 30), date(2027, 2, 28)),
        (date(2026, 8, 31), date(2027, 2, 28)),
        (date(2027, 8, 29), date(2028, 2, 28)),  # 29 Feb 2028 exists: the day before
        (date(2027, 8, 31), date(2028, 2, 29)),  # clamp in a leap year
        (date(2026, 12, 31), date(2027, 6, 30)),
        (date(2026, 7, 1), date(2026, 12, 31)),
        (date(2027, 10, 31), date(2028, 4, 30)),  # no 31 Apr: clamp
    ],
)
def test_six_month_point(received: date, point: date) -> None:
    assert six_month_point(received) == point


RECEIVED = date(2026, 1, 15)  # six-month point 2026-07-14
LONGER = date(2026, 9, 30)


@pytest.mark.parametrize(
    ("agreed_on", "due"),
    [
        (date(2026, 6, 1), LONGER),  # before the point
        (date(2026, 7, 14), LONGER),  # on the point
        (date(2026, 7, 15), date(2026, 7, 14)),  # after: too late to count
        (None, date(2026, 7, 14)),  # agreement date not recorded
    ],
)
def test_response_due_with_a_longer_period(agreed_on: date | None, due: date) -> None:
    assert response_due(RECEIVED, LONGER, agreed_on) == due


def test_response_due_without_a_longer_period() -> None:
    assert response_due(RECEIVED) == date(2026, 7, 14)


def test_a_shorter_agreed_period_does_not_shorten_the_statutory_one() -> None:
    assert response_due(RECEIVED, date(2026, 5, 1), date(2026, 2, 1)) == date(2026, 7, 14)


def test_longer_period_counts() -> None:
    assert longer_period_counts(RECEIVED, date(2026, 7, 14))
    assert not longer_period_counts(RECEIVED, date(2026, 7, 15))


# --- time limit for complaining -----------------------------------------------------------------


def test_time_limit_within() -> None:
    check = time_limit_check(date(2026, 3, 10), date(2025, 3, 10), None)
    assert check.within is True
    assert check.limit_on == date(2026, 3, 10)


def test_time_limit_outside_needs_a_decision_not_a_rejection() -> None:
    check = time_limit_check(date(2026, 3, 11), date(2025, 3, 10), None)
    assert check.within is False
    assert check.limit_on == date(2026, 3, 10)
    assert "handler decides" in check.reason


def test_time_limit_runs_from_awareness_when_later() -> None:
    check = time_limit_check(date(2026, 9, 1), date(2024, 1, 5), date(2025, 10, 1))
    assert check == TimeLimitCheck(within=True, limit_on=date(2026, 10, 1), reason=check.reason)
    assert "aware" in check.reason


def test_time_limit_runs_from_the_events_when_awareness_is_earlier() -> None:
    check = time_limit_check(date(2026, 9, 1), date(2025, 10, 1), date(2025, 9, 1))
    assert check.limit_on == date(2026, 10, 1)
    assert "aware" not in check.reason


def test_time_limit_from_awareness_alone() -> None:
    check = time_limit_check(date(2026, 9, 1), None, date(2025, 8, 1))
    assert check.within is False
    assert check.limit_on == date(2026, 8, 1)


def test_time_limit_clamps_29_february() -> None:
    assert time_limit_check(date(2025, 3, 1), date(2024, 2, 29), None).limit_on == date(2025, 2, 28)


def test_time_limit_unknown_dates() -> None:
    check = time_limit_check(date(2026, 3, 11), None, None)
    assert check.within is None
    assert check.limit_on is None
    assert check.reason == "The date of the events is not known: a handler decides."


# --- reminders ----------------------------------------------------------------------------------


def test_reminder_dates_sorted_and_deduplicated() -> None:
    target = date(2026, 4, 9)  # Thu after Easter
    assert reminder_dates(target, [0, 3, 1, 3]) == [
        date(2026, 4, 2),
        date(2026, 4, 8),
        date(2026, 4, 9),
    ]


def test_reminder_on_the_day_of_a_non_working_target_is_the_working_day_before() -> None:
    assert reminder_dates(date(2026, 4, 4), [0, 1]) == [date(2026, 4, 2)]


def test_reminder_offsets_after_the_target_are_refused() -> None:
    with pytest.raises(ValueError):
        reminder_dates(date(2026, 4, 9), [-1])


# --- properties ---------------------------------------------------------------------------------


@given(day=DAYS, hour=st.integers(0, 23), minute=st.integers(0, 59))
def test_acknowledgement_is_exactly_three_working_days_after_receipt(
    day: date, hour: int, minute: int
) -> None:
    received_at = datetime(day.year, day.month, day.day, hour, minute, tzinfo=LONDON)
    due = acknowledgement_due(received_at)
    assert is_working_day(due)
    assert working_days_between(day, due) == 3
    assert working_days_between(day, due - timedelta(days=1)) == 2


@given(day=DAYS, n=st.integers(-30, 30))
def test_add_then_count_round_trips(day: date, n: int) -> None:
    result = add_working_days(day, n)
    assert working_days_between(day, result) == n
    if n != 0:
        assert is_working_day(result)
        assert (result > day) == (n > 0)


@given(start=DAYS, end=DAYS)
def test_counting_forwards_matches_a_plain_count(start: date, end: date) -> None:
    if end < start:
        start, end = end, start
    span = (start + timedelta(days=i) for i in range(1, (end - start).days + 1))
    assert working_days_between(start, end) == sum(is_working_day(d) for d in span)


@given(day=DAYS)
def test_six_month_point_is_after_receipt_and_within_six_months(day: date) -> None:
    point = six_month_point(day)
    assert day < point
    assert 180 <= (point - day).days <= 183
    following = point + timedelta(days=1)
    months_on = (following.year - day.year) * 12 + following.month - day.month
    if following.day == day.day:  # the period ends the day before the corresponding date
        assert months_on == 6
    else:  # no corresponding date: the period runs to the end of the sixth month on
        assert months_on == 7 and following.day == 1
        assert point.day < day.day


@given(target=DAYS, offsets=st.lists(st.integers(0, 60), max_size=6))
def test_reminders_are_working_days_on_or_before_the_target(
    target: date, offsets: list[int]
) -> None:
    days = reminder_dates(target, offsets)
    assert days == sorted(set(days))
    assert all(is_working_day(d) and d <= target for d in days)
