"""What a simulated run leaves behind for the oracle (`bench.sim.oracle`).

The oracle trusts none of the assistant's own dates or reminder records: it reads what people did
(the store's events of their answers: a strand and its target, a contribution, consent), what the
mailbox was given (`Arrival`), when the assistant was up (`cycles`), and judges what the SMTP
server received (`Letter`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path


@dataclass(frozen=True)
class Letter:
    """One message as the SMTP server accepted it."""

    message_id: str
    to: tuple[str, ...]  # the envelope recipients, lower case
    subject: str
    sent: datetime  # its Date header: the assistant's clock when it was written
    text: str  # the text/plain part
    order: int  # the order the server accepted it in (0 first)
    reply_to: str = ""  # its Reply-To header (an organisation's signed reply address), if any


@dataclass(frozen=True)
class Arrival:
    """An email delivered to the assistant's mailbox."""

    message_id: str
    sender: str  # lower case
    at: datetime  # when it was delivered (simulated time)
    complaint: int  # the simulated complaint it belongs to
    kind: str  # "complaint", or what the email is (`bench.sim.emails`: "reply", "again", "contribution", ...)


@dataclass(frozen=True)
class Fault:
    kind: str  # "restart", "down", "smtp_down", "smtp_4xx", "clock_back", ...
    start: datetime
    end: datetime
    detail: str = ""


@dataclass
class Record:
    """A whole run. `cycles` are the moments at which a cycle of the assistant (intake, sweep,
    outbox) finished, in the order they ran (a clock set back an hour shows as a moment earlier
    than the one before)."""

    start: datetime
    end: datetime
    store_dir: Path
    home: str  # the organisation whose mailbox it is
    org_emails: dict[str, set[str]]  # organisation id -> every address of it (inbox, contacts, escalation)
    complainants: dict[int, str]  # simulated complaint -> the person's address
    cycles: list[datetime] = field(default_factory=list)
    arrivals: list[Arrival] = field(default_factory=list)
    letters: list[Letter] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    # organisations whose contacts are all in the chat, so their reminders are not emailed: the
    # oracle does not judge their contributor reminders
    chat_orgs: set[str] = field(default_factory=set)
