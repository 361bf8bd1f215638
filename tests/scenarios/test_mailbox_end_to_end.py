"""The whole assistant against real servers: a complaint appended to Dovecot becomes a case, its
acknowledgement reaches the SMTP server, and the complainant's reply is threaded onto the same case.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import Assistant
from bot.config import Config, local_config
from bot.service import CaseService
from flows.model import Sender, Status
from mail.parse import parse_message
from mail.settings import ImapMailbox, SmtpOutbox
from store.store import Store
from tests.bot.support import Clock, complaint, sample
from tests.servers.dovecot import Dovecot
from tests.servers.smtp import SmtpServer

NOW = datetime(2026, 11, 25, 13, 0, tzinfo=UTC)


@pytest.fixture
def config(tmp_path: Path, dovecot: Dovecot, imap_user: str, smtp_server: SmtpServer) -> Config:
    mailbox = ImapMailbox(
        kind="imap",
        host=dovecot.host,
        port=dovecot.tls_port,
        username=imap_user,
        password_env="IMAP_PASSWORD",
        ca_file=dovecot.cert_path,
    )
    outbox = SmtpOutbox(
        kind="smtp",
        host=smtp_server.host,
        port=smtp_server.port,
        security="none",
        from_address="complaints@northshire-trust.example",
    )
    return local_config(tmp_path / "var").model_copy(update={"mailbox": mailbox, "outbox": outbox})


@pytest.fixture
def store(config: Config) -> Iterator[Store]:
    with Store.open(config.store_dir) as opened:
        yield opened


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def assistant(config: Config, store: Store, clock: Clock) -> Iterator[Assistant]:
    environ = {"IMAP_PASSWORD": Dovecot.password}
    made = Assistant(config, store, io.StringIO(), clock=clock, environ=environ)
    yield made
    made.inbox.close()


async def test_a_complaint_is_acknowledged_and_the_reply_lands_on_the_same_case(
    assistant: Assistant,
    clock: Clock,
    store: Store,
    dovecot: Dovecot,
    imap_user: str,
    smtp_server: SmtpServer,
) -> None:
    original = parse_message(sample(2))
    dovecot.append(imap_user, sample(2))

    await assistant.cycle()

    [summary] = [s for s in store.summaries() if s.stream.startswith("JC-")]
    ref = summary.stream
    [received] = smtp_server.received
    acknowledgement = received.message()
    assert received.rcpt_tos == (original.from_address,)
    assert ref in str(acknowledgement["Subject"])
    assert acknowledgement["In-Reply-To"] == original.message_id
    assert acknowledgement["Auto-Submitted"] == "auto-replied"
    assert dovecot.messages(imap_user, "INBOX") == []
    [filed] = dovecot.messages(imap_user, "Processed")
    assert parse_message(filed).message_id == original.message_id

    reply = complaint(
        "<reply-e2e@example.com>",
        "Thank you. Please call me after 4pm.",
        f"Re: {acknowledgement['Subject']}",
        f"David <{original.from_address}>",
        (f"In-Reply-To: {acknowledgement['Message-ID']}",),
    )
    dovecot.append(imap_user, reply)
    clock.now = NOW + timedelta(hours=1)
    await assistant.cycle()

    case = CaseService(store).load(ref)
    assert case.status is Status.RECEIVED
    [message] = case.messages
    assert (message.sender, message.text) == (Sender.COMPLAINANT, "Thank you. Please call me after 4pm.")
    assert len(smtp_server.received) == 1  # a reply is not acknowledged again
    assert len([s for s in store.summaries() if s.stream.startswith("JC-")]) == 1
    assert len(dovecot.messages(imap_user, "Processed")) == 2
    await assistant.runner.run_due(clock.now)
    assert len(smtp_server.received) == 1
