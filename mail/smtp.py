"""The SMTP mailer: letters go to the organisation's mail server (the `mail.ports.Mailer` port).

Security is what the configuration says, never negotiated down: ``tls`` is implicit TLS (usually
port 465); ``starttls`` requires the upgrade and fails if the server does not offer it; ``none``
is plain text, for a relay on the same host and for tests only. The login, when a username is
configured, comes after TLS: with a password, or with ``auth = "xoauth2"`` by aiosmtplib's AUTH
XOAUTH2 and a token from `mail.oauth.Tokens` (shared with the mailbox), fetched again once if the
server refuses it with 535. Every step (connect, each command) has the same `timeout`.

One connection per letter. Letters are few (a handful per case over weeks), so a kept-open
connection would save nothing worth its failure modes: servers drop idle sessions between runner
passes, and a half-dead connection would fail the next letter for no fault of its own.

Every failure is a `SendError`; ``permanent`` tells the runner whether retrying can help:

- The server refused *this letter* with a 5xx reply to MAIL FROM, RCPT TO or DATA (no such
  address, message rejected): permanent. The same with a 4xx reply: temporary. (A 5xx to MAIL
  FROM is usually the configured from_address; it is permanent all the same, and the handlers see
  it on the case.) If only some of several recipients are refused, the letter counts as sent: a
  retry would double it for the others. Letters have one recipient.
- Anything before the letter is offered is the configuration's or the server's problem, not the
  letter's, so temporary, and the letter goes once an administrator has fixed it: connection
  refused, timeouts, a refused greeting, STARTTLS required but not offered, a failed TLS handshake
  (e.g. an untrusted certificate), AUTH not offered, and a refused login (535). Those after the
  timeouts are logged at ERROR here: retrying alone will never cure them, so someone must be told.
- A disconnect or timeout while sending: temporary, until the letter itself is being handed over
  (DATA). From then on the server may have taken it without our hearing its answer, so it is a
  `SendInDoubt`: sending it again could double it.

The error's context has host, port, the stage, and the server's reply code and text; never the
body or the subject, which hold personal details.

Exactly once is the caller's to record: `accepted` is called the moment the server answers DATA
with success, before QUIT or anything else, so the runner records the letter as sent while the
session is still open (`bot.sending`). An error raised by `accepted` ends the session and reaches
the caller as it is. The Message-ID derives from the effect's key (`mail.letters.message_id_for`),
so a letter sent again carries the same one; this class never makes up or changes a Message-ID.

Before connecting, the message is serialised as it will go on the wire and read back: if the server
would see a header the message does not have (a line break smuggled into a display name or a
Message-ID through an encoded word), the letter is refused permanently. Whatever built the message,
an injected header never reaches the server. Envelope recipients are the To and Cc addresses only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import AsyncIterator, Callable
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses
from typing import Any

import aiosmtplib
from aiosmtplib.email import flatten_message

from mail.errors import SendError, SendInDoubt, TokenError
from mail.oauth import Tokens
from mail.settings import SmtpOutbox

log = logging.getLogger("jointly.smtp")

_NOT_SENT_ON = frozenset({"bcc", "resent-bcc"})  # aiosmtplib drops these from the copy it sends
_REFUSED_WHAT = {"connect": "the connection", "starttls": "to start TLS", "login": "the login"}
_NO_STARTTLS = "the mail server does not offer STARTTLS, which outbox.security requires"
_TLS_FAILED = "the TLS handshake with the mail server failed"
_TIMED_OUT = "the mail server did not answer in time"
_CLOSE_POLLS = 100  # at most about a second


class SmtpMailer:
    """Sends each letter over its own SMTP session. `password` is required when a username is set
    (auth "password"); `tokens` give the access token (auth "xoauth2"), shared with the mailbox."""

    def __init__(
        self,
        settings: SmtpOutbox,
        password: str | None,
        *,
        tokens: Tokens | None = None,
        tls_context: ssl.SSLContext | None = None,
        timeout: float = 30,
    ) -> None:
        if settings.auth == "password" and settings.username is not None and not password:
            raise SendError(
                "the SMTP login has no password", permanent=False, password_env=settings.password_env
            )
        if settings.auth == "xoauth2" and tokens is None:
            raise SendError("the SMTP login has no OAuth2 token source", permanent=False)
        self.settings = settings
        self.timeout = timeout
        self._password = password or ""
        self.tokens = tokens if settings.auth == "xoauth2" else None
        self._tls_context = tls_context

    async def send(self, message: EmailMessage, accepted: Callable[[], None] | None = None) -> None:
        message_id = str(message.get("Message-ID", ""))
        recipients = _recipients(message, message_id)
        data = _checked_bytes(message, message_id)
        async with self._session() as smtp:
            try:
                refused, _ = await smtp.sendmail(self.settings.from_address, recipients, data)
            except (aiosmtplib.SMTPException, OSError, ValueError) as error:
                raise self._sending_error(error, message_id, smtp.data_began) from error
            if accepted is not None:
                accepted()
        if refused:  # some recipients took it: a retry would double it for them, so it counts as sent
            codes = sorted({response.code for response in refused.values()})
            log.warning("letter %s was refused for %d of its recipients %s", message_id, len(refused), codes)

    async def check(self) -> None:
        """Connect, start TLS and log in as for a letter, then QUIT: nothing is sent
        (`jointly check-mail`). A failure is the `SendError` a letter would meet."""
        async with self._session():
            pass

    @contextlib.asynccontextmanager
    async def _session(self) -> AsyncIterator[_Client]:
        """A session opened and logged in; ended with QUIT if the body succeeds, closed otherwise."""
        smtp = self._client()
        try:
            await self._open(smtp)
            yield smtp
        except Exception:
            await _close(smtp)
            raise
        except BaseException:  # cancelled: close without waiting
            smtp.close()
            raise
        await _quit(smtp)

    def _client(self) -> _Client:
        settings = self.settings
        secure = settings.security != "none"
        return _Client(
            hostname=settings.host,
            port=settings.port,
            timeout=self.timeout,
            use_tls=settings.security == "tls",
            start_tls=False,  # done in _open, so "not offered" is an error and not a quiet downgrade
            tls_context=self._tls_context if secure else None,
        )

    async def _open(self, smtp: _Client) -> None:
        """Connect, upgrade with STARTTLS when configured, and log in; or raise a SendError."""
        stage = "connect"
        try:
            await smtp.connect()
            if self.settings.security == "starttls":
                stage = "starttls"
                await smtp.ehlo()
                if not smtp.supports_extension("starttls"):
                    raise self._error(_NO_STARTTLS, stage=stage)
                await smtp.starttls()
            if self.tokens is not None:
                stage = "login"
                await self._xoauth2(smtp, self.tokens)
            elif self.settings.username is not None:
                stage = "login"
                await smtp.login(self.settings.username, self._password)
        except TokenError as error:
            failure = self._error("no OAuth2 access token could be had", stage=stage, reason=str(error))
            log.error("cannot send mail: %s", failure)
            raise failure from error
        except SendError as error:
            log.error("cannot send mail: %s", error)
            raise
        except (aiosmtplib.SMTPException, OSError) as error:
            raise self._session_error(error, stage) from error

    async def _xoauth2(self, smtp: _Client, tokens: Tokens) -> None:
        """AUTH XOAUTH2 with the current token; a token refused with 535 is fetched again once
        (it may have been revoked, or the clock of whoever said when it expires may be wrong)."""
        if smtp.is_ehlo_or_helo_needed:
            await smtp.ehlo()
        if "xoauth2" not in smtp.server_auth_methods:
            raise aiosmtplib.SMTPException("the server does not offer AUTH XOAUTH2")
        username = self.settings.username or ""
        token = await asyncio.to_thread(tokens.token)
        try:
            await smtp.auth_xoauth2(username, token)
        except aiosmtplib.SMTPAuthenticationError as error:
            if error.code != 535:
                raise
            log.info("the mail server refused the OAuth2 token for %s: fetching a new one", username)
            await smtp.auth_xoauth2(username, await asyncio.to_thread(tokens.renew, token))

    def _session_error(self, error: BaseException, stage: str) -> SendError:
        """Nothing about the letter was refused yet, so always temporary."""
        tls = _tls_failure(error)
        if isinstance(error, aiosmtplib.SMTPAuthenticationError):
            how = "the [oauth2] token" if self.tokens else self.settings.password_env
            text = f"the mail server refused the login (outbox.username, {how})"
            failure = self._error(text, stage=stage, code=error.code, reply=error.message)
        elif tls is not None:
            failure = self._error(_TLS_FAILED, stage=stage, reason=str(tls))
        elif isinstance(error, aiosmtplib.SMTPResponseException):
            text = f"the mail server refused {_REFUSED_WHAT[stage]}"
            return self._error(text, stage=stage, code=error.code, reply=error.message)
        elif isinstance(error, TimeoutError):
            return self._error(_TIMED_OUT, stage=stage, reason=str(error))
        elif isinstance(error, OSError):  # refused, reset, disconnected, no route
            return self._error("the mail server cannot be reached", stage=stage, reason=str(error))
        else:  # e.g. AUTH not offered although a username is configured
            text = "the mail server does not offer what the outbox settings require"
            failure = self._error(text, stage=stage, reason=str(error))
        log.error("cannot send mail: %s", failure)  # retrying alone will not cure these: say so loudly
        return failure

    def _sending_error(self, error: BaseException, message_id: str, data_began: bool) -> SendError:
        """The letter was offered: a 5xx reply is about the letter itself, so permanent; no reply at
        all once the letter itself was going leaves it in doubt."""
        if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
            codes = [refusal.code for refusal in error.recipients]
            return self._error(
                "the mail server refused the recipient",
                permanent=all(code >= 500 for code in codes),
                code=codes[0],
                reply=error.recipients[0].message,
                message_id=message_id,
            )
        if isinstance(error, aiosmtplib.SMTPResponseException):
            what = "the sender address" if isinstance(error, aiosmtplib.SMTPSenderRefused) else "the letter"
            return self._error(
                f"the mail server refused {what}",
                permanent=error.code >= 500,
                code=error.code,
                reply=error.message,
                message_id=message_id,
            )
        if isinstance(error, aiosmtplib.SMTPNotSupported | ValueError):  # e.g. a non-ASCII address
            text = "the mail server cannot take this letter"
            return self._error(text, permanent=True, reason=str(error), message_id=message_id)
        if data_began:
            text = "the connection to the mail server was lost while it was taking the letter"
            reason = str(error) or type(error).__name__
            return SendInDoubt(text, **self._where(), reason=reason, message_id=message_id)
        if isinstance(error, TimeoutError):
            return self._error(_TIMED_OUT, message_id=message_id)
        text = "the connection to the mail server was lost"
        return self._error(text, reason=str(error), message_id=message_id)

    def _error(
        self, text: str, *, permanent: bool = False, stage: str = "send", **context: object
    ) -> SendError:
        return SendError(text, permanent=permanent, **self._where(stage), **context)

    def _where(self, stage: str = "send") -> dict[str, object]:
        """The context every SendError carries: which server, and at what stage."""
        return {"host": self.settings.host, "port": self.settings.port, "stage": stage}


class _Client(aiosmtplib.SMTP):
    """Notes when the letter itself began to go (DATA): a connection lost after that leaves it in
    doubt, since the server may have taken it."""

    data_began = False

    async def data(self, *args: Any, **kwargs: Any) -> aiosmtplib.SMTPResponse:
        self.data_began = True
        return await super().data(*args, **kwargs)


def _recipients(message: EmailMessage, message_id: str) -> list[str]:
    values = [str(value) for name in ("To", "Cc") for value in message.get_all(name, [])]
    found = [address for _, address in getaddresses(values) if address]
    if not found:
        raise SendError("the letter has no recipient", permanent=True, message_id=message_id)
    return found


def _checked_bytes(message: EmailMessage, message_id: str) -> bytes:
    """The message as it goes on the wire, serialised once; refused when its headers there differ
    from its own (an injected or lost header)."""
    try:
        data = flatten_message(message)
        wire = BytesParser(policy=policy.compat32).parsebytes(data, headersonly=True)
    except Exception as error:  # the generator refuses what it cannot write (newer Pythons)
        text = "the letter cannot be serialised"
        raise SendError(text, permanent=True, message_id=message_id, reason=str(error)) from error
    expected = [name.lower() for name in message if name.lower() not in _NOT_SENT_ON]
    found = [name.lower() for name in wire]
    if found != expected:
        unexpected = sorted(set(found) ^ set(expected)) or sorted(set(found))
        raise SendError(
            "the letter's headers would change on the way to the mail server (a line break in a header)",
            permanent=True,
            message_id=message_id,
            headers=unexpected,
        )
    return data


def _tls_failure(error: BaseException) -> ssl.SSLError | None:
    """The TLS error behind `error`: raised as is by STARTTLS, wrapped by an implicit-TLS connect."""
    for candidate in (error, error.__cause__):
        if isinstance(candidate, ssl.SSLError):
            return candidate
    return None


async def _quit(smtp: aiosmtplib.SMTP) -> None:
    """End the session politely; the letter is already accepted, so no failure here counts."""
    with contextlib.suppress(aiosmtplib.SMTPException, OSError):
        await smtp.quit()
    await _close(smtp)


async def _close(smtp: aiosmtplib.SMTP) -> None:
    """Close, and wait (briefly) until the socket itself is closed: the loop does that in a later
    callback, after the TLS goodbye if any, which a loop ending right after this send (a test,
    `run --once`) would otherwise never run."""
    transport = smtp.transport
    sock = transport.get_extra_info("socket") if transport is not None else None
    smtp.close()
    for _ in range(_CLOSE_POLLS):
        await asyncio.sleep(0 if sock is None else 0.01)
        if sock is None or sock.fileno() == -1:
            return
