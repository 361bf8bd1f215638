"""The assistant wired for local mode, one cycle at a time on a clock the test sets."""

from __future__ import annotations

import asyncio
import io
from datetime import timedelta
from pathlib import Path

from bot.app import Assistant
from bot.chat.threads import ThreadChat
from bot.config import Chat as ChatSettings
from bot.config import Config, local_config
from bot.config import Slack as SlackSettings
from bot.service import CaseService
from bot.slack.front import SlackFront
from flows import commands as c
from flows.model import Actor
from mail.imap import ImapInbox
from mail.maildir import MaildirInbox
from mail.settings import FilesOutbox, ImapMailbox, MaildirMailbox, OAuth2, SmtpOutbox
from mail.smtp import SmtpMailer
from store.store import Store
from tests.bot.support import NOW, RECEIVED, Clock, complaint, deliver_samples, files
from tests.disk import fill, small_disk

QUESTION = "Which organisations does this complaint involve?"


def case_refs(store: Store) -> list[str]:
    return sorted(s.stream for s in store.summaries() if s.stream.startswith("JC-"))


async def test_a_first_start_takes_in_the_samples_and_acknowledges_them(
    config: Config, store: Store, inbox: MaildirInbox, outbox_dir: Path
) -> None:
    out = io.StringIO()

    await Assistant(config, store, out, clock=Clock(NOW), local=True).run_once()

    refs = case_refs(store)
    assert len(refs) == 3
    for ref in refs:
        case = CaseService(store).load(ref)
        assert case.received_at == NOW  # delivered at the clock's time
        assert case.acknowledged_at == NOW
    assert len(files(outbox_dir)) == 3
    assert len(files(inbox.path / ".Processed" / "cur")) == 3
    assert out.getvalue().count("[chat] New complaint") == 3
    assert out.getvalue().count(QUESTION) == 3


async def test_a_cycle_whose_caller_is_cancelled_still_runs_to_its_end(
    config: Config, store: Store, inbox: MaildirInbox, outbox_dir: Path
) -> None:
    """As at shutdown, when the listener or the scheduler's job is cancelled mid-cycle."""
    inbox.deliver(complaint(), RECEIVED)
    assistant = Assistant(config, store, io.StringIO(), clock=Clock(NOW))
    caller = asyncio.ensure_future(assistant.cycle())
    await asyncio.sleep(0)  # the cycle is under way: its intake is polling in a thread

    caller.cancel()
    await asyncio.gather(caller, return_exceptions=True)
    assert caller.cancelled()
    await assistant.cycles_done()

    assert len(case_refs(store)) == 1
    assert len(files(inbox.path / ".Processed" / "cur")) == 1
    assert len(files(outbox_dir)) == 1  # the runner's part of the cycle ran too


async def test_the_samples_are_delivered_on_the_first_start_only(
    config: Config, store: Store, outbox_dir: Path
) -> None:
    clock = Clock(NOW)
    assistant = Assistant(config, store, io.StringIO(), clock=clock, local=True)
    await assistant.run_once()
    refs = case_refs(store)

    clock.now = NOW + timedelta(hours=1)
    assert assistant.deliver_examples() == 0
    await Assistant(config, store, io.StringIO(), clock=clock, local=True).run_once()

    assert case_refs(store) == refs
    assert len(files(outbox_dir)) == 3


async def test_with_a_configuration_no_samples_are_ever_delivered(config: Config, store: Store) -> None:
    await Assistant(config, store, io.StringIO(), clock=Clock(NOW)).run_once()

    assert case_refs(store) == []


async def test_mail_already_waiting_means_no_samples(
    config: Config, store: Store, inbox: MaildirInbox
) -> None:
    inbox.deliver(complaint(), RECEIVED)
    assistant = Assistant(config, store, io.StringIO(), clock=Clock(NOW), local=True)

    await assistant.run_once()

    assert len(case_refs(store)) == 1
    assert store.get_cursor("examples") is None


async def test_with_every_case_closed_it_says_nothing_is_waiting(
    config: Config, store: Store, handler: Actor
) -> None:
    out = io.StringIO()
    assistant = Assistant(config, store, out, clock=Clock(NOW), local=True)
    await assistant.run_once()
    for ref in case_refs(store):
        CaseService(store).execute(ref, c.WithdrawComplaint(actor=handler, note="by phone"), NOW)
    out.seek(0)
    out.truncate()

    assistant.print_waiting()

    assert out.getvalue() == "Nothing is waiting for a handler.\n"


