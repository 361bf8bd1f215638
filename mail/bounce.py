"""What a report says about one of our messages: which one, and what became of it.

Two kinds of report (RFC 6522 `multipart/report`) are about a letter we sent: a delivery status
notification (a bounce, RFC 3464) and a message disposition notification (a read receipt,
RFC 8098). The original's Message-ID is looked for in the report's machine-readable part
(`Original-Message-ID`), in the returned message or headers, then in In-Reply-To and References
(many mail systems bounce without the standard structure).
"""

from __future__ import annotations

from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import Message
from email.parser import HeaderParser

from mail.parse import IncomingMail

_STATUS_PARTS = ("message/delivery-status", "message/disposition-notification")


@dataclass(frozen=True)
class Report:
    """`diagnosis`: a bounce's Status and Diagnostic-Code; `disposition`: a receipt's disposition
    type ("displayed" is read; "deleted", "dispatched" and "processed" are not), lower-cased."""

    message_ids: tuple[str, ...]
    diagnosis: str
    disposition: str = ""


def read_report(raw: bytes, mail: IncomingMail) -> Report:
    message = message_from_bytes(raw, policy=policy.default)
    ids: list[str] = []
    diagnosis = disposition = ""
    for part in message.walk():
        kind = part.get_content_type()
        if kind in ("message/rfc822", "text/rfc822-headers"):
            ids.extend(_original_ids(part))
        elif kind in _STATUS_PARTS:
            originals = (block["Original-Message-ID"] for block in _blocks(part))
            ids.extend(str(original).strip() for original in originals if original)
            diagnosis = diagnosis or _diagnosis(part)
            disposition = disposition or _disposition(part)
    ids.extend(i for i in (mail.in_reply_to, *mail.references) if i)
    why = diagnosis or "the recipient's mail server returned it"
    return Report(tuple(dict.fromkeys(ids)), why, disposition)


def _blocks(part: Message) -> list[Message]:
    """The field blocks of a status part (the stdlib parses each block, or the whole, as headers)."""
    payload = part.get_payload()
    return [b for b in payload if isinstance(b, Message)] if isinstance(payload, list) else []


def _original_ids(part: Message) -> list[str]:
    if part.get_content_type() == "message/rfc822":
        return [str(o["Message-ID"]).strip() for o in _blocks(part) if o["Message-ID"]]
    payload = part.get_payload(decode=True)
    text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    headers = HeaderParser().parsestr(text)
    return [headers["Message-ID"].strip()] if headers["Message-ID"] else []


def _diagnosis(part: Message) -> str:
    """The Status and Diagnostic-Code of the first recipient in a delivery-status part."""
    for block in _blocks(part):
        if block["Diagnostic-Code"] or block["Status"]:
            words = " ".join(str(block["Diagnostic-Code"] or "").split())
            return f"status {block['Status'] or '?'}: {words}"[:200]
    return ""


def _disposition(part: Message) -> str:
    """The type in `Disposition: <mode>; <type>[/<modifiers>]` of a disposition-notification part."""
    for block in _blocks(part):
        if block["Disposition"]:
            return str(block["Disposition"]).partition(";")[2].partition("/")[0].strip().lower()
    return ""
