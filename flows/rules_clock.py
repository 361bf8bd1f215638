"""Rules for what the clock brings: reminders found due by the sweep, snoozing them, a
contributor's "on track", and update letters to the person.

A reminder to another organisation carries the case reference, what is due and when: no
personal details. It goes to that organisation's contacts (in chat when they are there, by email
otherwise: the effect runner knows who is where), and once the date has passed, to its complaints
inbox as well; once those letters go weekly (`flows.due`), copied to its escalation contact, who is
of the same organisation, so the consent and disclosure on record for it cover the copy. An
organisation whose consent was withdrawn hears nothing more.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Any

from flows import commands as c
from flows import events as ev
from flows.calendar import add_working_days, response_due
from flows.errors import Forbidden, InvalidCommand
from flows.model import Case, Reminder, ReminderKind, Role, Status
from flows.rules import (
    Out,
    Rule,
    correspondent,
    letterhead,
    long_date,
    organisation,
    require_coordinator,
    require_for_org,
    require_not_past,
    require_text,
    strand_of,
    today,
)

K = ReminderKind
TO_ORGANISATION = frozenset({K.CONTRIBUTION, K.MILESTONE, K.ACTION, K.COMMENTS})


def send_reminders(case: Case, cmd: c.SendReminders, now: datetime) -> Out:
    if Role.SYSTEM not in cmd.actor.roles:
        raise Forbidden("reminders are sent by the assistant's own clock", actor=cmd.actor.id)
    out = Out(case, cmd.actor.id, now)
    for reminder in cmd.reminders:
        about = _about(case, reminder)
        context: dict[str, Any] = {
            "subject": reminder.subject,
            "about": about,
            "due": long_date(reminder.due or reminder.on),  # the date it is about, not today's
            "late": reminder.late,
            "overdue": reminder.overdue,
            "organisation": _owner(case, reminder),
        }
        out.event(ev.ReminderSent, reminder=reminder)
        message = f"reminder_{reminder.kind.value}"
        if reminder.kind not in TO_ORGANISATION:
            out.notify(message, tag=f"/{reminder.schedule}", **context)
            continue
        org_id = reminder.org_id
        if not case.consent_active(org_id):
            continue  # consent withdrawn: that organisation hears nothing more of the case
        out.notify(message, audience=f"contacts:{org_id}", tag=f"/{reminder.schedule}", **context)
        if reminder.overdue > 0 and org_id != case.coordinator:  # its complaints inbox hears too
            _overdue_letter(out, reminder, about, context["due"])
    return out


def _overdue_letter(out: Out, reminder: Reminder, about: str, due: str) -> None:
    """The letter to an organisation's complaints inbox, copied to its escalation contact once
    the reminders go weekly."""
    case, org = out.case, out.case.orgs[reminder.org_id]
    copied = org.escalation_email if reminder.weekly else ""
    out.letter(
        "reminder_overdue",
        replace(organisation(case, org.id), cc=copied),
        tag=f"/{reminder.schedule}",
        to_org_name=org.name,
        org_name=case.orgs[case.coordinator].name,
        about=about,
        due=due,
        overdue=reminder.overdue,
        weekly=reminder.weekly,
        copied_to=copied,
    )


def snooze(case: Case, cmd: c.Snooze, now: datetime) -> Out:
    strand, action = case.strands.get(cmd.subject), case.actions.get(cmd.subject)
    if strand is not None:
        org_id, due = strand.org_id, strand.target
    elif action is not None:
        org_id, due = action.owner_org, action.due
    else:
        raise InvalidCommand(f"nothing called {cmd.subject} on this case to snooze", subject=cmd.subject)
    require_for_org(case, cmd.actor, org_id)
    require_not_past(cmd.until, now, "the end of the snooze")
    if cmd.until >= due:
        raise InvalidCommand(
            f"snooze until before the date it is due ({long_date(due)}); to move the date, propose a new one"
        )
    return Out(case, cmd.actor.id, now).event(ev.Snoozed, subject=cmd.subject, until=cmd.until)


def on_track(case: Case, cmd: c.ReportOnTrack, now: datetime) -> Out:
    strand = strand_of(case, cmd.strand_id)
    require_for_org(case, cmd.actor, strand.org_id)
    if strand.contribution is not None:
        raise InvalidCommand(f"the response on {strand.id} is already in")
    return Out(case, cmd.actor.id, now).event(ev.OnTrackReported, strand_id=strand.id)


def progress_update(case: Case, cmd: c.SendProgressUpdate, now: datetime) -> Out:
    require_coordinator(case, cmd.actor)
    require_text(cmd.text, "what to tell the person")
    every = case.update_every
    expected = _expected_by(case, today(now))
    return (
        Out(case, cmd.actor.id, now)
        .event(ev.ProgressUpdateSent, text=cmd.text)
        .letter(
            "progress_update",
            correspondent(case),
            tag=f"/{len(case.updates_sent) + 1}",
            summary_of_progress=cmd.text,
            expected_by=long_date(expected) if expected and case.status is not Status.RESPONDED else "",
            next_update=long_date(add_working_days(today(now), every)) if every else "",
            **letterhead(case),
        )
    )


def _expected_by(case: Case, day: date) -> date | None:
    """When the person was last told to expect the response (the delay letter's date, else the
    response period's, else the law's); None once that date has passed, so no letter promises it again."""
    period = case.response_period.due if case.response_period else None
    statutory = response_due(case.received_on, case.longer_period_until, case.longer_period_agreed_on)
    promised = case.delay_expected_by or period or statutory
    return promised if promised >= day else None


def _owner(case: Case, reminder: Reminder) -> str:
    """The organisation a reminder concerns, by name: the one reminded, or the one a late item is
    owed by (the handlers are told of it); "" for the handlers' own dates."""
    kind, subject, org_id = reminder.kind, reminder.subject, reminder.org_id
    if kind is K.CONTRIBUTION_LATE:
        org_id = case.strands[subject].org_id
    elif kind is K.ACTION_LATE:
        org_id = case.actions[subject].owner_org
    elif kind is K.COMMENTS_LATE:
        org_id = subject
    org = case.orgs.get(org_id)
    return org.name if org else ""


def _about(case: Case, reminder: Reminder) -> str:
    """What a reminder is about, in words with no personal details."""
    kind, subject = reminder.kind, reminder.subject
    if kind in (K.CONTRIBUTION, K.CONTRIBUTION_LATE):
        return f"the response on strand {subject}"
    if kind is K.MILESTONE:
        return f"an update to the lead on strand {subject}"
    if kind in (K.ACTION, K.ACTION_LATE):
        return f"action {subject}"
    if kind in (K.COMMENTS, K.COMMENTS_LATE):
        return "comments on the draft joint response"
    if kind is K.SIX_MONTHS:
        if reminder.due is not None and reminder.due == case.longer_period_until:
            return "the end of the longer response period agreed with the person"
        return "the six-month point"
    return kind.value.replace("_", " ")


CLOCK_RULES: dict[type[c.Command], Rule] = {
    c.SendReminders: send_reminders,
    c.Snooze: snooze,
    c.ReportOnTrack: on_track,
    c.SendProgressUpdate: progress_update,
}
