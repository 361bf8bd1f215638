"""Working days and complaint deadlines for England.

Every date the assistant promises a person or chases an organisation about comes from here, so the
rules follow the Local Authority Social Services and National Health Service Complaints (England)
Regulations 2009:

- reg 2: a *working day* is any day except Saturday, Sunday, Christmas Day, Good Friday or a bank
  holiday in England under the Banking and Financial Dealings Act 1971. That includes substitute
  days and one-off proclaimed days (19 Sep 2022, 8 May 2023), which the ``holidays`` package knows
  offline; one-offs proclaimed after the installed release need a package upgrade.
- reg 13: the complaint is acknowledged no later than 3 working days after the day it is received.
  "The day" is the London calendar day on which it reached us, whatever time zone the timestamp
  carries, and weekend receipt needs no special case: the day of receipt never counts.
- reg 8 with reg 13: an oral complaint resolved to the person's satisfaction by the end of the next
  working day may be closed without the formal process.
- reg 14: the response is due within 6 months beginning on the day of receipt, or a longer period
  agreed before those 6 months run out.
- reg 12: a complaint should be made within 12 months of the events or, if later, of the person
  becoming aware of them. The limit is waivable, so this module only ever *reports*: a handler
  decides, and nothing here rejects a complaint.

Scottish and Welsh timescales (5/20 and 2/30 working days) are deliberately absent: they are not
England's, and having them to hand invites using the wrong one.

Pure functions only: no clock, no I/O. Callers pass the receipt time they recorded.
"""

from __future__ import annotations

import calendar as _cal
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays

__all__ = [
    "LONDON",
    "TimeLimitCheck",
    "acknowledgement_due",
    "add_working_days",
    "end_of_next_working_day",
    "is_working_day",
    "london_date",
    "longer_period_counts",
    "next_working_day",
    "reminder_dates",
    "response_due",
    "retention_review_on",
    "six_month_point",
    "time_limit_check",
    "working_days_between",
]

LONDON = ZoneInfo("Europe/London")

ACKNOWLEDGEMENT_WORKING_DAYS = 3
RESPONSE_MONTHS = 6
TIME_LIMIT_MONTHS = 12

_ONE_DAY = timedelta(days=1)
# One calendar for the whole process; it fills in years lazily as they are asked about.
_ENGLAND_HOLIDAYS = holidays.country_holidays("GB", subdiv="ENG")


def london_date(at: datetime) -> date:
    """The London calendar date of an aware moment; a naive one is refused, not guessed."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"naive datetime {at.isoformat()} has no time zone; cannot place it")
    return at.astimezone(LONDON).date()


# Bounded, yet large enough for every date of a few decades of cases to stay cached.
@functools.lru_cache(maxsize=1 << 15)
def is_working_day(day: date) -> bool:
    """Not a weekend and not an England bank holiday (Christmas Day and Good Friday included)."""
    return day.weekday() < 5 and day not in _ENGLAND_HOLIDAYS


def next_working_day(day: date) -> date:
    """The first working day strictly after ``day``."""
    return add_working_days(day, 1)


def add_working_days(day: date, n: int) -> date:
    """The ``n``-th working day after ``day`` (before it if ``n`` is negative).

    ``day`` itself never counts, so ``n == 0`` returns ``day`` unchanged, working day or not.
    """
    step = _ONE_DAY if n > 0 else -_ONE_DAY
    remaining = abs(n)
    current = day
    while remaining:
        current += step
        if is_working_day(current):
            remaining -= 1
    return current


def working_days_between(start: date, end: date) -> int:
    """How many working days one walks through going from ``start`` to ``end``.

    ``start`` never counts and ``end`` does: forwards that is the working days in (start, end];
    backwards, minus the working days in [end, start). This mirrors :func:`add_working_days`, so
    ``working_days_between(d, add_working_days(d, n)) == n`` for every ``d`` and ``n``.
    """
    if end == start:
        return 0
    sign = 1 if end > start else -1
    step = _ONE_DAY * sign
    count = 0
    current = start
    while current != end:
        current += step
        if is_working_day(current):
            count += 1
    return sign * count


def acknowledgement_due(received_at: datetime) -> date:
    """The last day to acknowledge: the 3rd working day after the London day of receipt."""
    return add_working_days(london_date(received_at), ACKNOWLEDGEMENT_WORKING_DAYS)


def end_of_next_working_day(received_at: datetime) -> date:
    """By the end of this day an oral complaint resolved to satisfaction may skip the process."""
    return next_working_day(london_date(received_at))


def _add_months_clamped(day: date, months: int) -> tuple[date, bool]:
    """The corresponding date ``months`` on and whether it exists; if not, that month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    last = _cal.monthrange(year, month)[1]
    if day.day <= last:
        return date(year, month, day.day), True
    return date(year, month, last), False


