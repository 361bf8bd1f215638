"""Domain errors: why the core refused a command, in words a handler can act on.

    DomainError                    anything the core refuses
    ├── NotAllowedNow              the command does not fit the case's current status
    ├── Forbidden                  the actor's role or organisation may not do this
    ├── ConsentRequired            it would disclose details to an organisation without consent
    ├── InvalidCommand             the command's own data is wrong (a date in the past, ...)
    └── UnknownCase                no such case (raised by the application, kept here for one tree)

Each error carries its context as keyword attributes so adapters can render it or log it
without parsing the message.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    def __init__(self, message: str, **context: Any) -> None:
        super().__init__(message)
        self.message = message
        self.context = context


class NotAllowedNow(DomainError):
    pass


class Forbidden(DomainError):
    pass


class ConsentRequired(DomainError):
    pass


class InvalidCommand(DomainError):
    pass


class UnknownCase(DomainError):
    pass
