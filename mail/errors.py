"""The one exception tree of the mail package.

Every error raised on purpose by `mail` is a `MailError`, so an intake loop or an effect runner can
catch one type per message and a single place can turn it into words for a person. Each error
carries keyword context (``reason``, ``uid``, ``template``...) in ``.context`` as well as in its
text, so logs say what was being handled without parsing the message::

    MailError                   anything the mail package refuses or cannot do
     +-- MailParseError         nothing usable could be read from the raw bytes (reason=...)
     +-- MailboxError           a Maildir message cannot be found or moved (uid=...)
     +-- TokenError             no OAuth2 access token could be had (command=..., tenant=...)
     +-- LetterError            a letter cannot be rendered or built
     |    +-- UnknownTemplateError     no such letter template (template=...)
     |    +-- LetterContextError       the context lacks a value the template needs
     +-- SendError              the mail server did not take a letter (permanent=True for 5xx)
     |    +-- SendInDoubt       the connection dropped while the server took it: it may have gone
     +-- OutboxError            a message cannot be written out (e.g. it has no Message-ID)
"""

from __future__ import annotations


class MailError(Exception):
    """Base of every error the mail package raises on purpose."""

    def __init__(self, message: str, **context: object) -> None:
        super().__init__(message)
        self.message = message
        self.context = context

    def __str__(self) -> str:
        if not self.context:
            return self.message
        details = ", ".join(f"{key}={value!r}" for key, value in self.context.items())
        return f"{self.message} ({details})"


class MailParseError(MailError):
    """Raised only when raw bytes hold nothing usable as an email (empty, no headers at all)."""

    def __init__(
        self, message: str = "cannot read this as an email", *, reason: str, **context: object
    ) -> None:
        super().__init__(message, reason=reason, **context)
        self.reason = reason


class MailboxError(MailError):
    """A message named by uid is not where it should be, or cannot be moved."""


class TokenError(MailError):
    """No XOAUTH2 access token could be had: the token command or the identity platform failed."""


class LetterError(MailError):
    """A letter cannot be rendered from its template or built into a message."""


class UnknownTemplateError(LetterError):
    """There is no letter template of that name."""


class LetterContextError(LetterError):
    """The template needs a value that the context does not give."""


class SendError(MailError):
    """The mail server did not take a letter. `permanent` when retrying cannot help (SMTP 5xx)."""

    def __init__(self, message: str, *, permanent: bool, **context: object) -> None:
        super().__init__(message, **context)
        self.permanent = permanent


class SendInDoubt(SendError):
    """The connection was lost, or timed out, once the letter itself was being handed over: the
    server may have taken it, so sending it again could double it."""

    def __init__(self, message: str, **context: object) -> None:
        super().__init__(message, permanent=False, **context)


class OutboxError(MailError):
    """A message cannot be written to the outbox."""
