"""`jointly check-mail`: log in to the configured mailbox and outbox as the service would, count the
mailbox's folders, and send nothing.

It is for setting up and after a change (a new app registration, a rotated secret), so it needs no
store and runs beside a running service. Local parts (a Maildir, a folder of .eml files) have
nothing to log in to and are only named.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from bot.app import NotAvailable, imap_inbox, oauth2_tokens, smtp_mailer
from bot.config import Config
from mail.errors import MailError
from mail.oauth import Tokens
from mail.settings import ImapMailbox, Mailbox, Outbox, SmtpOutbox


def check_mail(config: Config, environ: Mapping[str, str]) -> list[str]:
    """A line about the mailbox and one about the outbox; `NotAvailable` at the first failure,
    naming the part (``mailbox``, ``outbox``, ``oauth2``) and what went wrong."""
    part = "oauth2"
    try:
        tokens = oauth2_tokens(config, environ)
        part = "mailbox"
        lines = [_mailbox(config.mailbox, environ, tokens)]
        part = "outbox"
        lines.append(_outbox(config.outbox, environ, tokens))
    except MailError as error:
        raise NotAvailable(f"{part}: {error}") from None
    return lines


def _mailbox(box: Mailbox, environ: Mapping[str, str], tokens: Tokens | None) -> str:
    if not isinstance(box, ImapMailbox):
        return f"mailbox: the local Maildir {box.path} (nothing to log in to)"
    inbox = imap_inbox(box, _NoCursor(), environ, tokens)
    try:
        counts = inbox.counts()
    finally:
        inbox.close()
    if box.sent_folder and counts[box.sent_folder] is None:
        raise NotAvailable(f"mailbox.sent_folder: there is no folder {box.sent_folder!r} on the server")
    folders = ", ".join(f"{name} {'(not made yet)' if n is None else n}" for name, n in counts.items())
    return f"mailbox: logged in to {box.host}:{box.port} as {box.username} ({box.auth}); messages: {folders}"


def _outbox(out: Outbox, environ: Mapping[str, str], tokens: Tokens | None) -> str:
    if not isinstance(out, SmtpOutbox):
        return f"outbox: .eml files in {out.path} (nothing to log in to)"
    asyncio.run(smtp_mailer(out, environ, tokens).check())
    login = f"logged in as {out.username} ({out.auth})" if out.username else "no login configured"
    return f"outbox: {out.host}:{out.port} ({out.security}), {login}; nothing sent"


class _NoCursor:
    """The mailbox's reading position is not needed: nothing is read (and no store is opened)."""

    def get_cursor(self, name: str) -> dict[str, Any] | None:
        return None

    def set_cursor(self, name: str, value: Mapping[str, Any]) -> None:
        raise AssertionError("check-mail moves no mail")
