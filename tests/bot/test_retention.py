"""Retention: a closed record is due for review 10 years after closure; destroying it, by an explicit
handler command, leaves only a tombstone, and nothing personal stays in any store file."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from bot.config import Config
from bot.directory import org_ref, system_actor
from bot.retention import destroy, due_for_review
from bot.service import CaseService
from flows import commands as c
from flows.codec import event_from_plain
from flows.errors import Forbidden, InvalidCommand
from flows.events import CaseDestroyed
from flows.model import Attachment, Channel, Person
from mail.attachments import AttachmentStore
from store.store import Store
from tests.bot.support import RECEIVED

CLOSED = RECEIVED + timedelta(days=20)
REVIEW = date(2036, 12, 15)  # 10 years after the London day of closure, 15 December 2026
NAME, EMAIL, TEXT = (
    "Philippa Quennell-Orme",
    "p.quennell@example.org",
    "My husband's hip fracture was missed.",
)
PHILIPPA = Person(NAME, EMAIL)


def closed_case(
    config: Config,
    service: CaseService,
    key: str,
    data: bytes,
    who: Person = PHILIPPA,
    text: str = TEXT,
) -> str:
    """A complaint by `who` with an attachment, withdrawn (closed) on `CLOSED`."""
    files = AttachmentStore(config.service.data_dir / "attachments")
    stored = files.save(data, filename="x-ray report.pdf", content_type="application/pdf")
    ref = service.new_ref(RECEIVED, key)
    received = c.ReceiveComplaint(
        actor=system_actor(config), channel=Channel.EMAIL, received_at=RECEIVED,
        complainant=who, home_org=org_ref(config, config.service.home_organisation),
        subject="Missed fracture", text=text, message_id=f"<{key}@mail.example.org>",
        attachments=(Attachment(stored.name, "x-ray report.pdf", "application/pdf", len(data)),),
    )  # fmt: skip
    service.execute(ref, received, RECEIVED, keys=[f"<{key}@mail.example.org>"])
    withdrawn = c.WithdrawComplaint(actor=system_actor(config), note=f"{who.name} withdrew it by phone")
    service.execute(ref, withdrawn, CLOSED)
    return ref


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 10, tzinfo=CLOSED.tzinfo)


def test_a_closed_record_is_due_for_review_ten_years_after_closure(
    config: Config, service: CaseService
) -> None:
    ref = closed_case(config, service, "one", b"%PDF-1.4 scan")

    assert due_for_review(service, REVIEW - timedelta(days=1)) == []
    [due] = due_for_review(service, REVIEW)
    assert (due.ref, due.review_on) == (ref, REVIEW.isoformat())


def test_destroying_needs_a_handler_and_the_review_date(config: Config, service: CaseService) -> None:
    ref = closed_case(config, service, "one", b"%PDF-1.4 scan")

    with pytest.raises(InvalidCommand, match="kept until its review"):
        destroy(service, config, ref, "asha-patel", "Retention period over", at(REVIEW - timedelta(days=1)))
    with pytest.raises(Forbidden):
        destroy(
            service, config, ref, "lena-okafor", "Retention period over", at(REVIEW)
        )  # another organisation
    with pytest.raises(InvalidCommand, match="why the record is destroyed"):
        destroy(service, config, ref, "asha-patel", " ", at(REVIEW))


def test_a_destroyed_record_leaves_only_its_tombstone_and_nothing_personal(
    config: Config, service: CaseService
) -> None:
    ref = closed_case(config, service, "one", b"%PDF-1.4 scan of Philippa")
    someone = Person("Tom Example", "tom@example.org")
    other = closed_case(config, service, "two", b"%PDF-1.4 shared letter", someone, "Rude porter.")
    shared = closed_case(config, service, "three", b"%PDF-1.4 shared letter", someone, "Lost glasses.")
    files = AttachmentStore(config.service.data_dir / "attachments")
    mine = service.load(ref).attachments[0].name

    assert destroy(service, config, ref, "asha-patel", "Retention period over", at(REVIEW)) == 1
    assert destroy(service, config, other, "asha-patel", "Retention period over", at(REVIEW)) == 0

    [tombstone] = [event_from_plain(e) for e in service.store.load(ref).events]
    assert isinstance(tombstone, CaseDestroyed)
    assert (tombstone.by, tombstone.reason, tombstone.received_on) == ("asha-patel", "Retention period over",
                                                                      RECEIVED.date())  # fmt: skip
    assert not files.path(mine).exists()
    assert files.path(service.load(shared).attachments[0].name).exists()  # still held by another case
    assert [d.ref for d in due_for_review(service, REVIEW)] == [shared]
    assert service.store.summary(ref).summary["destroyed"] is True  # type: ignore[union-attr]
    assert not service.store.has_key("<one@mail.example.org>")

    service.store.close()
    for path in Path(config.service.data_dir).rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            for personal in (NAME, EMAIL, "hip fracture", "Philippa", "one@mail.example.org"):
                assert personal.encode() not in content, (personal, path)
    with Store.open(config.store_dir) as again:  # and so it stays when the store is opened again
        assert [e["type"] for e in again.load(ref).events] == ["CaseDestroyed"]
        assert not again.has_key("<one@mail.example.org>")
