"""kill -9 while letters go out: no letter reaches the mail server twice, and none is lost.

The runner marks a letter before handing it over and records it as sent the moment the server
accepts it (`bot.sending`). A letter whose outcome died with the process is in doubt: looked for in
the sent folder when there is one, otherwise recorded in doubt and put to the handlers, whose
answer is carried out once. The loop kills a real child process during a burst of letters to
aiosmtpd (which waits a little before answering DATA, so kills land where it matters most); the
other tests die at a chosen instant (`Dying`) and restart with a fresh runner, as a new process
would.
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bot.config import Config
from bot.directory import actor
from bot.intake import Intake
from bot.runner import EffectRunner
from bot.sending import SENT_COPY_WAIT
from bot.service import CaseService
from flows.conversation import Prompt
from flows.model import Letter
from flows.prompts import next_prompts
from mail.imap import ImapInbox
from mail.maildir import MaildirInbox
from mail.outbox import FileOutbox
from mail.ports import Mailer, SentFolder
from mail.settings import MaildirMailbox, SmtpOutbox
from mail.smtp import SmtpMailer
from store.store import Store
from tests.bot.fakes import RecordingChat
from tests.bot.support import NOW, RECEIVED, SECRET, complaint, files, opened
from tests.mail.test_exactly_once import sent_items_fixture  # noqa: F401
from tests.mail.test_smtp import outbox as smtp_outbox
from tests.servers.dovecot import Dovecot, dovecot_fixture, dovecot_server_fixture, imap_user_fixture  # noqa: F401
from tests.store.support import ROOT, child_env

if TYPE_CHECKING:  # imported at run time by pytest_plugins only, so pytest can rewrite its asserts
    from tests.servers.smtp import SmtpServer

pytest_plugins = ["tests.servers.smtp"]

LETTERS, KILLS = 16, 4
MINUTE, HOUR = timedelta(minutes=1), timedelta(hours=1)

CHILD = """
import asyncio
import sys
from pathlib import Path
from bot.config import local_config
from mail.settings import SmtpOutbox
from bot.runner import EffectRunner
from bot.service import CaseService
from mail.smtp import SmtpMailer
from store.store import Store
from tests.bot.fakes import RecordingChat
from tests.bot.support import NOW, SECRET

async def main() -> None:
    settings = SmtpOutbox.model_validate_json(sys.argv[2])
    config = local_config(Path(sys.argv[1])).model_copy(update={"outbox": settings})
    with Store.open(config.store_dir) as store:
        mailer = SmtpMailer(settings, None, timeout=5)
        runner = EffectRunner(config, CaseService(store), mailer, RecordingChat(), SECRET)
        print("sending", flush=True)
        await runner.run_due(NOW)
    print("done", flush=True)

