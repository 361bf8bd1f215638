"""Mail to deliver, ways to read what was sent, and commands built the way the adapters build them.

Times are fixed; nothing here reads the clock.
"""

from __future__ import annotations

import email
from datetime import UTC, date, datetime, timedelta
from email import policy
from email.message import EmailMessage
from pathlib import Path

from bot.app import EXAMPLES, Assistant
from bot.config import Config
from bot.directory import actor, org_ref, system_actor
from bot.intake import Outcome
from flows import commands as c
from flows.calendar import is_working_day
from flows.codec import event_from_plain
from flows.events import Event
from flows.model import Channel, Person
from flows.prompts import answerable
from mail.maildir import MaildirInbox
from store.ports import CaseStore

NOW = datetime(2026, 11, 25, 13, 0, tzinfo=UTC)  # a Wednesday, after the samples' dates
RECEIVED = NOW - timedelta(hours=3)
SAMPLES = sorted(EXAMPLES.glob("*.eml"))
SAMPLE_NAMES = ("Margaret Ellison", "David Okafor", "Siobh", "O'Neill")
SAMPLE_ADDRESSES = ("margaret.ellison@example.org", "d.okafor@example.com", "siobhan.oneill@example.net")


class Clock:
    """The assistant's clock in tests: it says `now`, which only the test moves."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def sample(number: int) -> bytes:
    """The bytes of bot/examples/0<number>-*.eml."""
    [path] = [p for p in SAMPLES if p.name.startswith(f"0{number}-")]
    return path.read_bytes()


def complaint(
    message_id: str = "<hand-1@mail.example.org>",
    text: str = "The discharge went badly.",
    subject: str = "A complaint",
    sender: str = "Pat Example <pat@example.org>",
    extra: tuple[str, ...] = (),
) -> bytes:
    """A plain email as a complainant would send it, with any `extra` header lines."""
    headers = [f"From: {sender}", "To: complaints@northshire-trust.example", f"Subject: {subject}", *extra]
    if message_id:
        headers.append(f"Message-ID: {message_id}")
    return ("\r\n".join([*headers, "Content-Type: text/plain; charset=utf-8", "", text, ""])).encode()


def deliver_samples(inbox: MaildirInbox, first: datetime = RECEIVED) -> list[str]:
    """The three samples, one minute apart (so they are taken in their file order); their uids."""
    return [inbox.deliver(sample(n), first + timedelta(minutes=n)) for n in (1, 2, 3)]


def files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file()) if folder.exists() else []


def read_eml(path: Path) -> EmailMessage:
    message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def plain_text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def receive(config: Config, at: datetime = RECEIVED) -> c.ReceiveComplaint:
    """What intake would build from an email to the home organisation."""
    return c.ReceiveComplaint(
        actor=system_actor(config),
        channel=Channel.EMAIL,
        received_at=at,
        complainant=Person(name="Pat Example", email="pat@example.org"),
        home_org=org_ref(config, config.service.home_organisation),
        subject="A complaint",
        text="The discharge went badly.",
        message_id="<hand-1@mail.example.org>",
    )


SECRET = b"a test secret for reply addresses, 32+ bytes"


def opened(outcomes: list[Outcome]) -> list[str]:
    """The references of the cases a poll opened."""
    return [o.ref for o in outcomes if o.outcome == "new" and o.ref]


def next_working_day(moment: datetime) -> datetime:
    """10:00 on the working day after `moment`'s."""
    day = moment.date() + timedelta(days=1)
    while not is_working_day(day):
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, 10, tzinfo=UTC)


def has_fields(assistant: Assistant, ref: str, person: str, prompt_id: str, choice: str) -> bool:
    """Whether `choice` on the question `prompt_id` asked of `person` now has a form to fill in."""
    who = actor(assistant.config.person(person))
    prompts = {p.id: p for p in answerable(assistant.service.load(ref), who, assistant.clock())}
    assert prompt_id in prompts, f"{person} is not asked {prompt_id}; asked: {sorted(prompts)}"
    return any(c.label == choice and c.fields for c in prompts[prompt_id].choices)


TWO_ORGS = (
    "My father was discharged from Northshire General to a care package the council never started. "
    "Nobody visited for five days."
)


class InChat:
    """What the Slack and Teams harnesses share: an assistant on a test clock with a local inbox, the
    store it writes, and the days moving (`tests/bot/chats` drives either through these calls and
    their own `answer` and `told`)."""

    assistant: Assistant
    clock: Clock
    inbox: MaildirInbox
    message_id: str  # of the complaint `email` delivers

    @property
    def store(self) -> CaseStore:
        return self.assistant.service.store

    async def email(self, text: str = TWO_ORGS, message_id: str = "") -> str:
        """A complaint arrives by email and the cycle runs; returns the new case's reference."""
        before = set(self.refs())
        self.inbox.deliver(complaint(message_id=message_id or self.message_id, text=text), RECEIVED)
        await self.assistant.cycle()
        [ref] = set(self.refs()) - before
        return ref

    def refs(self) -> list[str]:
        return [s.stream for s in self.store.summaries() if s.stream.startswith("JC-")]

    def events(self, ref: str) -> list[Event]:
        return [event_from_plain(e) for e in self.store.load(ref).events]

    def kinds(self, ref: str) -> list[str]:
        return [type(e).__name__ for e in self.events(ref)]

    async def until(self, day: date) -> None:
        """Each working day at 10:00 up to `day`, with that day's cycle."""
        while self.clock.now.date() < day:
            self.clock.now = next_working_day(self.clock.now)
            await self.assistant.cycle()
