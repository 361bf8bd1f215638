"""A case in full as plain text, for a person at a terminal: what `jointly show` prints and what the
terminal chat's "read the case" choice pages through.

Every text is whole (the complaint, each message received), wrapped to the width asked for; the
dates to meet come from `flows.summary.deadlines`, so this view and the listings never disagree.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable
from datetime import date, datetime

from flows.calendar import LONDON
from flows.model import Case, Message
from flows.summary import deadlines


def case_text(case: Case, today: date, width: int = 80) -> list[str]:
    """The case as lines no longer than `width` (at least 20)."""
    width = max(width, 20)
    lines: list[str] = [f"{case.ref}  {case.status.value}"]
    for section in (_complaint, _messages, _letters, _organisations, _plan):
        lines.extend(section(case, width))
    lines.extend(_waiting(case, today, width))
    return lines


def _complaint(case: Case, width: int) -> list[str]:
    who = ", ".join(p for p in (case.complainant.name, case.complainant.email, case.complainant.phone) if p)
    head = [f"Received {_when(case.received_at)} by {case.channel.value}", f"From: {who or '-'}"]
    if case.subject:
        head.append(f"Subject: {case.subject}")
    return _section("The complaint", width, [*_wrap(head, width, "  "), "", *_body(case.text, width)])


def _messages(case: Case, width: int) -> list[str]:
    lines: list[str] = []
    for n, message in enumerate(case.messages, 1):
        lines.extend([*([""] if n > 1 else []), *message_text(case, message, width, heading=f"{n}. ")])
    return _section(f"Messages received ({len(case.messages)})", width, lines or ["  None yet."])


def message_text(
    case: Case, message: Message, width: int = 80, *, heading: str = "", most: int | None = None
) -> list[str]:
    """One email received: when and from whom (after `heading`), then its subject, attachments and
    text indented under it; with `most`, only the first `most` lines of its text."""
    lines = _wrap([f"{heading}{_when(message.received_at)}  from {_sender(case, message)}"], width, "  ")
    if message.subject:
        lines.extend(_wrap([f"Subject: {message.subject}"], width, "     "))
    names = ", ".join(a.filename or a.name for a in message.attachments)
    if names:
        lines.extend(_wrap([f"Attached: {names}"], width, "     "))
    body = _body(message.text, width, "     ")
    if most is not None and len(body) > most:
        body = [*body[:most], "     [...]"]
    return lines + body


def _letters(case: Case, width: int) -> list[str]:
    found = sorted(case.letters.values(), key=lambda letter: letter.sent_at or letter.queued_at)
    lines = []
    for letter in found:
        if letter.sent_at is not None:
            state = f"sent {_when(letter.sent_at)}"
        elif letter.failed:
            state = f"could not be sent: {letter.failed}"
        else:
            state = f"waiting to be sent since {_when(letter.queued_at)}"
        lines.append(f"{letter.template} to {letter.to}, {state}")
    return _section(f"Letters ({len(found)})", width, _wrap(lines, width, "  ") or ["  None yet."])


def _organisations(case: Case, width: int) -> list[str]:
    lines = []
    for org_id, org in case.orgs.items():
        notes = []
        if org_id == case.lead:
            notes.append("lead")
        if org_id == case.home_org:
            notes.append("received the complaint")
        if org_id in case.signposted_orgs:
            notes.append("signposted")
        if org_id in case.passed_on:
            notes.append("passed on")
        consent = case.consents.get(org_id)
        if consent is not None:
            notes.append(f"consent {consent.state.value} {_when(consent.at)}")
        elif org_id != case.home_org and org_id in case.involved:
            notes.append("consent not asked yet")
        lines.append(f"{org.name}" + (f": {'; '.join(notes)}" if notes else ""))
    if not case.orgs_identified:
        lines.append("(the organisations involved are not decided yet)")
    return _section("Organisations", width, _wrap(lines, width, "  "))


def _plan(case: Case, width: int) -> list[str]:
    lines: list[str] = []
    if case.response_period is not None:
        lines.append(f"Response due {_day(case.response_period.due)}")
    for strand in case.strands.values():
        done = f"answered {_when(strand.contribution.at)}" if strand.contribution else "not answered yet"
        org = case.orgs[strand.org_id].name
        lines.append(f"{strand.id} {org}: {strand.matters} (by {_day(strand.target)}; {done})")
        lines.extend(f"  milestone: {m}" for m in strand.milestones)
    for action in case.actions.values():
        done = f"done {_when(action.completed_at)}" if action.completed_at else f"due {_day(action.due)}"
        lines.append(f"action {action.id} {case.orgs[action.owner_org].name}: {action.description} ({done})")
    if case.impasse is not None:
        state = "resolved" if case.impasse.resolved_at else f"to resolve by {_day(case.impasse.resolve_by)}"
        lines.append(f"Impasse (step {case.impasse.step}, {state}): {case.impasse.matter}")
    if case.draft is not None:
        lines.append(f"Draft response version {case.draft.version}, {_when(case.draft.at)}")
    return _section("The plan", width, _wrap(lines, width, "  ") or ["  No plan yet."])


def _waiting(case: Case, today: date, width: int) -> list[str]:
    lines = [f"{_day(d.on)}{' (overdue)' if d.on < today else ''}: {d.what}" for d in deadlines(case)]
    return _section("Waiting", width, _wrap(lines, width, "  ") or ["  Nothing is waiting."])


def _section(title: str, width: int, lines: list[str]) -> list[str]:
    return ["", title, "-" * min(len(title), width), *lines]


def _body(text: str, width: int, indent: str = "  ") -> list[str]:
    """The text whole. A paragraph with a line too long for `width` is reflowed (an email's own
    hard wrapping would leave ragged lines); one whose lines all fit keeps its line breaks (an
    address, a signature)."""
    if not text.strip():
        return [f"{indent}(no text)"]
    lines: list[str] = []
    for block in re.split(r"\n\s*\n", text.strip()):
        rows = block.splitlines()
        if any(len(indent + row) > width for row in rows):
            rows = [" ".join(rows)]
        lines.extend([*_wrap(rows, width, indent), ""])
    return lines[:-1]


def _wrap(paragraphs: Iterable[str], width: int, indent: str) -> list[str]:
    lines: list[str] = []
    for paragraph in paragraphs:
        lines.extend(
            textwrap.wrap(
                paragraph, width, initial_indent=indent, subsequent_indent=indent, break_on_hyphens=False
            )
        )
    return lines


def _sender(case: Case, message: Message) -> str:
    who = case.sent_by(message.org_id, message.sender)
    return f"{who} <{message.from_address}>" if message.from_address else who


def _when(moment: datetime | None) -> str:
    return f"{moment.astimezone(LONDON):%a %d %b %Y %H:%M}" if moment else "-"


def _day(day: date) -> str:
    return f"{day:%a %d %b %Y}"