asyncio.run(main())
"""


class Killed(BaseException):
    """The process dies here: nothing after it runs, nothing catches it."""


class Dying:
    """A mailer whose process dies around handing a letter over: `after` the server has taken it
    (before the runner can record it), or before it goes."""

    def __init__(self, mailer: Mailer, *, after: bool) -> None:
        self.mailer, self.after = mailer, after

    async def send(self, message: EmailMessage, accepted: Callable[[], None] | None = None) -> None:
        if self.after:
            await self.mailer.send(message, die)
        die()


def die() -> None:
    raise Killed


class Office:
    """The assistant's store, intake and runner, sending to `config`'s outbox; each `runner()` is
    a fresh one, as after a restart."""

    def __init__(self, config: Config, store: Store) -> None:
        self.config = config
        self.service = CaseService(store)
        self.chat = RecordingChat()
        self.handler = actor(config.person("asha-patel"))

    def take_in(self, count: int = 1) -> list[str]:
        assert isinstance(self.config.mailbox, MaildirMailbox)
        inbox = MaildirInbox(self.config.mailbox.path)
        for n in range(count):
            inbox.deliver(complaint(f"<burst-{n}@mail.example.org>", sender=f"p{n}@example.org"), RECEIVED)
        return opened(Intake(self.config, self.service, inbox, SECRET).poll(NOW))

    def runner(self, mailer: Mailer | None = None, sent_folder: SentFolder | None = None) -> EffectRunner:
        if mailer is None:
            assert isinstance(self.config.outbox, SmtpOutbox)
            mailer = SmtpMailer(self.config.outbox, None, timeout=5)
        return EffectRunner(self.config, self.service, mailer, self.chat, SECRET, sent_folder)

    def letter(self, ref: str) -> Letter:
        [letter] = self.service.load(ref).letters.values()
        return letter

    def asked(self, ref: str) -> list[Prompt]:
        prompts = next_prompts(self.service.load(ref), self.handler, NOW)
        return [p for p in prompts if p.id.startswith("letter_in_doubt:")]


@pytest.fixture
def smtp_config(config: Config, smtp_server: SmtpServer) -> Config:
    return config.model_copy(update={"outbox": smtp_outbox(smtp_server.port)})


@pytest.fixture
def office(smtp_config: Config, store: Store) -> Office:
    return Office(smtp_config, store)


def ids(server: SmtpServer) -> Counter[str]:
    return Counter(str(r.message()["Message-ID"]) for r in server.received)


async def test_kill_9_during_a_burst_sends_no_letter_twice_and_loses_none(
    smtp_config: Config, smtp_server: SmtpServer
) -> None:
    with Store.open(smtp_config.store_dir) as store:
        refs = Office(smtp_config, store).take_in(LETTERS)
    smtp_server.answer_after(0.02)  # the server has the letter; the runner has not heard yet
    rng = random.Random(1303)
    for _ in range(KILLS):
        kill_sending_child(smtp_config, rng)

    with Store.open(smtp_config.store_dir) as store:
        office = Office(smtp_config, store)
        runner = office.runner()
        for _ in range(2):  # the letter left in doubt is settled, then the rest go
            await runner.run_due(NOW)
        assert store.due_effects(NOW) == []
        received = ids(smtp_server)
        doubted = [ref for ref in refs if office.letter(ref).in_doubt is not None]
        print(
            f"\n{LETTERS} letters, {KILLS} kills, {len(doubted)} in doubt, {sum(received.values())} received"
        )

        assert set(received.values()) == {1}, "a letter reached the server twice"
        assert set(received) <= {office.letter(ref).message_id for ref in refs}
        assert len(doubted) <= KILLS  # at most the one letter in flight per kill
        for ref in refs:
            letter = office.letter(ref)
            if letter.in_doubt is None:
                assert letter.sent_at is not None and received[letter.message_id] == 1
            else:
                assert [p.id for p in office.asked(ref)] == [f"letter_in_doubt:{letter.key}"]


def kill_sending_child(config: Config, rng: random.Random) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(config.service.data_dir), config.outbox.model_dump_json()],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=child_env(), cwd=ROOT,
    )  # fmt: skip
    assert child.stdout is not None
    try:
        assert child.stdout.readline() == "sending\n", child.stderr
        time.sleep(rng.uniform(0, 0.12))  # somewhere inside the burst
    finally:
        child.send_signal(signal.SIGKILL)
        child.communicate(timeout=30)


@pytest.mark.parametrize("answer", ["Resend it", "Record it as sent"])
async def test_without_a_sent_folder_the_handlers_are_asked_and_their_answer_is_carried_out_once(
    office: Office, smtp_server: SmtpServer, answer: str
) -> None:
    [ref] = office.take_in()
    with pytest.raises(Killed):
        await office.runner(Dying(office.runner().mailer, after=True)).run_due(NOW)
    [went] = smtp_server.received

    restarted = office.runner()
    await restarted.run_due(NOW + MINUTE)
    await restarted.run_due(NOW + HOUR)

    letter = office.letter(ref)
    assert (letter.in_doubt, letter.sent_at, letter.message_id) == (NOW, None, went.message()["Message-ID"])
    assert smtp_server.received == [went]  # never sent again on its own
    assert [s.text for s in office.chat.said if "may or may not have gone" in s.text] != []
    [asked] = office.asked(ref)
    [choice] = [ch for ch in asked.choices if ch.label == answer]

    office.service.execute(ref, choice.command, NOW + HOUR)
    await restarted.run_due(NOW + HOUR)
    await restarted.run_due(NOW + 2 * HOUR)

    letter = office.letter(ref)
    resent = answer == "Resend it"
    assert ids(smtp_server) == {letter.message_id: 2 if resent else 1}  # the same letter, as it was
    assert letter.sent_at == (NOW + HOUR if resent else NOW)
    assert office.asked(ref) == []


async def test_a_connection_lost_while_the_server_takes_a_letter_holds_back_the_letters_behind_it(
    office: Office, smtp_server: SmtpServer
) -> None:
    refs = office.take_in(2)
    smtp_server.hang_up(True)
    runner = office.runner()

    await runner.run_due(NOW)

    [taken] = smtp_server.received  # the server took one letter; the other waited behind it
    smtp_server.hang_up(False)
    await runner.run_due(NOW + MINUTE)
    letters = {office.letter(ref).message_id: office.letter(ref) for ref in refs}
    doubted = letters.pop(str(taken.message()["Message-ID"]))
    [other] = letters.values()
    assert (doubted.in_doubt, doubted.sent_at, other.sent_at) == (NOW, None, NOW + MINUTE)
    assert set(ids(smtp_server).values()) == {1}


async def test_a_letter_in_doubt_found_in_the_sent_folder_is_recorded_as_sent(
    office: Office, smtp_server: SmtpServer, sent_items: ImapInbox, dovecot: Dovecot, imap_user: str
) -> None:
    [ref] = office.take_in()
    with pytest.raises(Killed):
        await office.runner(Dying(office.runner().mailer, after=True)).run_due(NOW)
    [went] = smtp_server.received
    dovecot.append(imap_user, went.data, folder="Sent Items")  # the copy Exchange Online keeps

    await office.runner(sent_folder=sent_items).run_due(NOW + MINUTE)

    letter = office.letter(ref)
    assert (letter.sent_at, letter.in_doubt, letter.message_id) == (
        NOW + MINUTE,
        None,
        went.message()["Message-ID"],
    )
    assert smtp_server.received == [went] and office.asked(ref) == []


async def test_a_letter_in_doubt_missing_from_the_sent_folder_goes_once_the_server_had_time_to_file_it(
    office: Office, smtp_server: SmtpServer, sent_items: ImapInbox, dovecot: Dovecot, imap_user: str
) -> None:
    refs = office.take_in(2)
    with pytest.raises(Killed):
        await office.runner(Dying(office.runner().mailer, after=False)).run_due(NOW)
    dovecot.append(imap_user, b"Subject: something else\r\n\r\nx\r\n", folder="Sent Items")
    restarted = office.runner(sent_folder=sent_items)

    await restarted.run_due(NOW + MINUTE)  # its copy might still be on its way: letters wait
    assert smtp_server.received == []

    await restarted.run_due(NOW + SENT_COPY_WAIT)
    assert [office.letter(ref).sent_at for ref in refs] == [NOW + SENT_COPY_WAIT] * 2
    assert set(ids(smtp_server).values()) == {1} and len(smtp_server.received) == 2


async def test_in_local_mode_a_letter_cut_off_after_its_file_was_written_is_recorded_from_the_folder(
    config: Config, store: Store, outbox: FileOutbox, outbox_dir: Path
) -> None:
    office = Office(config, store)
    [ref] = office.take_in()
    with pytest.raises(Killed):
        await office.runner(Dying(outbox, after=True)).run_due(NOW)
    [written] = files(outbox_dir)

    await office.runner(outbox, sent_folder=outbox).run_due(NOW + MINUTE)

    assert files(outbox_dir) == [written]
    letter = office.letter(ref)
    assert (letter.sent_at, letter.in_doubt) == (NOW + MINUTE, None)
