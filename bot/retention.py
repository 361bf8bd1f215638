"""Retention: closed complaint files are kept 10 years after closure, then reviewed and destroyed
(NHS Records Management Code of Practice: "review, then destroy", never silent deletion).

`jointly retention` lists the records due for review from the index, without opening them.
`jointly destroy` is the explicit handler command: the case's record becomes one tombstone event
(reference, dates, who, why) and its attachments leave the attachment store, unless another case
holds the same file.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime

from bot.config import Config
from bot.directory import actor
from bot.service import CaseService
from flows.commands import DestroyRecord
from flows.model import Case
from mail.attachments import AttachmentStore


@dataclass(frozen=True)
class Due:
    ref: str
    closed_at: str
    review_on: str


def due_for_review(service: CaseService, today: date) -> list[Due]:
    """Closed records whose review date has come, earliest first."""
    found = [
        Due(s.stream, str(s.summary["closed_at"]), str(s.summary["review_on"]))
        for s in service.store.summaries()
        if s.stream.startswith("JC-")
        and s.summary.get("review_on")
        and not s.summary.get("destroyed")
        and date.fromisoformat(str(s.summary["review_on"])) <= today
    ]
    return sorted(found, key=lambda d: (d.review_on, d.ref))


def destroy(
    service: CaseService, config: Config, ref: str, person_id: str, reason: str, now: datetime
) -> int:
    """Destroy case `ref` for `person_id` (a handler); returns how many attachment files went."""
    who = actor(config.person(person_id))
    case = service.destroy(ref, DestroyRecord(actor=who, reason=reason), now)
    kept = {name for other in _others(service, ref) for name in attachment_names(other)}
    files = AttachmentStore(config.service.data_dir / "attachments")
    gone = [name for name in attachment_names(case) if name not in kept]
    for name in gone:
        files.remove(name)
    return len(gone)


def attachment_names(case: Case) -> set[str]:
    """Every stored file a case refers to: its own, its messages', its contributions'."""
    names = {a.name for a in case.attachments}
    names |= {a.name for m in case.messages for a in m.attachments}
    names |= {n for s in case.strands.values() if s.contribution for n in s.contribution.attachments}
    return names


def _others(service: CaseService, ref: str) -> Iterator[Case]:
    for summary in service.store.summaries():
        if (
            summary.stream.startswith("JC-")
            and summary.stream != ref
            and not summary.summary.get("destroyed")
        ):
            yield service.load(summary.stream)
