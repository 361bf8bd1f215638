"""Hand-written fakes for the application's two outward ports: `mail.ports.Mailer` and `bot.runner.Chat`.

Everything else in these tests is real: the store, the Maildir, the file outbox. A fake only
records what it was asked to do, and can be told to fail first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage

from bot.config import Person


class MailServerDown(ConnectionError):
    """What a mail server that cannot be reached looks like to the runner."""


@dataclass
class RecordingMailer:
    """A `Mailer` that fails its first `failures` sends, then records every message it is given."""

    failures: int = 0
    attempts: int = 0
    sent: list[EmailMessage] = field(default_factory=list)

    async def send(self, message: EmailMessage, accepted: Callable[[], None] | None = None) -> None:
        self.attempts += 1
        if self.failures > 0:
            self.failures -= 1
            raise MailServerDown("connection refused")
        self.sent.append(message)
        if accepted is not None:
            accepted()


@dataclass(frozen=True)
class Said:
    ref: str
    text: str
    to: tuple[str, ...]


@dataclass
class RecordingChat:
    """A `Chat` that records each notice; fails its first `failures` calls like a chat outage."""

    failures: int = 0
    said: list[Said] = field(default_factory=list)
    outside: frozenset[str] = frozenset()

    def reaches(self, person: Person) -> bool:
        """Everyone is in this chat unless named in `outside`."""
        return person.id not in self.outside

    async def say(self, ref: str, text: str, to: Sequence[str], read: str = "") -> None:
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionError("chat unavailable")
        self.said.append(Said(ref, text, tuple(to)))
