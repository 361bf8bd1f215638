"""Is this message written by a person, or by a machine? Machines are never answered.

Answering automatic mail (out-of-office replies, bounces, mailing lists) with an automatic
acknowledgement is how mail loops start. The markers are the standard ones: RFC 3834
`Auto-Submitted`, `Precedence`, Microsoft's `X-Auto-Response-Suppress`/`X-Autoreply`, list
headers (RFC 2369/2919), delivery status reports (RFC 3464) and system senders.
"""

from __future__ import annotations

from mail.parse import IncomingMail

_SYSTEM_SENDERS = ("mailer-daemon@", "postmaster@", "noreply@", "no-reply@", "donotreply@")
_BULK_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply"})


def automatic(mail: IncomingMail) -> str | None:
    """Why `mail` looks automatic, or None when a person seems to have written it."""
    headers = mail.headers
    submitted = headers.get("auto-submitted", "").strip().lower()
    if submitted and submitted != "no":
        return f"Auto-Submitted: {submitted}"
    if headers.get("precedence", "").strip().lower() in _BULK_PRECEDENCE:
        return f"Precedence: {headers['precedence'].strip().lower()}"
    for name in ("x-autoreply", "x-autorespond", "list-id", "list-unsubscribe"):
        if name in headers:
            return f"{name} header"
    if "report-type=delivery-status" in headers.get("content-type", "").replace(" ", "").lower():
        return "delivery status report"
    if mail.from_address.startswith(_SYSTEM_SENDERS):
        return "sent by a mail system, not a person"
    return None
