"""A local-mode assistant driven day by day: the harness for the coordination scenarios.

Everything is real: the Maildir inbox, the store, the sweep, the effect runner, the `.eml` outbox
and the terminal chat. People answer the questions `next_prompts` puts to them, as they would in
the terminal or Slack; the clock moves only when the test moves it, and every day's cycle is the
one the scheduler runs.
"""

from __future__ import annotations

import email
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from bot.app import Assistant
from bot.config import Config
from bot.directory import actor, org_ref
from flows.calendar import is_working_day
from flows.codec import event_from_plain, to_plain
from flows.conversation import Prompt, fill
from flows.events import Event
from flows.model import Case, ConsentState
from flows.prompts import next_prompts
from mail.settings import FilesOutbox
from store.store import Store
from tests.bot.support import Clock, complaint

THREE_ORGS = (
    "I am writing about my mother, Mrs Edith Marsh. She was discharged from Northshire General "
    "Hospital on 2 November without her medicines. Her GP at Riverside Medical Practice would not "
    "visit, and the council's care package never started. Nobody would take responsibility."
)


@dataclass
class Day:
    """The assistant at work, and the people who answer it."""

    assistant: Assistant
    clock: Clock
    out: io.StringIO

    @classmethod
    def local(cls, config: Config, store: Store, clock: Clock) -> Day:
        """The assistant in local mode on `store`, its terminal output kept in `out`."""
        out = io.StringIO()
        return cls(Assistant(config, store, out, clock=clock, local=True), clock, out)

    @property
    def today(self) -> date:
        return self.clock.now.date()

    async def email(self, text: str = THREE_ORGS) -> str:
        self.assistant.inbox.deliver(
            complaint(message_id="<marsh-1@mail.example.org>", text=text), self.clock.now
        )  # type: ignore[attr-defined]
        await self.assistant.cycle()
        [ref] = [s.stream for s in self.assistant.service.store.summaries() if s.stream.startswith("JC-")]
        return ref

    async def next_day(self) -> None:
        """The next working day at 10:00, and that day's cycle."""
        day = self.today + timedelta(days=1)
        while not is_working_day(day):
            day += timedelta(days=1)
        self.clock.now = datetime(day.year, day.month, day.day, 10, tzinfo=UTC)
        await self.assistant.cycle()
        self.nothing_asked_is_recorded()

    def nothing_asked_is_recorded(self) -> None:
        """No question put to anyone on any case is one the record already answers (checked
        after every day and every answer, so over every prompt of each scenario's cases)."""
        config = self.assistant.config
        people = [actor(p) for p in config.people]
        for summary in self.assistant.service.store.summaries():
            if not summary.stream.startswith("JC-"):
                continue  # mail set aside is no case
            case = self.case(summary.stream)
            for person in people:
                for prompt in next_prompts(case, person, self.clock.now):
                    reason = answered_by_record(case, prompt)
                    assert not reason, f"{case.ref}: {person.id} is asked {prompt.id!r}, but {reason}"

    async def until(self, day: date) -> None:
        while self.today < day:
            await self.next_day()

    def case(self, ref: str) -> Case:
        return self.assistant.service.load(ref)

    def asked(self, ref: str, person: str) -> dict[str, Any]:
        """The questions waiting for `person` now, by id."""
        who = actor(self.assistant.config.person(person))
        return {p.id: p for p in next_prompts(self.case(ref), who, self.clock.now)}

    def answer(self, ref: str, person: str, prompt_id: str, choice: str, **values: Any) -> None:
        """`person` picks `choice` on the question `prompt_id` and fills in `values` (the rest as offered)."""
        asked = self.asked(ref, person)
        assert prompt_id in asked, f"{person} is not asked {prompt_id}; asked: {sorted(asked)}"
        [picked] = [ch for ch in asked[prompt_id].choices if ch.label == choice]
        answers = {f.name: to_plain(f.default) for f in picked.fields if f.default is not None}
        for name, value in values.items():
            answers[name] = (
                [to_plain(org_ref(self.assistant.config, o)) for o in value] if name == "orgs" else value
            )
        self.assistant.service.execute(ref, fill(picked, answers), self.clock.now)
        self.nothing_asked_is_recorded()

    def events(self, ref: str) -> list[Event]:
        return [event_from_plain(e) for e in self.assistant.service.store.load(ref).events]

    def reminders(self, ref: str) -> list[tuple[str, str, str, bool]]:
        """(kind, subject or organisation, step, late) of every reminder sent, in order."""
        return [
            (r.kind.value, r.subject or r.org_id or "handlers", r.key.rsplit("/", 1)[1], r.late)
            for e in self.events(ref)
            if (r := getattr(e, "reminder", None)) is not None
        ]

    def letters(self) -> list[EmailMessage]:
        outbox = self.assistant.config.outbox
        assert isinstance(outbox, FilesOutbox)
        found = []
        for path in sorted(Path(outbox.path).glob("*.eml")):
            message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
            assert isinstance(message, EmailMessage)
            found.append(message)
        return found

    def sent_to(self, address: str) -> list[str]:
        return [str(m["Subject"]) for m in self.letters() if address in str(m["To"])]


DECIDED = frozenset({ConsentState.GIVEN, ConsentState.REFUSED})


def answered_by_record(case: Case, prompt: Prompt) -> str:
    """Why the record already answers `prompt`, or "" when it does not."""
    kind, _, about = prompt.id.partition(":")
    impasse = case.impasse
    recorded = {
        "organisations": case.orgs_identified,
        "acknowledge": case.acknowledged_at is not None,
        "consent": all(o in case.consents and case.consents[o].state in DECIDED for o in case.others),
        "complainant_view": bool(case.complainant_lead_view),
        "propose_lead": case.lead is not None,
        "lead_answer": case.proposal is not None and about in case.proposal.responses,
        "named_contact": case.named_contact is not None,
        "update_every": case.update_every is not None,
        "response_period": case.response_period is not None,
        "outcome": about in case.outcomes,
        "impasse_answer": impasse is not None and about in impasse.answers,
        "resolve_impasse": impasse is not None and impasse.resolved_at is not None,
        "ombudsman": bool(case.ombudsmen_signposted),
        "coding": case.coding is not None,
        "shared_understanding": bool(case.shared_understanding),
    }
    if recorded.get(kind):
        return f"the record holds its answer ({kind})"
    if kind == "propose_lead" and len(prompt.choices) < 2:
        return "only one organisation is left to lead"
    if kind == "close" and any(f.name == "outcome" for ch in prompt.choices for f in ch.fields):
        return "each organisation's outcome gives the overall outcome"
    return ""
