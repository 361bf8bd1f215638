"""Automatic mail is recognised by the standard markers, so it is never answered."""

from __future__ import annotations

import pytest

from mail.classify import Kind, classify
from mail.parse import parse_message

OWN = frozenset({"complaints@trust.example"})
PERSON = "Pat <pat@example.org>"


def message(headers: str, sender: str = PERSON, message_id: str = "<x@example.org>") -> bytes:
    return (
        f"From: {sender}\r\nTo: complaints@trust.example\r\nSubject: Re: your letter\r\n"
        f"Message-ID: {message_id}\r\n{headers}\r\nI am out of the office.\r\n"
    ).encode()


@pytest.mark.parametrize(
    ("headers", "sender", "kind", "why"),
    [
        ("Auto-Submitted: auto-replied\r\n", PERSON, Kind.AUTO_REPLY, "Auto-Submitted"),
        ("X-Autoreply: yes\r\n", PERSON, Kind.AUTO_REPLY, "x-autoreply"),
        ("X-Auto-Response-Suppress: All\r\n", PERSON, Kind.AUTO_REPLY, "x-auto-response-suppress"),
        ("Return-Path: <>\r\n", PERSON, Kind.AUTO_REPLY, "Return-Path"),
        ("Precedence: auto_reply\r\n", PERSON, Kind.AUTO_REPLY, "Precedence"),
        ("Precedence: bulk\r\n", PERSON, Kind.BULK, "Precedence"),
        ("List-Id: <news.example.org>\r\n", PERSON, Kind.BULK, "list-id"),
        ("", "News <no-reply@news.example>", Kind.BULK, "no-reply"),
        ("", "Mail Delivery <MAILER-DAEMON@mx.example.org>", Kind.BOUNCE, "delivery"),
        (
            "Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n",
            PERSON, Kind.BOUNCE, "delivery status",
        ),
        ("", "Complaints <complaints@trust.example>", Kind.OWN, "own"),
    ],
)
def test_machine_mail_is_recognised(headers: str, sender: str, kind: Kind, why: str) -> None:
    found = classify(parse_message(message(headers, sender)), OWN, "trust.example")
    assert found is not None and found.kind is kind and why.lower() in found.reason.lower()


def test_our_own_message_id_coming_back_is_recognised() -> None:
    found = classify(parse_message(message("", message_id="<abc@trust.example>")), OWN, "trust.example")
    assert found is not None and found.kind is Kind.OWN


@pytest.mark.parametrize("headers", ["", "Auto-Submitted: no\r\n", "Precedence: first-class\r\n"])
def test_a_person_writing_is_not_automatic(headers: str) -> None:
    assert classify(parse_message(message(headers)), OWN, "trust.example") is None
