"""Reports about our letters (RFC 6522 `multipart/report`), as real mail systems write them: a bounce
marks the letter failed on its case, a read receipt marks it read; neither is ever answered or
opens a case. The samples in tests/mail/samples are written after Exchange Online, Postfix, Gmail
and Thunderbird reports (fictional domains); `{message_id}` stands for our letter's Message-ID."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.chronology_words import sentence
from bot.intake import Intake
from bot.runner import EffectRunner
from bot.service import CaseService
from mail.maildir import MaildirInbox
from store.store import Store
from tests.bot.support import NOW, files
from tests.bot.test_threading import first_case, take

SAMPLES = Path(__file__).parents[1] / "mail" / "samples"
BOUNCES = ("dsn-exchange-online.eml", "dsn-postfix.eml", "dsn-gmail.eml")
RECEIPTS = ("mdn-exchange-online.eml", "mdn-gmail.eml", "mdn-thunderbird.eml")


def report(name: str, message_id: str) -> bytes:
    return (SAMPLES / name).read_bytes().replace(b"{message_id}", message_id.encode())


def case_streams(store: Store) -> list[str]:
    return [s.stream for s in store.summaries() if s.stream.startswith("JC-")]


async def nothing_answers(runner: EffectRunner) -> None:
    sent = len(files(runner.mailer.path))  # type: ignore[attr-defined]
    await runner.run_due(NOW + timedelta(minutes=10))
    assert len(files(runner.mailer.path)) == sent  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", BOUNCES)
async def test_a_bounce_marks_the_letter_failed_on_its_case(
    name: str, intake: Intake, inbox: MaildirInbox, runner: EffectRunner, service: CaseService, store: Store
) -> None:
    ref, acknowledgement = await first_case(intake, inbox, runner)

    outcome = take(intake, inbox, report(name, acknowledgement), minutes=5)

    assert (outcome.outcome, outcome.ref, outcome.detail) == ("automatic", ref, "bounce")
    [letter] = service.load(ref).letters.values()
    assert letter.failed.startswith("bounced: status 5.1.1") and "550" in letter.failed
    assert case_streams(store) == [ref]
    await nothing_answers(runner)


@pytest.mark.parametrize("name", RECEIPTS)
async def test_a_read_receipt_marks_the_letter_read_and_the_chronology_says_so(
    name: str, intake: Intake, inbox: MaildirInbox, runner: EffectRunner, service: CaseService, store: Store
) -> None:
    ref, acknowledgement = await first_case(intake, inbox, runner)

    outcome = take(intake, inbox, report(name, acknowledgement), minutes=5)

    assert (outcome.outcome, outcome.ref, outcome.detail) == ("automatic", ref, "receipt")
    [letter] = service.load(ref).letters.values()
    assert (letter.read_at, letter.failed) == (NOW + timedelta(minutes=5), "")
    last = store.load(ref).events[-1]
    told = sentence(last, str, lambda key: ("acknowledgement", "complainant"))
    assert told == "Letter read: acknowledgement, to the complainant (a read receipt came back)."
    assert case_streams(store) == [ref]
    await nothing_answers(runner)


async def test_a_second_receipt_or_one_saying_deleted_changes_nothing_on_the_case(
    intake: Intake, inbox: MaildirInbox, runner: EffectRunner, service: CaseService, store: Store
) -> None:
    ref, acknowledgement = await first_case(intake, inbox, runner)
    first = report("mdn-exchange-online.eml", acknowledgement)
    again = first.replace(b"Message-ID:\r\n\t<", b"Message-ID:\r\n\t<again-")
    deleted = again.replace(b"<again-", b"<deleted-").replace(b"; displayed", b"; deleted")
    take(intake, inbox, first, minutes=5)
    events = len(store.load(ref).events)

    outcomes = [take(intake, inbox, data, minutes=6 + n) for n, data in enumerate((again, deleted))]

    assert [(o.outcome, o.ref, o.detail) for o in outcomes] == [("automatic", None, "receipt")] * 2
    assert len(store.load(ref).events) == events
    assert [letter.read_at for letter in service.load(ref).letters.values()] == [NOW + timedelta(minutes=5)]
    assert case_streams(store) == [ref]


@pytest.mark.parametrize("name", BOUNCES + RECEIPTS)
async def test_a_report_about_mail_we_never_sent_opens_no_case_and_is_not_answered(
    name: str, intake: Intake, inbox: MaildirInbox, runner: EffectRunner, store: Store
) -> None:
    outcome = take(intake, inbox, report(name, "<someone-else@example.org>"))

    assert (outcome.outcome, outcome.ref) == ("automatic", None)
    assert outcome.detail == ("bounce" if name in BOUNCES else "receipt")
    assert case_streams(store) == []
    await nothing_answers(runner)
