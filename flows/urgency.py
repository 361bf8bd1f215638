"""Which question comes first: one ordering for the terminal and every chat's list of
what waits for someone.

Most urgent first: the questions on a case with a date already passed (the longest passed first),
then the impasse steps (what senior managers said, the partial response, the Ombudsman), then the
rest by their case's next date (the oldest case first on the same date). On one case its impasse
steps come before its other questions, which keep the order `next_prompts` gives them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from flows.asks_response import IMPASSE_STEPS
from flows.calendar import london_date
from flows.conversation import Prompt
from flows.model import Actor, Case
from flows.prompts import next_prompts
from flows.summary import Deadline, deadlines


@dataclass(frozen=True)
class Waiting:
    """A question waiting for someone, with what makes it urgent."""

    ref: str
    prompt: Prompt
    due: Deadline | None  # the case's next date
    overdue: bool  # that date has passed
    impasse: bool  # the question is an impasse step

    @property
    def rank(self) -> int:
        return 0 if self.overdue else 1 if self.impasse else 2


def most_urgent_first(cases: Iterable[Case], actor: Actor, now: datetime) -> list[Waiting]:
    """Every question for `actor` on `cases`, most urgent first."""
    today = london_date(now)
    found: list[tuple[tuple[int, date, float, str, bool, int], Waiting]] = []
    for case in cases:
        dates = deadlines(case)
        due = dates[0] if dates else None
        received = case.received_at.timestamp() if case.received_at else 0.0
        for index, prompt in enumerate(next_prompts(case, actor, now)):
            impasse = prompt.id.split(":")[0] in IMPASSE_STEPS
            item = Waiting(case.ref, prompt, due, due is not None and due.on < today, impasse)
            key = (item.rank, due.on if due else date.max, received, case.ref, not impasse, index)
            found.append((key, item))
    return [item for _, item in sorted(found, key=lambda keyed: keyed[0])]
