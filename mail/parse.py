"""Raw email bytes to an `IncomingMail`: the one intake path for the Maildir and IMAP readers.

Any email to the shared mailbox may be a complaint, so parsing degrades instead of failing: odd
charsets, broken encoded-words, an unknown transfer encoding, a missing Message-ID or a bad Date
still give a usable value, and `MailParseError` is raised only when the bytes hold no email at all.
A header given more than once (two Subjects, two Message-IDs) counts by its first value. A
multipart part without a boundary cannot be split, so its body (up to 1 MB) is read as plain
text rather than hidden in an attachment. Attachments are kept as data; a sender's filename is
never used as a path (`mail.attachments` stores files under generated names).

Structure comes from the stdlib `email` package with the `compat32` policy: header values are read
raw and decoded by `mail.decode`, which never raises, so the `default` policy's header objects would
only add cost (it re-parses a header at each access: 5,000 tiny parts took over a second).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.errors import NoBoundaryInMultipartDefect
from email.message import Message
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from types import MappingProxyType

from mail.decode import addresses, clean, decode_bytes, decode_words, unfold
from mail.errors import MailParseError
from mail.text import html_to_text, split_quoted

_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
_BODY_TYPES = ("text/plain", "text/html")
_NAMED_IN = frozenset({"content-disposition", "content-type"})
_MAX_UNSPLIT_TEXT = 1_000_000


@dataclass(frozen=True)
class Attachment:
    """A file sent with a message. `filename` is the sender's name for it: data, never a path."""

    filename: str
    content_type: str
    size: int
    sha256: str
    data: bytes


@dataclass(frozen=True)
class IncomingMail:
    """What intake needs from one received message, every field already decoded.

    `message_id` is synthesised from the bytes' hash when missing, so duplicates still match;
    `text` is the new text (plain preferred, else HTML read as text) and `quoted` the reply
    history cut from it; `headers` holds the first value of each header (a repeated header's
    later values are ignored), names lower-cased, for classifying auto-replies and lists later;
    `size` is the raw length in bytes; `authentication_results` every Authentication-Results
    header, topmost first, unfolded (read by `mail.auth`).
    """

    message_id: str
    from_address: str
    from_name: str
    to: tuple[str, ...]
    subject: str
    sent_at: datetime | None
    text: str
    quoted: str
    in_reply_to: str | None
    references: tuple[str, ...]
    headers: Mapping[str, str]
    attachments: tuple[Attachment, ...]
    size: int
    authentication_results: tuple[str, ...]


def parse_message(raw: bytes) -> IncomingMail:
    """Parse raw RFC 5322 bytes; raises `MailParseError` only if nothing usable can be read."""
    if not raw.strip():
        raise MailParseError("the message is empty", reason="empty")
    message = _structure(raw)
    raw_headers = _raw_headers(message)
    if not raw_headers:
        raise MailParseError("the message has no headers", reason="no-headers")
    headers = {name: decode_words(unfold(values[0])) for name, values in raw_headers.items()}
    sender = addresses(raw_headers.get("from", []))
    text, attachments = _body(message)
    new_text, quoted = split_quoted(text)
    return IncomingMail(
        message_id=_message_id(raw_headers, raw),
        from_address=sender[0][1] if sender else "",
        from_name=sender[0][0] if sender else "",
        to=tuple(address for _, address in addresses(raw_headers.get("to", []))),
        subject=headers.get("subject", ""),
        sent_at=_date(headers.get("date")),
        text=new_text,
        quoted=quoted,
        in_reply_to=next(iter(_message_ids(raw_headers.get("in-reply-to", [])[:1])), None),
        references=_message_ids(raw_headers.get("references", [])),
        headers=MappingProxyType(headers),
        attachments=attachments,
        size=len(raw),
        authentication_results=tuple(
            clean(unfold(value)) for value in raw_headers.get("authentication-results", [])
        ),
    )


def _structure(raw: bytes) -> Message:
    """The parsed message; if its MIME structure defeats the parser, its headers alone."""
    try:
        return message_from_bytes(raw, policy=policy.compat32)
    except Exception:  # e.g. RecursionError on hostile nesting; the body is then kept as data
        pass
    try:
        return BytesParser(policy=policy.compat32).parsebytes(raw, headersonly=True)
    except Exception as exc:
        raise MailParseError(reason="unparseable", error=repr(exc)) from exc


