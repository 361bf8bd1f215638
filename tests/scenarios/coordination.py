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
from flows.conversation import fill
from flows.events import Event
from flows.model import Case
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
