"""What a chat's buttons carry, whichever chat it is: a choice of a question on a case (`ButtonRef`)
and an email to read (`ReadRef`). The chat hands them back untrusted: `decode` refuses anything
malformed, and the app still re-reads the case and its questions before acting.

Also the words every front shows a case's status in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

BUTTON_VALUE = 2000  # Slack's limit on a button's value, the smallest of the chats'

STATUS_WORDS = {
    "received": "received",
    "awaiting_consent": "awaiting consent",
    "agreeing_lead": "agreeing the lead",
    "naming_contact": "naming the contact",
    "planning": "planning the investigation",
    "investigating": "investigating",
    "drafting": "drafting the response",
    "responded": "responded",
    "closed": "closed",
}


@dataclass(frozen=True)
class ButtonRef:
    """What a choice's button (and its form) carries: the case, its version, the prompt, the choice.

    The chat hands it back untrusted, so `decode` refuses anything malformed and the app still re-reads
    the case and the prompts before acting. The prompt id may hold any printable character, "|" too
    (a Message-ID may): it is whatever lies between the version and the last "|".
    """

    ref: str
    version: int
    prompt_id: str
    choice: int

    def __post_init__(self) -> None:
        if not self.ref or "|" in self.ref or not self.ref.isprintable():
            raise ValueError(f"not a case reference: {self.ref!r}")
        if not (_NUMBER.fullmatch(str(self.version)) and _NUMBER.fullmatch(str(self.choice))):
            raise ValueError(f"not a version and a choice: {self.version!r}, {self.choice!r}")
        if not self.prompt_id or not self.prompt_id.isprintable():
            raise ValueError(f"not a prompt id: {self.prompt_id!r}")
        if len(self.encode()) > BUTTON_VALUE:
            raise ValueError("too long for a button value")

    def encode(self) -> str:
        return f"{self.ref}|{self.version}|{self.prompt_id}|{self.choice}"

    @classmethod
    def decode(cls, value: str) -> ButtonRef:
        if not isinstance(value, str) or len(value) > BUTTON_VALUE:
            raise ValueError("not a jointly button value")
        ref, _, rest = value.partition("|")
        version, _, rest = rest.partition("|")
        prompt_id, _, choice = rest.rpartition("|")
        if not _NUMBER.fullmatch(version) or not _NUMBER.fullmatch(choice):
            raise ValueError(f"not a jointly button value: {value[:80]!r}")
        return cls(ref, int(version), prompt_id, int(choice))


_NUMBER = re.compile(r"0|[1-9][0-9]{0,8}")


@dataclass(frozen=True)
class ReadRef:
    """What a "Read it" button carries: the case and the email, by its Message-ID, or as "#n" (its
    number on the case, from 1) when the Message-ID is too long for a button value.

    The chat hands it back untrusted: `decode` refuses anything malformed, and the app finds the email
    on the case itself, after checking who pressed.
    """

    ref: str
    message: str

    @property
    def fits(self) -> bool:
        return len(self.encode()) <= BUTTON_VALUE

    def encode(self) -> str:
        return f"{self.ref}|{self.message}"

    @classmethod
    def decode(cls, value: str) -> ReadRef:
        if not isinstance(value, str) or len(value) > BUTTON_VALUE or not value.isprintable():
            raise ValueError("not a jointly button value")
        ref, _, message = value.partition("|")
        if not ref or not message:
            raise ValueError(f"not a case and an email: {value[:80]!r}")
        return cls(ref, message)


def status_words(status: object) -> str:
    """A status as people say it: "awaiting consent"."""
    return STATUS_WORDS.get(str(status), str(status or "unknown").replace("_", " "))
