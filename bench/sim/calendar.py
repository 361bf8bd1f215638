"""The oracle's own working-day calendar for England, independent of `flows.calendar`.

A working day is not a Saturday, Sunday, Christmas Day, Good Friday or a bank holiday in England
(substitute days and one-off proclaimed days included), as the `holidays` package lists them for
``country_holidays("GB", subdiv="ENG")``. Dates are London calendar dates (Europe/London).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

LONDON = ZoneInfo("Europe/London")
_DAY = timedelta(days=1)


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> frozenset[date]:
    listed = holidays.country_holidays("GB", subdiv="ENG", years=year)
    return frozenset(day for day in listed if day.year == year)


def bank_holidays(year: int) -> frozenset[date]:
    """England's bank holidays (with Christmas Day and Good Friday) in `year`."""
    return _bank_holidays(year)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def add_working_days(day: date, n: int) -> date:
    """The `n`-th working day after `day` (before it for negative `n`); `day` itself never counts,
    so `n == 0` gives `day` back as it is."""
    step = _DAY if n >= 0 else -_DAY
    current, left = day, abs(n)
    while left:
        current += step
        if is_working_day(current):
            left -= 1
    return current


def working_days_between(start: date, end: date) -> int:
    """The working days in (start, end] going forwards; minus those in [end, start) backwards."""
    if end == start:
        return 0
    if end < start:
        return -_count(end - _DAY, start - _DAY)
    return _count(start, end)


def _count(start: date, end: date) -> int:
    """Working days in (start, end], start < end."""
    count, current = 0, start
    while current < end:
        current += _DAY
        if is_working_day(current):
            count += 1
    return count


def working_day_on_or_before(day: date) -> date:
    while not is_working_day(day):
        day -= _DAY
    return day


def london(moment: datetime) -> datetime:
    """`moment` in London time (a naive moment is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(LONDON)


def london_date(moment: datetime) -> date:
    return london(moment).date()


def london_at(day: date, hour: int, minute: int = 0) -> datetime:
    """The moment `hour`:`minute` London time on `day`, aware (UTC)."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LONDON).astimezone(UTC)
