"""The two seams between intake/sending and the rest of the application, as Protocols.

Local mode uses `MaildirInbox` and `FileOutbox`; a later issue adds an IMAP reader and an SMTP
mailer. The application depends on these shapes only, so the adapters swap without it noticing.
"""

from __future__ import annotations

from email.message import EmailMessage
from typing import Protocol

from mail.maildir import RawMail


class Mailer(Protocol):
    """Sends one message. Sending the same Message-ID again must not double the letter."""

    async def send(self, message: EmailMessage) -> None: ...


class Inbox(Protocol):
    """Where received mail waits. Blocking: call it through `asyncio.to_thread`."""

    def pending(self) -> list[RawMail]: ...

    def mark_processed(self, *uids: str) -> None:
        """File these messages as taken in (one batch, for a mailbox where that is cheaper)."""
        ...

    def quarantine(self, uid: str, reason: str) -> None: ...

    def close(self) -> None:
        """Let go of any connection (a no-op for local folders)."""
        ...

    def wait(self, timeout: float) -> bool:
        """Block until new mail may be waiting (IMAP IDLE) or `timeout` seconds pass; True if
        something changed. A mailbox without push simply returns False after the timeout."""
        ...
