"""The sweep: `flows.due` over the open cases, turning the reminders due into one `SendReminders`
per case, whose events, effects and reminder keys are written together.

A store key per reminder means a restart, a double tick or a clock jump never sends one twice,
and a reminder missed while the assistant was down is sent once, marked late. To stay cheap with
tens of thousands of open cases, the sweep remembers for each case the version it last looked at
and the next day anything can fall due (`flows.due.next_check`): a case is loaded again only when
it changed (the case service says which cases it wrote) or that day has come. That memory is kept
in a store cursor, so a restart does not have to load every case again; it is only a cache (an
entry older than its case's version is simply looked at again), and it is dropped when the
configured clocks change.
"""

from __future__ import annotations

import heapq
import logging
import time
from collections.abc import Callable
from datetime import date, datetime

from bot.config import Config
from bot.directory import system_actor
from bot.service import CaseService
from flows.commands import SendReminders
from flows.due import Policy, due, next_check, reminder_day

log = logging.getLogger("jointly.sweep")
CURSOR = "sweep"
SAVE_EVERY_SECONDS = 300


def policy(config: Config) -> Policy:
    clocks = config.clocks
    return Policy(
        offsets=clocks.reminder_offsets_working_days,
        overdue_every=clocks.overdue_every_working_days,
        overdue_reminders=clocks.overdue_reminders,
        lead_not_agreed_after=clocks.impasse_lead_not_agreed_after_working_days,
        contribution_late_after=clocks.impasse_contribution_overdue_working_days,
        start_hour=clocks.reminders_from_hour,
    )


class Sweep:
    def __init__(
        self, config: Config, service: CaseService, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.config = config
        self.service = service
        self.policy = policy(config)
        self.clock = clock  # only for how often the memory is saved
        saved = service.store.get_cursor(CURSOR) or {}
        self._looked: dict[str, tuple[int, date | None]] = {}  # ref -> (version, next day to look)
        if saved.get("policy") == repr(self.policy):
            self._looked = {
                ref: (version, date.fromisoformat(day) if day else None)
                for ref, (version, day) in saved.get("looked", {}).items()
            }
        self._changes = service.feed()
        self._days: list[tuple[date, str]] = []  # (next day to look, ref), earliest first
        self._primed = False
        self._saved_at: float | None = None

    def run(self, now: datetime) -> int:
        """Send what is due at `now` on every open case; returns how many reminders were sent.

        The first run looks over every case; later ones only at the cases written since (the case
        service's change feed) and those whose day has come (a heap by day), so a minute's sweep
        costs the same with 1,000 open cases as with 50,000."""
        day = reminder_day(now, self.policy)
        changed = self._changes()
        if self._primed:
            refs = changed | self._come(day)
        else:
            refs = {s.stream for s in self.service.store.summaries() if s.stream.startswith("JC-")}
            self._primed = True
        sent = 0
        for ref in sorted(refs):
            try:
                sent += self._look(ref, now, day)
            except Exception:  # one case failing never holds up the others; it is tried next time
                log.exception("%s: the sweep could not look at this case", ref, extra={"ref": ref})
        if refs:
            self._remember()
        return sent

    def _come(self, day: date) -> set[str]:
        """The cases whose next day to look has come (entries since overtaken are dropped)."""
        come = set()
        while self._days and self._days[0][0] <= day:
            when, ref = heapq.heappop(self._days)
            looked = self._looked.get(ref)
            if looked is not None and looked[1] == when:
                come.add(ref)
        return come

    def _look(self, ref: str, now: datetime, day: date) -> int:
        summary = self.service.store.summary(ref)
        if summary is None or not summary.summary.get("open"):
            self._looked.pop(ref, None)  # closed: nothing more to remind
            return 0
        looked = self._looked.get(ref)
        if looked is not None and looked[0] == summary.version and (looked[1] is None or looked[1] > day):
            self._schedule(ref, looked[1])  # unchanged since last time (a restart): wait for its day
            return 0
        return self._case(ref, now, day)

    def _case(self, ref: str, now: datetime, day: date) -> int:
        case = self.service.load(ref)
        store = self.service.store
        reminders = tuple(r for r in due(case, now, self.policy) if not store.has_key(r.key))
        if reminders:
            command = SendReminders(actor=system_actor(self.config), reminders=reminders)
            decision = self.service.execute(ref, command, now, keys=[r.key for r in reminders])
            case = decision.after
            late = sum(r.late for r in reminders)
            log.info("%s: %d reminder(s) sent, %d late", ref, len(reminders), late, extra={"ref": ref})
        self._looked[ref] = (case.version, next_check(case, day, self.policy))
        self._schedule(ref, self._looked[ref][1])
        return len(reminders)

    def _schedule(self, ref: str, when: date | None) -> None:
        if when is not None:
            heapq.heappush(self._days, (when, ref))

    def _remember(self) -> None:
        """Save what the sweep knows, at most every few minutes: it is a cache, so a restart that
        finds it a little behind only looks at a few cases again."""
        if self._saved_at is not None and self.clock() - self._saved_at < SAVE_EVERY_SECONDS:
            return
        looked = {
            ref: [version, day.isoformat() if day else None] for ref, (version, day) in self._looked.items()
        }
        self.service.store.set_cursor(CURSOR, {"policy": repr(self.policy), "looked": looked})
        self._saved_at = self.clock()
