"""The practice clock: in local mode a new handler can move time forward and rehearse a case, to
the six-month letter if need be, in minutes.

The practice time is the real time plus an offset kept in the store (cursor `practice-clock`), so
it survives a restart and every command reading that store sees the same "now". Moving runs the
assistant's cycle once a day in between, at MORNING (London time), then at the moment moved to:
each reminder goes out on its own working day, as it would have, not all at once at the end.
Weekends and bank holidays need no care here: the sweep knows the working days.

The cursor marks the store as a practice store for good: its records carry invented dates, so it
is refused with a real configuration (an IMAP mailbox, an SMTP outbox or Slack). Time never moves
backwards: the store and its reminder keys assume a clock that only goes forward.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time, timedelta

from bot.config import Config
from bot.terminal import parse_moment
from flows.calendar import LONDON, london_date
from mail.settings import ImapMailbox, SmtpOutbox
from store.ports import CaseStore

CURSOR = "practice-clock"
MORNING = time(9, 0)  # the time of the daily cycle while moving, and of a date given alone
MOST_DAYS = 731  # at most two years at a time: a typo must not run a century of cycles
_STEP = re.compile(r"\+(\d{1,4})([hdw])")
USAGE = "write +3d, +2h, +1w, or a London date and time such as 2027-01-04 09:00 (or 2027-01-04)"


class TimeNotMoved(ValueError):
    """A time to move to that is not one, or not ahead; the message says which."""


def real_parts(config: Config) -> list[str]:
    """What makes `config` a real one (reaching people outside this machine); none for local mode."""
    parts = []
    if isinstance(config.mailbox, ImapMailbox):
        parts.append("an IMAP mailbox")
    if isinstance(config.outbox, SmtpOutbox):
        parts.append("an SMTP outbox")
    if config.chat.kind == "slack":
        parts.append("Slack chat")
    return parts


def is_practice_store(store: CaseStore) -> bool:
    return store.get_cursor(CURSOR) is not None


def refusal(config: Config, store: CaseStore) -> str | None:
    """Why `store` may not be used with `config`: a practice store with a real configuration."""
    parts = real_parts(config)
    if not parts or not is_practice_store(store):
        return None
    return (
        f"the store at {config.store_dir} is a practice store (its clock was moved forward for "
        f"training), and this configuration has {' and '.join(parts)}: practice records must never "
        "reach real people. Use a fresh data folder (--data-dir or service.data_dir) for real work"
    )


def not_local(config: Config, option: str = "the practice clock") -> str:
    return (
        f"{option} is for local mode only (a Maildir inbox, letters written to files, the terminal "
        f"as chat), and this configuration has {' and '.join(real_parts(config))}"
    )


class PracticeClock:
    """An Assistant's `clock`: the real time plus the store's practice offset (none until moved)."""

    def __init__(self, store: CaseStore, real: Callable[[], datetime] | None = None) -> None:
        self.store = store
        self.real = real or (lambda: datetime.now(UTC))
        saved = store.get_cursor(CURSOR)
        self.offset = timedelta(seconds=saved["offset_seconds"]) if saved else timedelta(0)
        self.moved = saved is not None

    def __call__(self) -> datetime:
        return self.real() + self.offset

    def set(self, moment: datetime) -> None:
        """Make it `moment` now, and keep the offset in the store (marking it a practice store)."""
        self.offset = moment - self.real()
        self.moved = True
        self.store.set_cursor(CURSOR, {"offset_seconds": self.offset.total_seconds()})

    async def move(self, target: datetime, cycle: Callable[[], Awaitable[None]]) -> None:
        """Run `cycle` at each morning up to `target`, then at `target`, which must be ahead."""
        now = self()
        if target <= now:
            raise TimeNotMoved(f"time only moves forward: it is already {shown(now)}, after {shown(target)}")
        if target - now > timedelta(days=MOST_DAYS):
            raise TimeNotMoved(f"move at most {MOST_DAYS} days at a time (it is {shown(now)} now)")
        for stop in stops(now, target):
            self.set(stop)
            await cycle()


def stops(start: datetime, end: datetime) -> list[datetime]:
    """Each morning strictly between `start` and `end`, then `end`."""
    mornings = []
    day = london_date(start)
    while day <= london_date(end):
        morning = datetime.combine(day, MORNING, tzinfo=LONDON)
        if start < morning < end:
            mornings.append(morning)
        day += timedelta(days=1)
    return [*mornings, end]


def parse_when(text: str, now: datetime) -> datetime:
    """`+3d`, `+2h`, `+1w` from `now` (days and weeks by the London calendar, so 09:00 stays
    09:00 across a change of the clocks), or a London date and time; a date alone is its MORNING."""
    raw = text.strip()
    if step := _STEP.fullmatch(raw.lower()):
        count, unit = int(step[1]), step[2]
        if unit == "h":
            return now.astimezone(UTC) + timedelta(hours=count)  # real hours, not wall-clock ones
        days = count * 7 if unit == "w" else count
        return _aware(now.astimezone(LONDON).replace(tzinfo=None) + timedelta(days=days))
    try:
        return _aware(datetime.combine(date.fromisoformat(raw), MORNING))
    except ValueError:
        pass
    try:
        return parse_moment(raw)
    except ValueError:
        raise TimeNotMoved(f"{raw!r} is not a time to move to: {USAGE}") from None


def _aware(local: datetime) -> datetime:
    return local.replace(tzinfo=LONDON)


def shown(moment: datetime) -> str:
    return f"{moment.astimezone(LONDON):%a %d %b %Y %H:%M}"


def now_line(moment: datetime) -> str:
    return f"Practice time is now {shown(moment)} (London)."


async def travel(clock: PracticeClock, when: str, cycle: Callable[[], Awaitable[None]]) -> str:
    """Move `clock` to `when` (see `parse_when`), running `cycle` on the way; the line saying so.
    `TimeNotMoved` says what was wrong with `when`."""
    await clock.move(parse_when(when, clock()), cycle)
    return now_line(clock())
