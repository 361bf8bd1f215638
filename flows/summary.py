"""A case's summary: what listings, the sweep and the case card need, without the event log.

The store keeps it in its index so listing 10,000 open cases never opens a case file. It holds
references, statuses, organisations, dates and codes: no complainant details. (The only free text
is in "facts": the KO41a site and what each completed action was, both printed by the report.)

Its keys (documented in the README; stable, new keys may be added): ref, status, open,
received_at, acknowledgement_due, acknowledged_at, organisations, lead, deadlines, next_deadline,
closed_at, review_on, destroyed, and facts: what `jointly report` counts (`flows.facts`), so the
report never opens a case file either. A summary written before facts were added has no "facts".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flows.calendar import (
    acknowledgement_due,
    london_date,
    response_due,
    retention_review_on,
    six_month_point,
)
from flows.facts import facts
from flows.model import OPEN_STATUSES, Case, Status


@dataclass(frozen=True, order=True)
class Deadline:
    on: date
    what: str


def deadlines(case: Case) -> list[Deadline]:
    """Every date still to be met on the case, earliest first."""
    if case.received_at is None or case.status not in OPEN_STATUSES:
        return []
    received = london_date(case.received_at)
    found: list[Deadline] = []
    if case.acknowledged_at is None:
        found.append(Deadline(acknowledgement_due(case.received_at), "acknowledgement"))
    if case.status is not Status.RESPONDED:
        statutory = response_due(received, case.longer_period_until, case.longer_period_agreed_on)
        label = "agreed longer period" if statutory != six_month_point(received) else "six-month point"
        found.append(Deadline(statutory, label))
        if case.response_period is not None:
            found.append(Deadline(case.response_period.due, "response period"))
    for strand in case.strands.values():
        if strand.contribution is None:
            found.append(Deadline(strand.target, f"{case.orgs[strand.org_id].name} response ({strand.id})"))
    draft = case.draft
    if draft is not None and draft.comment_by is not None and case.status is Status.DRAFTING:
        found.append(Deadline(draft.comment_by, "comments on the draft"))
    if case.impasse is not None and case.impasse.resolved_at is None:
        found.append(Deadline(case.impasse.resolve_by, "senior managers to resolve the impasse"))
    for action in case.actions.values():
        if action.completed_at is None:
            found.append(Deadline(action.due, f"action {action.id} ({case.orgs[action.owner_org].name})"))
    return sorted(found)


def summarise(case: Case) -> dict[str, Any]:
    """The JSON-able summary kept in the store's index (documented in the README)."""
    due = deadlines(case)
    received = case.received_at
    return {
        "ref": case.ref,
        "status": case.status.value,
        "open": case.status in OPEN_STATUSES,
        "received_at": received.isoformat() if received else None,
        "acknowledgement_due": acknowledgement_due(received).isoformat() if received else None,
        "acknowledged_at": case.acknowledged_at.isoformat() if case.acknowledged_at else None,
        "organisations": [case.orgs[o].name for o in case.involved] if case.orgs_identified else [],
        "lead": case.orgs[case.lead].name if case.lead else None,
        "deadlines": [{"on": d.on.isoformat(), "what": d.what} for d in due],
        "next_deadline": {"on": due[0].on.isoformat(), "what": due[0].what} if due else None,
        "closed_at": case.closed_at.isoformat() if case.closed_at else None,
        "review_on": retention_review_on(london_date(case.closed_at)).isoformat() if case.closed_at else None,
        "destroyed": case.destroyed_at is not None,
        "facts": facts(case),
    }
