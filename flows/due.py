"""`due(case, now, policy)`: the reminders a case needs at `now`. Pure: time is an argument.

Every clock on a case is a *schedule*: the working days on which someone is reminded about a date.
For a date D the schedule is the configured offsets before it (default 5 and 1 working days), D
itself, then every `overdue_every` working days after it until the thing is done. An
organisation's overdue reminders have an end to that pace: after `overdue_reminders` of them
(default 3) they go weekly, copied to its escalation contact, and a clock of its own tells the
lead's handlers once and suggests an impasse (`COMMENTS_LATE`, `ACTION_LATE`; a contribution has
`CONTRIBUTION_LATE`, at its own configured point). At `now`, the one reminder due per schedule
is its latest step on or before today, so a sweep after a week of downtime sends one reminder,
marked late, rather than the whole missed series.

Each reminder's key names the case, the clock, what it is about, the date and the step, so the
store refuses a second send whatever the restarts, double ticks or clock jumps. The case also
remembers the latest step sent per schedule (`Case.reminded`), so a clock that jumps backwards
never revives a step already overtaken. A renegotiated date starts a new schedule.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flows.calendar import (
    LONDON,
    acknowledgement_due,
    add_working_days,
    london_date,
    reminder_dates,
    response_due,
    working_days_between,
)
from flows.model import Case, Reminder, ReminderKind, Status

K = ReminderKind
WEEK = 5  # working days between an organisation's reminders once they slow
_LATE = {K.COMMENTS: K.COMMENTS_LATE, K.ACTION: K.ACTION_LATE}  # the handlers told when they slow
_PLAN_STAGES = frozenset({Status.PLANNING, Status.INVESTIGATING})
_BEFORE_RESPONSE = (
    frozenset({Status.RECEIVED, Status.AWAITING_CONSENT, Status.AGREEING_LEAD, Status.NAMING_CONTACT})
    | _PLAN_STAGES
    | {Status.DRAFTING}
)


@dataclass(frozen=True)
class Policy:
    """The configurable clocks (`[clocks]` in the configuration), in working days."""

    offsets: tuple[int, ...] = (5, 1, 0)
    overdue_every: int = 2
    overdue_reminders: int = 3  # an organisation's, at `overdue_every`; then weekly
    lead_not_agreed_after: int = 10
    contribution_late_after: int = 10
    start_hour: int = 8  # reminders of a day go out from this hour, London time, not at midnight


@dataclass(frozen=True)
class Clock:
    """One schedule: `kind` about `subject` for `org_id`, counting to `target`."""

    kind: ReminderKind
    target: date
    subject: str = ""
    org_id: str = ""
    before: bool = True  # remind ahead of the date, or only once it has come
    repeat: bool = True  # keep reminding after the date
    quiet_until: date | None = None  # snoozed: nothing up to and including this day
    on_track_on: date | None = None  # reported on track: nothing more ahead of the date
    about: date | None = None  # the date reminders name, when the clock counts to a later one

    @property
    def slows(self) -> bool:
        """An organisation's reminders after the date slow to weekly; the handlers' own do not."""
        return self.repeat and bool(self.org_id)

    @property
    def due(self) -> date:
        """The date a reminder names: the deadline it is about, never the day it is sent."""
        return self.about or self.target

    @property
    def name(self) -> str:
        return f"{self.kind.value}/{self.subject or self.org_id or 'handlers'}/{self.target.isoformat()}"


def due(case: Case, now: datetime, policy: Policy) -> list[Reminder]:
    """The reminders `case` needs at `now`, one at most per clock, oldest first."""
    today = reminder_day(now, policy)
    found = []
    for clock in clocks(case, policy):
        step = _latest_step(clock, today, policy)
        if step is None:
            continue
        on, label = step
        last = case.reminded.get(clock.name)
        if last is not None and on <= last:
            continue  # sent already, or overtaken by a later step
        if clock.quiet_until is not None and on <= clock.quiet_until:
            continue  # snoozed: the steps up to its end are skipped, not sent late afterwards
        if clock.on_track_on is not None and clock.on_track_on <= on < clock.target:
            continue  # reported on track: no more reminders ahead of the date (on the day, one)
        found.append(
            Reminder(
                key=f"{case.ref}/remind/{clock.name}/{label}",
                kind=clock.kind,
                schedule=clock.name,
                on=on,
                subject=clock.subject,
                org_id=clock.org_id,
                late=on < today,
                overdue=max(0, working_days_between(clock.due, today)),
                due=clock.due,
                weekly=clock.slows and on >= slowed_on(clock.target, policy),
            )
        )
    return sorted(found, key=lambda r: (r.on, r.key))


def reminder_day(now: datetime, policy: Policy) -> date:
    """The day whose reminders are due at `now`: before the start hour, still the day before."""
    local = now.astimezone(LONDON)
    return local.date() if local.hour >= policy.start_hour else london_date(now) - timedelta(days=1)


def next_check(case: Case, today: date, policy: Policy) -> date | None:
    """The first day after `today` on which `due` may find something new (None: nothing ahead).

    Safe to wait for: a change to the case may bring a clock nearer, so callers check again
    whenever the case changes."""
    days = [d for clock in clocks(case, policy) for d in _steps_after(clock, today, policy)]
    return min(days, default=None)


def clocks(case: Case, policy: Policy) -> Iterator[Clock]:
    """Every schedule running on the case now: each organisation's overdue item with the clock
    that tells the lead's handlers when its reminders slow."""
    for clock in _clocks(case, policy):
        yield clock
        late, owner = _LATE.get(clock.kind), clock.org_id
        if late and owner != case.coordinator and case.consent_active(owner) and not _impasse_open(case):
            target = slowed_on(clock.target, policy)
            yield Clock(late, target, clock.subject, before=False, repeat=False, about=clock.due)


