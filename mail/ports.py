"""The seams between intake/sending and the rest of the application, as Protocols.

Local mode uses `MaildirInbox` and `FileOutbox`; otherwise `ImapInbox` and `SmtpMailer`. The
application depends on these shapes only, so the adapters swap without it noticing.
"""

from __future__ import annotations

from collections.abc import Callable
from email.message import EmailMessage
from typing import Protocol

from mail.maildir import RawMail


class Mailer(Protocol):
    """Sends one message. `accepted` is called as soon as the server has taken it (an SMTP reply to
    DATA), before the session ends, so the caller can record it first. Sending the same
    Message-ID again may double the letter (SMTP cannot tell; the file outbox can and does not)."""

    async def send(self, message: EmailMessage, accepted: Callable[[], None] | None = None) -> None: ...


class SentFolder(Protocol):
    """Where a copy of what was sent can be looked up by Message-ID (a mailbox's sent folder, the
    file outbox). Blocking: call it through `asyncio.to_thread`."""

    def holds(self, message_id: str) -> bool: ...


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
