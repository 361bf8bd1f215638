"""Effects: what must happen outside the core because of a decision. Imperative names.

Effects are values written to the store's outbox in the same atomic write as the events that
caused them, so a crash can repeat an effect but never lose one. Each carries a deterministic
`key`; mail Message-IDs derive from it so a repeat is recognisable. An effect that carries
identifiable details to another organisation names it in `discloses_to`: `flows.decide` refuses
any such effect unless that organisation's consent is on record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class RecipientKind(StrEnum):
    COMPLAINANT = "complainant"
    ORGANISATION = "organisation"


@dataclass(frozen=True)
class Recipient:
    kind: RecipientKind
    address: str
    name: str = ""
    org_id: str = ""
    cc: str = ""  # another address of the same recipient, copied (an organisation's escalation contact)


@dataclass(frozen=True, kw_only=True)
class Effect:
    key: str
    ref: str
    discloses_to: str | None = None


@dataclass(frozen=True, kw_only=True)
class SendLetter(Effect):
    """Send a letter by email; `template` names a letter template, `context` its facts."""

    template: str
    to: Recipient
    context: dict[str, Any] = field(default_factory=dict)
    automatic: bool = False
    in_reply_to: str = ""


@dataclass(frozen=True, kw_only=True)
class SendLetterAgain(Effect):
    """Send the letter of `SendLetter` effect `letter` again, as it was (the same Message-ID)."""

    letter: str
    template: str


@dataclass(frozen=True, kw_only=True)
class CarryMessage(Effect):
    """Give another case a message (when a handler merges this case into it)."""

    target: str
    message_id: str
    from_address: str
    received_at: datetime
    subject: str = ""
    text: str = ""


@dataclass(frozen=True, kw_only=True)
class Notify(Effect):
    """Tell people in chat that something needs them. Reference and task only: no personal details."""

    audience: str
    message: str
    context: dict[str, Any] = field(default_factory=dict)
