"""Two replicas as real `jointly run` processes on one PostgreSQL database, a burst of 500
complaints through Dovecot, and the leader killed with SIGKILL in the middle of it.

The survivor takes over the mailbox and the outbox: every message has exactly one outcome (a case,
its mail moved to Processed) and every acknowledgement reaches the SMTP server once. The one letter
the kill may have caught half-sent is never sent again blindly: it is recorded in doubt on its case,
for the handlers to settle (`bot.sending`), and that case's complainant has at most one letter.
"""

from __future__ import annotations

import os
import signal
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app import FOLLOWS, LEADS
from bot.threads import RECEIVED
from store.ports import open_store
from tests.scenarios.replicas import Replica, acknowledged, burst, sender, until, write_config
from tests.servers.dovecot import Dovecot
from tests.servers.smtp import SmtpServer

MESSAGES = 500


@pytest.fixture
def home(tmp_path: Path, dovecot: Dovecot, imap_user: str, smtp_server: SmtpServer) -> Path:
    write_config(tmp_path, dovecot, imap_user, smtp_server)
    return tmp_path


@pytest.fixture
def replicas() -> Iterator[list[Replica]]:
    started: list[Replica] = []
    yield started
    for replica in started:
        replica.stop()


def test_a_leader_killed_mid_burst_loses_no_message_and_sends_no_letter_twice(
    home: Path,
    postgres_url: str,
    dovecot: Dovecot,
    imap_user: str,
    smtp_server: SmtpServer,
    replicas: list[Replica],
) -> None:
    first = Replica(home, "first", postgres_url)
    replicas.append(first)
    until(lambda: first.said(LEADS), "did the first replica lead", replicas)
    second = Replica(home, "second", postgres_url)
    replicas.append(second)
    until(lambda: second.said(FOLLOWS), "did the second replica follow", replicas)

    burst(dovecot, imap_user, range(MESSAGES // 2))
    until(lambda: len(acknowledged(smtp_server)) >= 25, "was a letter sent", replicas)
    burst(dovecot, imap_user, range(MESSAGES // 2, MESSAGES))
    os.kill(first.process.pid, signal.SIGKILL)  # mid-burst: taking in the second half, sending the first
    first.process.wait(timeout=60)

    until(lambda: second.said(LEADS), "did the survivor take over", replicas)
    everyone = {sender(n) for n in range(MESSAGES)}
    with open_store(postgres_url, readonly=True) as store:

        def settled() -> bool:
            due = store.due_effects(datetime.now(UTC))
            pending = [r for _, r in due if r.effect.get("type") == "SendLetter"]
            sent = len(acknowledged(smtp_server))
            return len(store.open_cases()) == MESSAGES and not pending and sent >= MESSAGES - 1

        until(settled, "were all the messages taken in and acknowledged", replicas)
        second.stop()

        cases = [c.ref for c in store.open_cases()]
        keys = {f"{RECEIVED}<burst-{n}@mail.example.org>" for n in range(MESSAGES)}
        owners = Counter(store.stream_for_key(key) for key in keys)
        in_doubt = [ref for ref in cases if any(e["type"] == "LetterInDoubt" for e in store.load(ref).events)]

    assert len(cases) == MESSAGES and None not in owners and set(owners.values()) == {1}  # one case each
    assert dovecot.messages(imap_user, "INBOX") == []
    assert len(dovecot.messages(imap_user, "Processed")) == MESSAGES
    letters = Counter(to for r in smtp_server.received for to in r.rcpt_tos)
    assert set(letters) <= everyone and max(letters.values()) == 1  # nobody has a letter twice
    assert len(in_doubt) <= 1  # only the letter the kill may have caught half-sent
    assert len(letters) >= MESSAGES - len(in_doubt)  # all the others went
    assert second.said(LEADS) and not second.said("Traceback")
