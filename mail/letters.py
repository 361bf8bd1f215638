"""Letters: wording in template files, rendered to text and HTML, built into email messages.

Every sentence a complainant or another organisation reads lives in `mail/templates`, one file per
letter, so wording can be reviewed without reading code. A letter template extends `_base.txt.j2`
(reference, greeting, sign-off) and gives its subject in its first block, ``subject``. The HTML
alternative is always the same frame, `_letter.html.j2`, wrapping the text's paragraphs with
autoescape on, so nothing in a context value is ever read as markup. Missing context values fail
loudly (`StrictUndefined`) instead of sending a letter with a gap in it.

Message-IDs derive from an effect's key (`message_id_for`), so a letter sent again after a crash
carries the same id and is recognised as a repeat by the outbox and by the recipient's mail program.
They are keyed (an HMAC under the reply-token secret): replies are threaded by the ids we sent, so
nobody who only knows a case reference may compute one.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.errors import MessageError
from email.headerregistry import Address
from email.message import EmailMessage
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateNotFound,
    UndefinedError,
    select_autoescape,
)

from mail.errors import LetterContextError, LetterError, UnknownTemplateError
from mail.tokens import mac

TEMPLATE_DIR = Path(__file__).parent / "templates"
_SUFFIX = ".txt.j2"
_HTML_FRAME = "_letter.html.j2"
_LETTER_NAME = re.compile(r"[a-z][a-z0-9_]*")
_MESSAGE_ID = re.compile(r"<[^<>\s]+@[^<>\s]+>")
_BAD_DOMAIN_CHARS = frozenset("<>@()[]\\,;:\"' \t\r\n")
_MESSAGE_ID_MAC_CHARS = 26  # 130 bits


@dataclass(frozen=True)
class RenderedLetter:
    """A letter's subject line, plain text, and HTML alternative."""

    subject: str
    text: str
    html: str


@cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        undefined=StrictUndefined,
        autoescape=select_autoescape(
            enabled_extensions=("html.j2",), default_for_string=False, default=False
        ),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def template_names() -> tuple[str, ...]:
    """The names of all letters that `render_letter` knows, sorted."""
    return tuple(
        sorted(
            path.name.removesuffix(_SUFFIX)
            for path in TEMPLATE_DIR.glob(f"*{_SUFFIX}")
            if not path.name.startswith("_")
        )
    )


def render_letter(template: str, context: Mapping[str, Any]) -> RenderedLetter:
    """Render the letter `template` (a name such as 'acknowledgement') with `context`."""
    environment = _environment()
    if not _LETTER_NAME.fullmatch(template):
        raise UnknownTemplateError("no letter template of that name", template=template)
    try:
        letter = environment.get_template(template + _SUFFIX)
    except TemplateNotFound as exc:
        raise UnknownTemplateError("no letter template of that name", template=template) from exc
    if "subject" not in letter.blocks:
        raise LetterError("the letter template has no subject block", template=template)
    values = dict(context)
    try:
        subject_parts = letter.blocks["subject"](letter.new_context(values))
        subject = " ".join("".join(subject_parts).split())
        text = _tidy(letter.render(values))
        html = environment.get_template(_HTML_FRAME).render(subject=subject, paragraphs=_paragraphs(text))
    except UndefinedError as exc:
        raise LetterContextError(
            "the letter needs a value the context does not give",
            template=template,
            problem=str(exc),
        ) from exc
    return RenderedLetter(subject=subject, text=text, html=html)


def _tidy(text: str) -> str:
    """Trailing spaces off, at most one blank line in a row, one newline at the end."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    kept: list[str] = []
    for line in lines:
        if line or (kept and kept[-1]):
            kept.append(line)
    return "\n".join(kept).strip("\n") + "\n"


def _paragraphs(text: str) -> list[list[str]]:
    return [block.split("\n") for block in text.strip("\n").split("\n\n") if block.strip()]


def _one_line(value: str) -> str:
    """`value` on one line, and never read as an RFC 2047 encoded word that could hide a break."""
    flat = " ".join("".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in value).split())
    return flat.replace("=?", "= ?")


def message_id_for(key: str, domain: str, secret: bytes) -> str:
    """A Message-ID that is the same every time for the same key and secret, '<mac@domain>', and
    that cannot be computed without the secret."""
    if not domain or _BAD_DOMAIN_CHARS & set(domain):
        raise LetterError("not a usable Message-ID domain", domain=domain)
    return f"<{mac(secret, 'message-id:' + key, _MESSAGE_ID_MAC_CHARS)}@{domain}>"


def build_message(
    letter: RenderedLetter,
    *,
    from_address: str,
    from_name: str,
    to_address: str,
    to_name: str,
    message_id: str,
    sent_at: datetime,
    automatic: bool,
    in_reply_to: str | None = None,
    references: Sequence[str] = (),
    reply_to: str | None = None,
    cc: str | None = None,
) -> EmailMessage:
    """An email with the letter as text/plain and text/html alternatives.

    Names and the subject may come from a complainant's own email: any line break or control
    character in them becomes a space, and ``=?`` never starts an encoded word, so no text can
    start a header of its own or decode into a line break. Message-IDs we
    only echo (In-Reply-To, References) are dropped unless they have the plain ``<id>`` form.
    """
    if sent_at.utcoffset() is None:
        raise LetterError("sent_at must be timezone-aware", sent_at=sent_at)
    if not _MESSAGE_ID.fullmatch(message_id):
        raise LetterError("not a Message-ID", message_id=message_id)
    message = EmailMessage(policy=policy.default)
    reply = (in_reply_to or "").strip()
    refs = [r.strip() for r in references if _MESSAGE_ID.fullmatch(r.strip())]
    try:
        message["From"] = Address(display_name=_one_line(from_name), addr_spec=from_address)
        message["To"] = Address(display_name=_one_line(to_name), addr_spec=to_address)
        if cc:
            message["Cc"] = Address(addr_spec=cc)
        if reply_to:
            message["Reply-To"] = Address(addr_spec=reply_to)
        message["Subject"] = _one_line(letter.subject)
        message["Date"] = sent_at
        message["Message-ID"] = message_id
        if _MESSAGE_ID.fullmatch(reply):
            message["In-Reply-To"] = reply
        if refs:
            message["References"] = " ".join(refs)
        if automatic:
            # RFC 3834, and Microsoft's header asking Exchange not to answer with out-of-office.
            message["Auto-Submitted"] = "auto-replied"
            message["X-Auto-Response-Suppress"] = "All"
    except (ValueError, TypeError, IndexError, MessageError) as exc:
        raise LetterError("cannot build the message headers", problem=str(exc)) from exc
    message.set_content(letter.text, cte="quoted-printable")
    message.add_alternative(letter.html, subtype="html", cte="quoted-printable")
    message["Content-Language"] = "en-GB"  # after set_content, which clears Content-* headers
    return message
