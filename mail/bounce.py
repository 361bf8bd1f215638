"""What a bounce says: which of our messages failed, and why (RFC 3464 delivery status reports).

The original's Message-ID is looked for in the returned message or headers part of the report,
then in In-Reply-To and References (many mail systems bounce without the standard structure).
"""

from __future__ import annotations

from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from email.parser import HeaderParser

from mail.parse import IncomingMail


@dataclass(frozen=True)
class Bounce:
    message_ids: tuple[str, ...]
    diagnosis: str


def read_bounce(raw: bytes, mail: IncomingMail) -> Bounce:
    message = message_from_bytes(raw, policy=policy.default)
    ids: list[str] = []
    diagnosis = ""
    for part in message.walk():
        kind = part.get_content_type()
        if kind in ("message/rfc822", "text/rfc822-headers"):
            ids.extend(_original_ids(part))
        elif kind == "message/delivery-status":
            diagnosis = diagnosis or _diagnosis(part)
    ids.extend(i for i in (mail.in_reply_to, *mail.references) if i)
    return Bounce(tuple(dict.fromkeys(ids)), diagnosis or "the recipient's mail server returned it")


def _original_ids(part: Message) -> list[str]:
    if part.get_content_type() == "message/rfc822":
        inner = part.get_payload()
        originals = inner if isinstance(inner, list) else [inner]
        return [str(o["Message-ID"]).strip() for o in originals if isinstance(o, Message) and o["Message-ID"]]
    payload = part.get_payload(decode=True)
    text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    headers = HeaderParser().parsestr(text)
    return [headers["Message-ID"].strip()] if headers["Message-ID"] else []


def _diagnosis(part: Message) -> str:
    """The Status and Diagnostic-Code of the first recipient in a delivery-status part."""
    for block in part.get_payload() if isinstance(part.get_payload(), list) else []:
        if isinstance(block, EmailMessage | Message) and (block["Diagnostic-Code"] or block["Status"]):
            words = " ".join(str(block["Diagnostic-Code"] or "").split())
            return f"status {block['Status'] or '?'}: {words}"[:200]
    return ""