RETENTION_YEARS = 10


def retention_review_on(closed_on: date) -> date:
    """When a closed complaint file is due for review (and destruction): 10 years after closure
    (NHS Records Management Code of Practice). 29 February closures review on 28 February."""
    return _add_months_clamped(closed_on, RETENTION_YEARS * 12)[0]


def six_month_point(received_on: date) -> date:
    """The last day of "6 months beginning on the day of receipt".

    The day before the corresponding date 6 months later; when that month has no corresponding
    date (received 29-31 Aug: there is no 30 Feb), the period runs to the month's last day.
    """
    corresponding, exists = _add_months_clamped(received_on, RESPONSE_MONTHS)
    return corresponding - _ONE_DAY if exists else corresponding


def longer_period_counts(received_on: date, agreed_on: date) -> bool:
    """A longer response period counts only if agreed on or before the six-month point."""
    return agreed_on <= six_month_point(received_on)


def response_due(received_on: date, longer_until: date | None = None, agreed_on: date | None = None) -> date:
    """The six-month point, or a longer period if one was agreed in time.

    A longer period with no agreement date recorded does not count: the regulations need the
    agreement to precede the end of the six months, and an unknown date cannot show that.
    """
    point = six_month_point(received_on)
    if (
        longer_until is not None
        and agreed_on is not None
        and longer_until > point
        and longer_period_counts(received_on, agreed_on)
    ):
        return longer_until
    return point


@dataclass(frozen=True)
class TimeLimitCheck:
    """Whether a complaint came within the 12-month limit; ``None`` means a handler must judge."""

    within: bool | None
    limit_on: date | None
    reason: str


def time_limit_check(received_on: date, happened_on: date | None, aware_on: date | None) -> TimeLimitCheck:
    """Compare receipt with 12 months from the events or, if later, from awareness of them.

    Never rejects: a complaint outside the limit may still be considered if there is good reason
    and a fair investigation is possible, so ``within=False`` asks for a handler's decision.
    """
    known = [d for d in (happened_on, aware_on) if d is not None]
    if not known:
        return TimeLimitCheck(
            within=None,
            limit_on=None,
            reason="The date of the events is not known: a handler decides.",
        )
    start = max(known)
    from_awareness = aware_on is not None and (happened_on is None or aware_on > happened_on)
    limit_on, _ = _add_months_clamped(start, TIME_LIMIT_MONTHS)
    basis = "the person became aware" if from_awareness else "the events"
    when = f"{TIME_LIMIT_MONTHS} months from when {basis} ({start.isoformat()})"
    if received_on <= limit_on:
        return TimeLimitCheck(
            within=True,
            limit_on=limit_on,
            reason=f"Received within {when}, limit {limit_on.isoformat()}.",
        )
    return TimeLimitCheck(
        within=False,
        limit_on=limit_on,
        reason=(
            f"Received after {when}, limit {limit_on.isoformat()}: a handler decides whether "
            "there is good reason and a fair investigation is still possible."
        ),
    )


def reminder_dates(target: date, offsets: Sequence[int]) -> list[date]:
    """Working days to remind on: each offset is working days before ``target``, 0 = on the day.

    Every reminder falls on a working day, so "on the day" for a target that is not a working day
    means the last working day before it. Negative offsets (after the target) are refused.
    """
    days: set[date] = set()
    for offset in offsets:
        if offset < 0:
            raise ValueError(f"reminder offset {offset} is after the target; offsets count back")
        if offset == 0:
            days.add(target if is_working_day(target) else add_working_days(target, -1))
        else:
            days.add(add_working_days(target, -offset))
    return sorted(days)
