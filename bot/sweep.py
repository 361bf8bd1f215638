"""The sweep: `flows.due` over the open cases, turning the reminders due into one `SendReminders`
per case, whose events, effects and reminder keys are written together.

A store key per reminder means a restart, a double tick or a clock jump never sends one twice,
and a reminder missed while the assistant was down is sent once, marked late. To stay cheap with
tens of thousands of open cases, the sweep remembers for each case the version it last looked at
and the next day anything can fall due (`flows.due.next_check`): a case is loaded again only when
it changed or that day has come. That memory is kept in a store cursor, so a restart does not
have to look at every case again; it is only a cache (a stale entry makes the sweep look sooner,
never later), and it is dropped when the configured clocks change.
"""

from __future__ import annotations

import logging
from datetime import date, datetime

from bot.config import Config
from bot.directory import system_actor
from bot.service import CaseService
from flows.commands import SendReminders
from flows.due import Policy, due, next_check, reminder_day
from flows.evolve import fold

log = logging.getLogger("jointly.sweep")
CURSOR = "sweep"


def policy(config: Config) -> Policy:
    clocks = config.clocks
    return Policy(
        offsets=clocks.reminder_offsets_working_days,
        overdue_every=clocks.overdue_every_working_days,
        lead_not_agreed_after=clocks.impasse_lead_not_agreed_after_working_days,
        contribution_late_after=clocks.impasse_contribution_overdue_working_days,
        start_hour=clocks.reminders_from_hour,
    )


class Sweep:
    def __init__(self, config: Config, service: CaseService) -> None:
        self.config = config
        self.service = service
        self.policy = policy(config)
        saved = service.store.get_cursor(CURSOR) or {}
        self._looked: dict[str, tuple[int, date | None]] = {}  # ref -> (version, next day to look)
        if saved.get("policy") == repr(self.policy):
            self._looked = {
                ref: (version, date.fromisoformat(day) if day else None)
                for ref, (version, day) in saved.get("looked", {}).items()
            }

    def run(self, now: datetime) -> int:
        """Send what is due at `now` on every open case; returns how many reminders were sent."""
        day = reminder_day(now, self.policy)
        sent = 0
        changed = False
        for summary in self.service.store.summaries():
            ref = summary.stream
            if not summary.summary.get("open") or not ref.startswith("JC-"):
                changed = self._looked.pop(ref, None) is not None or changed  # closed: forget it
                continue
            looked = self._looked.get(ref)
            if looked is not None and looked[0] == summary.version and (looked[1] is None or looked[1] > day):
                continue
            try:
                sent += self._case(ref, now, day)
            except Exception:  # one case failing never holds up the others; it is tried next time
                log.exception("%s: the sweep could not look at this case", ref, extra={"ref": ref})
            changed = True
        if changed:
            self._remember()
        return sent

    def _remember(self) -> None:
        looked = {
            ref: [version, day.isoformat() if day else None] for ref, (version, day) in self._looked.items()
        }
        self.service.store.set_cursor(CURSOR, {"policy": repr(self.policy), "looked": looked})

    def _case(self, ref: str, now: datetime, day: date) -> int:
        case = self.service.load(ref)
        store = self.service.store
        reminders = tuple(r for r in due(case, now, self.policy) if not store.has_key(r.key))
        if reminders:
            command = SendReminders(actor=system_actor(self.config), reminders=reminders)
            decision = self.service.execute(ref, command, now, keys=[r.key for r in reminders])
            case = fold(case, decision.events)
            late = sum(r.late for r in reminders)
            log.info("%s: %d reminder(s) sent, %d late", ref, len(reminders), late, extra={"ref": ref})
        self._looked[ref] = (case.version, next_check(case, day, self.policy))
        return len(reminders)