def _raw_headers(message: Message) -> dict[str, list[str]]:
    """Lower-cased header names -> raw values in order, before any header-class parsing."""
    found: dict[str, list[str]] = {}
    for name, value in message.raw_items():
        key = clean(name).strip().lower()
        if key:
            found.setdefault(key, []).append(str(value))
    return found


def _message_id(raw_headers: Mapping[str, list[str]], raw: bytes) -> str:
    given = clean(unfold(raw_headers.get("message-id", [""])[0])).strip()
    if given:
        return given
    # Deterministic, so the same bytes delivered twice are still recognised as one message.
    return f"<{hashlib.sha256(raw).hexdigest()[:32]}@missing-id.jointly.invalid>"


def _message_ids(values: list[str]) -> tuple[str, ...]:
    return tuple(_MESSAGE_ID.findall(clean(unfold(" ".join(values)))))


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        sent = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    # '-0000' means "time zone unknown": the stdlib gives a naive value; read it as UTC.
    return sent if sent.tzinfo is not None else sent.replace(tzinfo=UTC)


def _body(message: Message) -> tuple[str, tuple[Attachment, ...]]:
    """The message's text (plain preferred, else HTML as text) and its other parts as files."""
    plain: list[str] = []
    html: list[Message] = []  # decoded only if there is no plain text (usually there is)
    attachments: list[Attachment] = []
    for part in _leaves(message):
        content_type = _content_type(part)
        filename = _filename(part)
        if _unsplittable(part):
            plain.append(_text_of(part))
        elif content_type in _BODY_TYPES and not filename and not _is_attachment(part):
            if content_type == "text/plain":
                plain.append(_text_of(part))
            else:
                html.append(part)
        else:
            attachments.append(_attachment(part, content_type, filename))
    texts = plain or [html_to_text(_text_of(part)) for part in html]
    return "\n\n".join(texts), tuple(attachments)


def _leaves(message: Message) -> Iterator[Message]:
    """Every non-multipart part in order; an attached message counts as one leaf."""
    stack = [message]  # a stack, not recursion: nesting depth is the sender's choice
    while stack:
        part = stack.pop()
        if part.is_multipart() and part.get_content_maintype() == "multipart":
            subparts = part.get_payload()
            if isinstance(subparts, list):
                stack.extend(sub for sub in reversed(subparts) if isinstance(sub, Message))
        else:
            yield part


def _unsplittable(part: Message) -> bool:
    """A multipart that names no boundary, small enough to read as text (a large one is a file)."""
    if not any(isinstance(defect, NoBoundaryInMultipartDefect) for defect in part.defects):
        return False  # the usual case, known without get_payload (which may re-decode the body)
    try:
        payload = part.get_payload()
    except Exception:  # e.g. ValueError from a NUL in its charset: then it stays a file
        return False
    return isinstance(payload, str) and len(payload) <= _MAX_UNSPLIT_TEXT


def _content_type(part: Message) -> str:
    try:
        return part.get_content_type()
    except Exception:
        return "application/octet-stream"


def _filename(part: Message) -> str:
    # A filename is a 'filename' or 'name' parameter: where no header has those letters, the
    # stdlib's parameter parsing (most of a body part's cost) cannot find one.
    if not any("name" in value.lower() for name, value in part.raw_items() if name.lower() in _NAMED_IN):
        return ""
    try:
        name = part.get_filename()
    except Exception:
        return ""
    return decode_words(unfold(name)).strip() if name else ""


def _is_attachment(part: Message) -> bool:
    try:
        return part.get_content_disposition() == "attachment"
    except Exception:
        return False


def _payload_bytes(part: Message) -> bytes:
    try:
        if part.get_content_maintype() == "message" or part.is_multipart():
            inner = part.get_payload(0)
            return inner.as_bytes() if isinstance(inner, Message) else b""
        payload = part.get_payload(decode=True)
    except Exception:
        payload = None
    if isinstance(payload, bytes):
        return payload
    raw = part.get_payload()
    return raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else b""


def _text_of(part: Message) -> str:
    try:
        charset = part.get_content_charset()
    except Exception:
        charset = None
    text = decode_bytes(_payload_bytes(part), charset)
    return clean(text.replace("\r\n", "\n").replace("\r", "\n"))


def _attachment(part: Message, content_type: str, filename: str) -> Attachment:
    data = _payload_bytes(part)
    return Attachment(
        filename=filename,
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        data=data,
    )
