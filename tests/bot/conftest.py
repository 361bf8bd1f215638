"""The application assembled from real parts in tmp_path: local-mode configuration, store, Maildir
and file outbox; only the mail server and the chat are fakes (tests/bot/fakes.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import Config, local_config
from bot.directory import actor
from bot.intake import Intake
from bot.runner import EffectRunner
from bot.service import CaseService
from flows.model import Actor
from mail.maildir import MaildirInbox
from mail.outbox import FileOutbox
from mail.settings import FilesOutbox, MaildirMailbox
from store.store import Store
from tests.bot.fakes import RecordingChat, RecordingMailer
from tests.bot.support import SECRET


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return local_config(tmp_path / "var")


@pytest.fixture
def store(config: Config) -> Iterator[Store]:
    with Store.open(config.store_dir) as opened:
        yield opened


@pytest.fixture
def service(store: Store) -> CaseService:
    return CaseService(store)


@pytest.fixture
def inbox(config: Config) -> MaildirInbox:
    assert isinstance(config.mailbox, MaildirMailbox)
    return MaildirInbox(config.mailbox.path)


@pytest.fixture
def intake(config: Config, service: CaseService, inbox: MaildirInbox) -> Intake:
    return Intake(config, service, inbox, SECRET)


@pytest.fixture
def outbox_dir(config: Config) -> Path:
    assert isinstance(config.outbox, FilesOutbox)
    return config.outbox.path


@pytest.fixture
def outbox(outbox_dir: Path) -> FileOutbox:
    return FileOutbox(outbox_dir)


@pytest.fixture
def chat() -> RecordingChat:
    return RecordingChat()


@pytest.fixture
def mailer() -> RecordingMailer:
    return RecordingMailer()


@pytest.fixture
def runner(config: Config, service: CaseService, outbox: FileOutbox, chat: RecordingChat) -> EffectRunner:
    """The runner as local mode has it: letters to .eml files, notices to the chat fake."""
    return EffectRunner(config, service, outbox, chat, SECRET)


@pytest.fixture
def handler(config: Config) -> Actor:
    return actor(config.person("asha-patel"))
