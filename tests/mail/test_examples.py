"""The bundled sample complaints parse, and go through the local inbox like real mail."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from mail.maildir import MaildirInbox
from mail.parse import parse_message

EXAMPLES = Path(__file__).resolve().parents[2] / "bot" / "examples"
MAILBOX = "complaints@northshire-trust.example"


def test_there_are_three_samples() -> None:
    assert sorted(path.name for path in EXAMPLES.glob("*.eml")) == [
        "01-nhs-only.eml", "02-nhs-and-social-care.eml", "03-gp-and-trust.eml",
    ]


@pytest.mark.parametrize(("name", "sender", "mentions"), [
    ("01-nhs-only.eml", "Margaret Ellison", ["Larch Ward", "Northshire General Hospital"]),
    ("02-nhs-and-social-care.eml", "David Okafor",
     ["Northshire General Hospital", "Northshire County Council", "Meadowbank Care Home"]),
    ("03-gp-and-trust.eml", "Siobh\u00e1n O'Neill",
     ["Riverside Medical Practice", "outpatient clinic"]),
])
def test_sample_complaint_parses(name: str, sender: str, mentions: list[str]) -> None:
    mail = parse_message((EXAMPLES / name).read_bytes())
    assert mail.from_name == sender
    assert mail.to == (MAILBOX,)
    assert mail.message_id.startswith("<") and "missing-id" not in mail.message_id
    assert isinstance(mail.sent_at, datetime)
    assert (mail.sent_at.year, mail.sent_at.month) == (2026, 11)
    assert mail.subject and mail.quoted == "" and mail.attachments == ()
    for words in mentions:
        assert words in " ".join(mail.text.split())


def test_gp_sample_has_an_encoded_subject() -> None:
    mail = parse_message((EXAMPLES / "03-gp-and-trust.eml").read_bytes())
    assert mail.subject == "Referral delays \u2013 GP and outpatient clinic"
    assert mail.from_address == "siobhan.oneill@example.net"


def test_samples_go_through_the_local_inbox(tmp_path: Path) -> None:
    inbox = MaildirInbox(tmp_path / "inbox")
    for path in sorted(EXAMPLES.glob("*.eml")):
        inbox.deliver(path.read_bytes())
    subjects = [parse_message(raw.data).subject for raw in inbox.pending()]
    assert len(subjects) == 3
    for raw in inbox.pending():
        inbox.mark_processed(raw.uid)
    assert inbox.pending() == []
