"""Intake from a real Maildir: each message becomes one case exactly once, or is quarantined with its
reason, and one bad message never holds up the next."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.intake import Intake
from bot.service import CaseService
from flows.calendar import acknowledgement_due
from flows.model import Status
from mail.maildir import MaildirInbox
from store.store import Store
from tests.bot.support import (
    NOW,
    RECEIVED,
    SAMPLE_ADDRESSES,
    complaint,
    deliver_samples,
    files,
    opened,
    sample,
)


def processed(inbox: MaildirInbox) -> list[Path]:
    return files(inbox.path / ".Processed" / "cur")


def quarantined(inbox: MaildirInbox) -> list[Path]:
    return files(inbox.path / ".Quarantine" / "cur")


def cases(store: Store) -> list[str]:
    return sorted(s.stream for s in store.summaries() if s.stream.startswith("JC-"))


def quarantine_streams(store: Store) -> list[str]:
    return sorted(s.stream for s in store.summaries() if s.stream.startswith("Q-"))


def test_each_sample_becomes_one_case_with_its_acknowledgement_pending(
    intake: Intake, inbox: MaildirInbox, store: Store, service: CaseService
) -> None:
    deliver_samples(inbox)

    refs = opened(intake.poll(NOW))

    assert len(refs) == 3
    assert sorted(refs) == cases(store)
    for minutes, ref in enumerate(refs, 1):
        case = service.load(ref)
        assert case.status is Status.RECEIVED
        assert case.received_at == RECEIVED + timedelta(minutes=minutes)
        [letter] = case.letters.values()
        assert (letter.template, letter.to, letter.sent_at) == ("acknowledgement", "complainant", None)
    letters = [r.effect for _, r in store.due_effects(NOW) if r.effect["type"] == "SendLetter"]
    assert sorted(e["to"]["address"].casefold() for e in letters) == sorted(SAMPLE_ADDRESSES)
    assert "<20261123194210.4f1c@mail.example.org>" in {e["in_reply_to"] for e in letters}
    assert inbox.pending() == []
    assert len(processed(inbox)) == 3


def test_the_statutory_clock_starts_when_the_mail_arrived_not_when_it_was_read(
    intake: Intake, inbox: MaildirInbox, store: Store
) -> None:
    inbox.deliver(sample(1), RECEIVED)

    [ref] = opened(intake.poll(NOW + timedelta(days=2)))

    summary = store.load(ref).summary
    assert summary["received_at"] == RECEIVED.isoformat()
    assert summary["acknowledgement_due"] == acknowledgement_due(RECEIVED).isoformat()


def test_the_same_message_delivered_again_opens_no_second_case_and_is_filed(
    intake: Intake, inbox: MaildirInbox, store: Store
) -> None:
    inbox.deliver(sample(2), RECEIVED)
    [ref] = opened(intake.poll(NOW))
    again = inbox.deliver(sample(2), RECEIVED + timedelta(hours=1))

    assert opened(intake.poll(NOW + timedelta(hours=1))) == []

    assert cases(store) == [ref]
    assert store.load(ref).version == 2
    assert inbox.pending() == []
    assert len(processed(inbox)) == 2
    assert any(p.name.startswith(again) for p in processed(inbox))


def test_a_message_without_message_id_is_still_taken_in_only_once(
    intake: Intake, inbox: MaildirInbox, store: Store
) -> None:
    bare = complaint(message_id="")
    inbox.deliver(bare, RECEIVED)
    inbox.deliver(bare, RECEIVED + timedelta(minutes=5))

    assert len(opened(intake.poll(NOW))) == 1

    assert len(cases(store)) == 1
    assert len(processed(inbox)) == 2


def test_a_crash_between_storing_and_filing_is_recognised_next_poll(
    intake: Intake, inbox: MaildirInbox, store: Store
) -> None:
    uid = inbox.deliver(sample(1), RECEIVED)
    [raw] = inbox.pending()
    ref = intake.take(raw, NOW).ref
    assert ref is not None
    [filed] = processed(inbox)
    filed.rename(inbox.path / "new" / uid)  # as if the process died before the move
    effects = len(store.load(ref).effects)

    assert opened(intake.poll(NOW + timedelta(minutes=1))) == []

    assert cases(store) == [ref]
    assert len(store.load(ref).effects) == effects
    assert inbox.pending() == []
    assert [p.name for p in processed(inbox)] == [filed.name]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "unreadable email: empty"),
        (b" \r\n\r\n ", "unreadable email: empty"),
        (b"\x00\x01\x02 nothing like a header", "unreadable email: no-headers"),
    ],
)
def test_an_unreadable_message_is_quarantined_and_the_next_is_still_taken(
    intake: Intake, inbox: MaildirInbox, store: Store, data: bytes, reason: str
) -> None:
    bad = inbox.deliver(data, RECEIVED)
    inbox.deliver(sample(1), RECEIVED + timedelta(minutes=1))

    refs = opened(intake.poll(NOW))

    assert len(refs) == 1
    assert cases(store) == refs
    assert [p.name.split(":")[0] for p in quarantined(inbox)] == [bad]
    assert quarantined(inbox)[0].read_bytes() == data
    assert (inbox.path / ".Quarantine" / "reasons" / f"{bad}.reason.txt").read_text() == reason + "\n"
    [stream] = quarantine_streams(store)
    record = store.load(stream)
    [event] = record.events
    assert (event["type"], event["uid"], event["reason"]) == ("MailQuarantined", bad, reason)
    [effect] = record.effects
    assert effect.status == "pending"
    assert effect.effect["type"] == "Notify"
    assert effect.effect["message"] == "mail_quarantined"
    assert effect.effect["audience"] == "handlers"
    assert effect.effect["context"] == {"ref": stream, "reason": reason}
    assert record.summary["open"] is False
    assert inbox.pending() == []


def test_the_same_unreadable_bytes_twice_are_both_set_aside_with_one_notice(
    intake: Intake, inbox: MaildirInbox, store: Store
) -> None:
    inbox.deliver(b"", RECEIVED)
    inbox.deliver(b"", RECEIVED + timedelta(minutes=1))

    assert opened(intake.poll(NOW)) == []

    [stream] = quarantine_streams(store)
    assert len(store.load(stream).effects) == 1
    assert len(quarantined(inbox)) == 2
    assert cases(store) == []


def test_sample_02_suggests_the_council_and_meadowbank(
    intake: Intake, inbox: MaildirInbox, service: CaseService
) -> None:
    inbox.deliver(sample(2), RECEIVED)

    [ref] = opened(intake.poll(NOW))

    suggested = service.load(ref).suggested_orgs
    assert {"northshire-council", "meadowbank"} <= set(suggested)
    assert "riverside-gp" not in suggested


@pytest.mark.parametrize(
    ("subject", "text", "expected"),
    [
        ("A complaint", "My GP at Riverside surgery never sent the referral.", {"riverside-gp"}),
        ("A complaint", "Staff at MEADOWBANK lost her glasses.", {"meadowbank"}),
        ("About the council", "Nobody came to help.", {"northshire-council"}),
        ("A complaint", "Nobody came to help.", set()),
    ],
)
def test_organisations_named_in_subject_or_text_are_suggested_on_the_case(
    intake: Intake, inbox: MaildirInbox, service: CaseService, subject: str, text: str, expected: set[str]
) -> None:
    inbox.deliver(complaint(subject=subject, text=text), RECEIVED)

    [ref] = opened(intake.poll(NOW))

    assert set(service.load(ref).suggested_orgs) == expected


def test_a_complaint_without_a_sender_address_is_opened_without_an_acknowledgement_letter(
    intake: Intake, inbox: MaildirInbox, service: CaseService, store: Store
) -> None:
    inbox.deliver(complaint(sender=""), RECEIVED)

    [ref] = opened(intake.poll(NOW))

    assert service.load(ref).letters == {}
    assert [r.effect["type"] for r in store.load(ref).effects] == ["Notify"]


def test_an_automatic_reply_is_not_answered_with_an_automatic_acknowledgement(
    intake: Intake, inbox: MaildirInbox, store: Store
) -> None:
    out_of_office = complaint(
        message_id="<ooo-1@example.org>",
        subject="Automatic reply: Your complaint JC-261124-UAP6",
        text="I am out of the office until Monday.",
        sender="Margaret Ellison <margaret.ellison@example.org>",
        extra=("Auto-Submitted: auto-replied", "In-Reply-To: <0123abcd@jointly.invalid>"),
    )
    inbox.deliver(out_of_office, RECEIVED)

    opened(intake.poll(NOW))

    assert inbox.pending() == []
    assert [r.effect for _, r in store.due_effects(NOW) if r.effect["type"] == "SendLetter"] == []