def test_slack_chat_posts_notices_to_slack_instead_of_the_terminal(config: Config, store: Store) -> None:
    settings = SlackSettings(mode="http", complaints_channel="C0COMPLAINTS")
    slack = config.model_copy(update={"chat": ChatSettings(kind="slack"), "slack": settings})
    environ = {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": "s3cret"}

    assistant = Assistant(slack, store, io.StringIO(), environ=environ)

    assert isinstance(assistant.runner.chat, ThreadChat)
    assert isinstance(assistant.front, SlackFront) and assistant.front.client.token == "xoxb-test"


def test_imap_and_smtp_settings_build_the_real_mailbox_and_mailer(config: Config, store: Store) -> None:
    imap = ImapMailbox(kind="imap", host="imap.example", username="c", password_env="IMAP_PASSWORD")
    smtp = SmtpOutbox(kind="smtp", host="smtp.example", from_address="complaints@northshire-trust.example")
    real = config.model_copy(update={"mailbox": imap, "outbox": smtp})

    assistant = Assistant(real, store, io.StringIO(), environ={"IMAP_PASSWORD": "x"})

    assert isinstance(assistant.inbox, ImapInbox) and isinstance(assistant.runner.mailer, SmtpMailer)
    assert assistant.deliver_examples() == 0  # never samples into a real mailbox


def test_one_oauth2_token_source_serves_the_mailbox_and_the_outbox(config: Config, store: Store) -> None:
    imap = ImapMailbox(kind="imap", host="imap.example", username="c", auth="xoauth2")
    smtp = SmtpOutbox(
        kind="smtp", host="smtp.example", auth="xoauth2", username="c", from_address="c@trust.example"
    )
    oauth2 = OAuth2(tenant_id="t", client_id="a", client_secret_env="OAUTH2_CLIENT_SECRET")
    real = config.model_copy(update={"mailbox": imap, "outbox": smtp, "oauth2": oauth2})

    assistant = Assistant(real, store, io.StringIO(), environ={"OAUTH2_CLIENT_SECRET": "x"})

    inbox, mailer = assistant.inbox, assistant.runner.mailer
    assert isinstance(inbox, ImapInbox) and isinstance(mailer, SmtpMailer)
    assert inbox.tokens is not None and inbox.tokens is mailer.tokens  # one cache, one token for both


def test_an_outbox_with_a_password_logs_in_with_it_beside_an_oauth2_mailbox(
    config: Config, store: Store
) -> None:
    imap = ImapMailbox(kind="imap", host="imap.example", username="c", auth="xoauth2")
    smtp = SmtpOutbox(
        kind="smtp", host="smtp.example", username="c", password_env="SMTP_PASSWORD", from_address="c@t.ex"
    )
    oauth2 = OAuth2(token_command="get-token")
    real = config.model_copy(update={"mailbox": imap, "outbox": smtp, "oauth2": oauth2})

    assistant = Assistant(real, store, io.StringIO(), environ={"SMTP_PASSWORD": "x"})

    mailer = assistant.runner.mailer
    assert isinstance(mailer, SmtpMailer) and mailer.tokens is None
    assert isinstance(assistant.inbox, ImapInbox) and assistant.inbox.tokens is not None


def data_on(disk: Path, elsewhere: Path) -> Config:
    """The data folder (store, attachments) on `disk`; the mailbox and the letters elsewhere."""
    config = local_config(disk / "var")
    assert isinstance(config.mailbox, MaildirMailbox) and isinstance(config.outbox, FilesOutbox)
    mailbox = config.mailbox.model_copy(update={"path": elsewhere / "inbox"})
    outbox = config.outbox.model_copy(update={"path": elsewhere / "outbox"})
    return config.model_copy(update={"mailbox": mailbox, "outbox": outbox})


async def test_on_a_full_disk_mail_waits_the_handlers_are_told_once_and_it_resumes_by_itself(
    tmp_path: Path,
) -> None:
    with small_disk(tmp_path / "disk") as disk:
        config = data_on(disk, tmp_path)
        inbox = MaildirInbox(tmp_path / "inbox")
        deliver_samples(inbox)
        out, clock = io.StringIO(), Clock(NOW)
        with Store.open(config.store_dir) as store:
            assistant = Assistant(config, store, out, clock=clock)
            filler = fill(disk)

            await assistant.cycle()
            assert len(inbox.pending()) == 3 and files(tmp_path / "outbox") == []
            assert assistant.outage is not None and assistant.outage.retry_at == NOW + timedelta(seconds=30)
            clock.now = NOW + timedelta(seconds=29)
            await assistant.cycle()  # too soon: not even tried
            clock.now = NOW + timedelta(seconds=30)
            await assistant.cycle()  # tried again: still full, so twice as long to wait
            assert assistant.outage is not None and assistant.outage.attempts == 2
            assert assistant.outage.retry_at == clock.now + timedelta(seconds=60)

            filler.unlink()
            clock.now += timedelta(seconds=60)
            await assistant.cycle()

            assert assistant.outage is None and inbox.pending() == []
            assert len(case_refs(store)) == 3 and len(files(tmp_path / "outbox")) == 3
        told = [line for line in out.getvalue().splitlines() if "cannot write to its data folder" in line]
        assert len(told) == 1 and "[chat (to asha-patel, tom-reed)]" in told[0]  # the handlers
        assert "No space left on device" in told[0]