def slowed_on(target: date, policy: Policy) -> date:
    """The day of the first weekly reminder about an organisation's item due on `target`."""
    return add_working_days(target, policy.overdue_every * policy.overdue_reminders + WEEK)


def _clocks(case: Case, policy: Policy) -> Iterator[Clock]:
    status = case.status
    if case.received_at is None or status is Status.CLOSED:
        return
    if case.acknowledged_at is None:
        yield Clock(K.ACKNOWLEDGEMENT, acknowledgement_due(case.received), before=False)
    if status in _BEFORE_RESPONSE and case.partial_response_at is None:  # a partial response is one
        point = response_due(case.received_on, case.longer_period_until, case.longer_period_agreed_on)
        if case.delay_letter_at is None:
            yield Clock(K.SIX_MONTHS, point)
        if case.response_period is not None:
            yield Clock(K.RESPONSE_PERIOD, case.response_period.due)
        update = update_due(case)
        if update is not None and status is not Status.RECEIVED:
            yield Clock(K.UPDATE, update, before=False)
    proposal = case.proposal
    if status is Status.AGREEING_LEAD and proposal is not None and not _impasse_open(case):
        start = add_working_days(london_date(proposal.at), policy.lead_not_agreed_after)
        yield Clock(K.LEAD_NOT_AGREED, start, before=False, repeat=False)
    if status in _PLAN_STAGES:
        for strand in case.strands.values():
            if strand.contribution is not None or strand.org_id not in case.involved:
                continue  # done, or its organisation left the joint handling (consent withdrawn)
            yield Clock(
                K.CONTRIBUTION,
                strand.target,
                subject=strand.id,
                org_id=strand.org_id,
                quiet_until=strand.snoozed_until,
                on_track_on=london_date(strand.on_track_at) if strand.on_track_at else None,
            )
            for day in strand.update_times:
                yield Clock(
                    K.MILESTONE, day, subject=strand.id, org_id=strand.org_id, before=False, repeat=False
                )
            if not _impasse_open(case):
                late = add_working_days(strand.target, policy.contribution_late_after)
                yield Clock(
                    K.CONTRIBUTION_LATE, late, strand.id, before=False, repeat=False, about=strand.target
                )
    draft = case.draft
    if status is Status.DRAFTING and draft is not None and draft.comment_by is not None:
        for org_id in case.involved:
            if org_id != case.coordinator and org_id not in draft.signed_off:
                yield Clock(K.COMMENTS, draft.comment_by, subject=org_id, org_id=org_id)
    for action in case.actions.values():
        if action.completed_at is None:
            yield Clock(
                K.ACTION,
                action.due,
                subject=action.id,
                org_id=action.owner_org,
                quiet_until=action.snoozed_until,
            )
    impasse = case.impasse
    if impasse is not None and impasse.resolved_at is None and case.partial_response_at is None:
        day_after = add_working_days(impasse.resolve_by, 1)
        yield Clock(K.IMPASSE_DUE, day_after, before=False, about=impasse.resolve_by)


def update_due(case: Case) -> date | None:
    """When the person's next update letter is due: the agreed frequency after the last one (or
    after the named contact was set, the first letter that promised updates)."""
    if case.update_every is None:
        return None
    last = max((*case.updates_sent, case.named_contact.set_at if case.named_contact else case.received))
    return add_working_days(london_date(last), case.update_every)


def _impasse_open(case: Case) -> bool:
    return case.impasse is not None and case.impasse.resolved_at is None


def _latest_step(clock: Clock, today: date, policy: Policy) -> tuple[date, str] | None:
    """The latest step of `clock`'s schedule on or before `today`, with its label. Steps fall on
    working days: "on the day" of a date at a weekend is the working day before it."""
    on_the_day = reminder_dates(clock.target, (0,))[0]
    if today >= on_the_day:
        steps = _overdue_steps(clock, today, policy)[0] if clock.repeat else 0
        if steps == 0:
            return on_the_day, "0"
        return add_working_days(clock.target, steps), f"+{steps}"
    if not clock.before:
        return None
    ahead = [(d, f"-{o}") for o, d in _before(clock.target, policy) if d <= today]
    return max(ahead) if ahead else None


def _steps_after(clock: Clock, today: date, policy: Policy) -> list[date]:
    on_the_day = reminder_dates(clock.target, (0,))[0]
    if on_the_day > today:
        ahead = [d for _, d in _before(clock.target, policy) if d > today] if clock.before else []
        return [*ahead, on_the_day]
    if not clock.repeat:
        return []
    return [add_working_days(clock.target, _overdue_steps(clock, today, policy)[1])]


def _overdue_steps(clock: Clock, today: date, policy: Policy) -> tuple[int, int]:
    """The overdue steps around `today`, in working days after the date: the latest on or before it
    (0: none yet) and the next. Every `overdue_every`; an organisation's go weekly after
    `overdue_reminders` of those."""
    passed = max(0, working_days_between(clock.target, today))
    fast = policy.overdue_every * policy.overdue_reminders
    every, start = (WEEK, fast) if clock.slows and passed >= fast else (policy.overdue_every, 0)
    latest = start + (passed - start) // every * every
    return latest, latest + every


def _before(target: date, policy: Policy) -> list[tuple[int, date]]:
    """(offset, day) for each reminder ahead of `target` (offsets above 0; "on the day" is apart)."""
    return [(o, reminder_dates(target, (o,))[0]) for o in policy.offsets if o > 0]
