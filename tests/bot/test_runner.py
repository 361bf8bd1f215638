"""The effect runner: letters become .eml files recorded as sent, notices reach the chat, failures are
retried with capped backoff, and nothing is lost or doubled across a crash or a restart."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from bot.config import Config, Runner
from bot.directory import actor
from bot.intake import Intake
from bot.runner import EffectRunner
from bot.service import CaseService
from flows.codec import effect_from_plain
from flows.effects import SendLetter
from flows.prompts import next_prompts
from mail.letters import message_id_for
from mail.maildir import MaildirInbox
from mail.outbox import FileOutbox
from store.records import EffectRecord
from store.store import Store
from tests.bot.fakes import RecordingChat, RecordingMailer
from tests.bot.support import (
    NOW,
    RECEIVED,
    SAMPLE_ADDRESSES,
    SAMPLE_NAMES,
    SECRET,
    complaint,
    deliver_samples,
    files,
    opened,
    plain_text,
    read_eml,
    sample,
)

SECOND = timedelta(seconds=1)


def open_one(inbox: MaildirInbox, intake: Intake) -> str:
    inbox.deliver(sample(1), RECEIVED)
    [ref] = opened(intake.poll(NOW))
    return ref


def letter_record(store: Store, ref: str) -> EffectRecord:
    [record] = [r for r in store.load(ref).effects if r.effect["type"] == "SendLetter"]
    return record


async def test_due_letters_are_written_as_eml_and_recorded_as_sent(
    runner: EffectRunner,
    intake: Intake,
    inbox: MaildirInbox,
    service: CaseService,
    store: Store,
    config: Config,
    outbox_dir: Path,
) -> None:
    deliver_samples(inbox)
    refs = opened(intake.poll(NOW))

    assert await runner.run_due(NOW) == 6

    messages = {str(m["Message-ID"]): m for m in map(read_eml, files(outbox_dir))}
    assert len(messages) == 3
    for ref in refs:
        case = service.load(ref)
        [letter] = case.letters.values()
        expected = message_id_for(letter.key, config.service.reply_domain, SECRET)
        assert (letter.message_id, letter.sent_at, case.acknowledged_at) == (expected, NOW, NOW)
        assert store.load(ref).events[-1]["type"] == "LetterSent"
        assert store.load(ref).summary["acknowledged_at"] == NOW.isoformat()
        message = messages[expected]
        assert message["To"].addresses[0].addr_spec == case.complainant.email
        assert message["In-Reply-To"] == store.load(ref).events[0]["message_id"]
        assert message["Auto-Submitted"] == "auto-replied"
        assert ref in plain_text(message)
    recipients = {str(m["To"].addresses[0].addr_spec).casefold() for m in messages.values()}
    assert recipients == set(SAMPLE_ADDRESSES)
    assert store.due_effects(NOW + timedelta(days=365)) == []


async def test_notices_carry_the_reference_and_never_the_complainant(
    runner: EffectRunner, intake: Intake, inbox: MaildirInbox, chat: RecordingChat
) -> None:
    deliver_samples(inbox)
    refs = opened(intake.poll(NOW))

    await runner.run_due(NOW)

    assert sorted(s.ref for s in chat.said) == sorted(refs)
    for said in chat.said:
        assert said.ref in said.text
        assert said.to == ("handlers",)
        assert "New complaint" in said.text
        for personal in (*SAMPLE_NAMES, *SAMPLE_ADDRESSES, "Grace", "diabetes", "07700"):
            assert personal.casefold() not in said.text.casefold()


async def test_a_quarantined_message_is_announced_with_its_stream_and_reason(
    runner: EffectRunner, intake: Intake, inbox: MaildirInbox, chat: RecordingChat, store: Store
) -> None:
    inbox.deliver(b"", RECEIVED)
    opened(intake.poll(NOW))

    assert await runner.run_due(NOW) == 1

    [stream] = [s.stream for s in store.summaries() if s.stream.startswith("Q-")]
    [said] = chat.said
    assert said.ref == stream
    assert stream in said.text and "empty" in said.text and "quarantine" in said.text
    assert store.due_effects(NOW) == []


async def test_a_failing_mailer_is_retried_with_doubling_backoff_then_succeeds(
    config: Config,
    service: CaseService,
    store: Store,
    inbox: MaildirInbox,
    intake: Intake,
    chat: RecordingChat,
) -> None:
    ref = open_one(inbox, intake)
    mailer = RecordingMailer(failures=2)
    runner = EffectRunner(config, service, mailer, chat, SECRET)
    base = timedelta(seconds=config.runner.retry_base_seconds)

    assert await runner.run_due(NOW) == 1  # the notice went; the letter did not
    assert len(chat.said) == 1
    failed = letter_record(store, ref)
    assert (failed.attempts, failed.next_attempt_at) == (1, NOW + base)
    assert "MailServerDown" in (failed.last_error or "")

    assert await runner.run_due(NOW + base - SECOND) == 0
    assert mailer.attempts == 1
    second = NOW + base
    assert await runner.run_due(second) == 0
    assert mailer.attempts == 2
    assert letter_record(store, ref).next_attempt_at == second + 2 * base

    assert await runner.run_due(second + 2 * base - SECOND) == 0
    assert mailer.attempts == 2
    third = second + 2 * base
    assert await runner.run_due(third) == 1

    assert len(mailer.sent) == 1
    assert letter_record(store, ref).status == "done"
    [letter] = service.load(ref).letters.values()
    assert letter.sent_at == third
    assert letter.message_id == str(mailer.sent[0]["Message-ID"])
    assert await runner.run_due(third + timedelta(days=1)) == 0
    assert len(mailer.sent) == 1


async def test_the_retry_delay_is_capped(
    config: Config,
    service: CaseService,
    store: Store,
    inbox: MaildirInbox,
    intake: Intake,
    chat: RecordingChat,
) -> None:
    capped = config.model_copy(update={"runner": Runner(retry_base_seconds=30, retry_cap_seconds=100)})
    ref = open_one(inbox, intake)
    mailer = RecordingMailer(failures=4)
    runner = EffectRunner(capped, service, mailer, chat, SECRET)
    at = NOW

    for delay in (30, 60, 100, 100):
        await runner.run_due(at)
        assert letter_record(store, ref).next_attempt_at == at + timedelta(seconds=delay)
        at += timedelta(seconds=delay)

    assert await runner.run_due(at) == 1
    assert mailer.attempts == 5
    assert len(mailer.sent) == 1


async def test_a_failing_chat_holds_up_neither_the_letter_nor_its_own_retry(
    config: Config,
    service: CaseService,
    store: Store,
    inbox: MaildirInbox,
    intake: Intake,
    mailer: RecordingMailer,
) -> None:
    open_one(inbox, intake)
    chat = RecordingChat(failures=1)
    runner = EffectRunner(config, service, mailer, chat, SECRET)

    assert await runner.run_due(NOW) == 1
    assert len(mailer.sent) == 1
    assert chat.said == []

    assert await runner.run_due(NOW + timedelta(seconds=config.runner.retry_base_seconds)) == 1
    assert len(chat.said) == 1


async def test_pending_effects_survive_a_restart_and_run_exactly_once(
    config: Config, store: Store, inbox: MaildirInbox, intake: Intake
) -> None:
    ref = open_one(inbox, intake)
    store.close()

    with Store.open(config.store_dir) as reopened:
        mailer, chat = RecordingMailer(), RecordingChat()
        runner = EffectRunner(config, CaseService(reopened), mailer, chat, SECRET)
        assert await runner.run_due(NOW + SECOND) == 2
        assert await runner.run_due(NOW + timedelta(hours=1)) == 0

    with Store.open(config.store_dir) as again:
        mailer_after, chat_after = RecordingMailer(), RecordingChat()
        runner = EffectRunner(config, CaseService(again), mailer_after, chat_after, SECRET)
        assert await runner.run_due(NOW + timedelta(days=1)) == 0
        assert CaseService(again).load(ref).acknowledged_at == NOW + SECOND

    assert (len(mailer.sent), len(chat.said)) == (1, 1)
    assert (mailer_after.sent, chat_after.said) == ([], [])


async def test_a_backoff_survives_a_restart(
    config: Config,
    store: Store,
    service: CaseService,
    inbox: MaildirInbox,
    intake: Intake,
    chat: RecordingChat,
) -> None:
    ref = open_one(inbox, intake)
    await EffectRunner(config, service, RecordingMailer(failures=1), chat, SECRET).run_due(NOW)
    store.close()
    base = timedelta(seconds=config.runner.retry_base_seconds)

    with Store.open(config.store_dir) as reopened:
        mailer = RecordingMailer()
        runner = EffectRunner(config, CaseService(reopened), mailer, RecordingChat(), SECRET)
        assert await runner.run_due(NOW + base - SECOND) == 0
        assert await runner.run_due(NOW + base) == 1
        assert letter_record(reopened, ref).attempts == 1

    assert len(mailer.sent) == 1


async def test_running_again_writes_no_second_file(
    runner: EffectRunner, inbox: MaildirInbox, intake: Intake, outbox_dir: Path
) -> None:
    open_one(inbox, intake)

    await runner.run_due(NOW)
    await runner.run_due(NOW + timedelta(hours=1))

    assert len(files(outbox_dir)) == 1


async def test_a_letter_sent_before_a_crash_is_not_written_twice(
    runner: EffectRunner,
    outbox: FileOutbox,
    inbox: MaildirInbox,
    intake: Intake,
    store: Store,
    service: CaseService,
    outbox_dir: Path,
) -> None:
    ref = open_one(inbox, intake)
    effect = effect_from_plain(letter_record(store, ref).effect)
    assert isinstance(effect, SendLetter)
    await outbox.send(runner.letter(effect, NOW))  # sent; then the process died before recording it
    [written] = files(outbox_dir)

    later: datetime = NOW + timedelta(minutes=5)
    await runner.run_due(later)

    assert files(outbox_dir) == [written]
    [letter] = service.load(ref).letters.values()
    assert letter.sent_at == later
    assert letter.message_id == str(read_eml(written)["Message-ID"])


async def test_a_letter_that_can_never_be_built_is_reported_to_the_handlers(
    runner: EffectRunner, inbox: MaildirInbox, intake: Intake, chat: RecordingChat, store: Store
) -> None:
    inbox.deliver(complaint(sender="Bo <bøb@example.org>"), RECEIVED)  # a non-ASCII mailbox name
    [ref] = opened(intake.poll(NOW))

    for hours in (0, 1, 2, 3):
        await runner.run_due(NOW + timedelta(hours=hours))

    record = letter_record(store, ref)
    assert record.status == "done" and record.attempts == 0  # permanent: not retried
    [letter] = runner.service.load(ref).letters.values()
    assert letter.failed and letter.sent_at is None
    assert [s for s in chat.said if s.ref == ref and "could not be sent" in s.text] != []
    handler = actor(runner.config.person("asha-patel"))
    prompts = next_prompts(runner.service.load(ref), handler, NOW)
    assert prompts[0].id == "acknowledge" and "could not be emailed" in prompts[0].question
