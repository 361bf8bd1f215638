"""Automatic mail is recognised by the standard markers, so it is never answered."""

from __future__ import annotations

import pytest

from mail.classify import automatic
from mail.parse import parse_message


def message(headers: str, sender: str = "Pat <pat@example.org>") -> bytes:
    return (
        f"From: {sender}\r\nTo: complaints@trust.example\r\nSubject: Re: your letter\r\n"
        f"Message-ID: <x@example.org>\r\n{headers}\r\nI am out of the office.\r\n"
    ).encode()


@pytest.mark.parametrize(
    ("headers", "sender", "why"),
    [
        ("Auto-Submitted: auto-replied\r\n", "Pat <pat@example.org>", "Auto-Submitted"),
        ("Precedence: bulk\r\n", "Pat <pat@example.org>", "Precedence"),
        ("X-Autoreply: yes\r\n", "Pat <pat@example.org>", "x-autoreply"),
        ("List-Id: <news.example.org>\r\n", "Pat <pat@example.org>", "list-id"),
        ("", "Mail Delivery <MAILER-DAEMON@mx.example.org>", "mail system"),
        (
            "Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n",
            "Pat <pat@example.org>",
            "delivery status",
        ),
    ],
)
def test_machine_mail_is_recognised(headers: str, sender: str, why: str) -> None:
    reason = automatic(parse_message(message(headers, sender)))
    assert reason is not None and why.lower() in reason.lower()


@pytest.mark.parametrize("headers", ["", "Auto-Submitted: no\r\n", "Precedence: first-class\r\n"])
def test_a_person_writing_is_not_automatic(headers: str) -> None:
    assert automatic(parse_message(message(headers))) is None
