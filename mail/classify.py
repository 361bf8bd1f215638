"""Is this message written by a person, or by a machine? Machines are never answered.

Answering automatic mail (out-of-office replies, bounces, mailing lists, our own letters coming
back) with an automatic acknowledgement is how mail loops start. The markers are the standard
ones: RFC 3834 `Auto-Submitted`, `Precedence`, Microsoft's `X-Auto-Response-Suppress` and
`X-Autoreply`, list headers (RFC 2369/2919), reports (RFC 6522 `multipart/report`: delivery
status notifications per RFC 3464, read receipts per RFC 8098), an empty Return-Path, and system
senders. A report's `report-type` is read as a MIME parameter: quoted or not, in any case.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import Message
from enum import StrEnum

from mail.parse import IncomingMail

_SYSTEM_SENDERS = ("mailer-daemon@", "postmaster@")
_NO_REPLY = ("noreply@", "no-reply@", "donotreply@", "do-not-reply@")
_BULK_PRECEDENCE = frozenset({"bulk", "junk", "list"})


class Kind(StrEnum):
    BOUNCE = "bounce"
    RECEIPT = "receipt"
    AUTO_REPLY = "auto_reply"
    BULK = "bulk"
    OWN = "own"


@dataclass(frozen=True)
class Automatic:
    kind: Kind
    reason: str


def classify(mail: IncomingMail, own_addresses: frozenset[str], own_domain: str) -> Automatic | None:
    """Why `mail` is automatic, or None when a person seems to have written it."""
    headers = mail.headers
    sender = mail.from_address
    report = report_type(headers.get("content-type", ""))
    if report == "delivery-status" or sender.startswith(_SYSTEM_SENDERS):
        return Automatic(Kind.BOUNCE, "delivery status report")
    if report == "disposition-notification":
        return Automatic(Kind.RECEIPT, "read receipt")
    if report is not None:
        return Automatic(Kind.AUTO_REPLY, f"{report or 'untyped'} report")
    if sender in own_addresses or mail.message_id.endswith(f"@{own_domain}>"):
        return Automatic(Kind.OWN, "our own letter came back")
    submitted = headers.get("auto-submitted", "").strip().lower()
    if submitted and submitted != "no":
        return Automatic(Kind.AUTO_REPLY, f"Auto-Submitted: {submitted}")
    for name in ("x-autoreply", "x-autorespond", "x-auto-response-suppress"):
        if name in headers:
            return Automatic(Kind.AUTO_REPLY, f"{name} header")
    if headers.get("return-path", "").strip() == "<>":
        return Automatic(Kind.AUTO_REPLY, "empty Return-Path")
    precedence = headers.get("precedence", "").strip().lower()
    if precedence == "auto_reply":
        return Automatic(Kind.AUTO_REPLY, "Precedence: auto_reply")
    if precedence in _BULK_PRECEDENCE:
        return Automatic(Kind.BULK, f"Precedence: {precedence}")
    for name in ("list-id", "list-unsubscribe"):
        if name in headers:
            return Automatic(Kind.BULK, f"{name} header")
    if sender.startswith(_NO_REPLY):
        return Automatic(Kind.BULK, "sent from a no-reply address")
    return None


def report_type(content_type: str) -> str | None:
    """The lower-cased `report-type` of a multipart/report ("" if it names none), else None."""
    header = Message()
    header["Content-Type"] = content_type
    if header.get_content_type() != "multipart/report":
        return None
    return str(header.get_param("report-type") or "").strip().lower()
