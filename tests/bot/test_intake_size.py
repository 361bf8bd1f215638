"""One size limit for every way mail comes in (`mailbox.max_message_bytes`, the IMAP one): a message
over it is never read, but quarantined with the reason IMAP gives and the handlers told."""

from __future__ import annotations

import json
import mailbox
import os
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import mailbox_and_mailer
from bot.config import SAMPLE_DIRECTORY, Config, local_config
from bot.importer import ImportInbox
from bot.intake import Intake
from bot.service import CaseService
from mail.maildir import MaildirInbox
from store.store import Store
from tests.bot.support import NOW, RECEIVED, SECRET, complaint, files
from tests.bot.test_cli import jointly

LIMIT = 10_000
HUGE = 100_000_000  # sparse: no disk used, and reading it would take 100 MB
REASON = "too large to take in automatically (100.0 MB)"  # as over IMAP
CONFIG = f"""
[service]
home_organisation = "northshire-trust"

[mailbox]
kind = "maildir"
path = "var/inbox"
max_message_bytes = {LIMIT}

[outbox]
kind = "files"
path = "var/outbox"
from_address = "complaints@northshire-trust.example"
"""


def sparse(path: Path, size: int = HUGE) -> Path:
    """A message with real headers, padded with a hole to `size` bytes."""
    path.write_bytes(complaint("<huge@example.org>", "My records are attached."))
    os.truncate(path, size)
    return path


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[tuple[Config, Store]]:
    config = local_config(tmp_path / "var")
    mailbox_settings = config.mailbox.model_copy(update={"max_message_bytes": LIMIT})
    with Store.open(config.store_dir) as store:
        yield config.model_copy(update={"mailbox": mailbox_settings}), store


def notices(store: Store, by: datetime = NOW) -> list[dict[str, object]]:
    return [r.effect for _, r in store.due_effects(by) if r.effect.get("message") == "mail_quarantined"]


def test_the_maildir_quarantines_a_message_over_the_limit_without_reading_it(
    limited: tuple[Config, Store],
) -> None:
    config, store = limited
    inbox, _ = mailbox_and_mailer(config, store, {})
    assert isinstance(inbox, MaildirInbox)
    inbox.deliver(complaint("<small@example.org>"), RECEIVED)
    uid = inbox.deliver(b"", RECEIVED)
    sparse(inbox.path / "new" / uid)

    tracemalloc.start()
    try:
        outcomes = Intake(config, CaseService(store), inbox, SECRET).poll(NOW)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    [big] = [o for o in outcomes if o.uid == uid]
    assert (big.outcome, big.detail) == ("quarantined", REASON)
    assert sorted(o.outcome for o in outcomes) == ["new", "quarantined"]
    assert peak < HUGE / 10
    [kept] = files(inbox.path / ".Quarantine" / "cur")
    assert kept.name.startswith(uid) and kept.stat().st_size == HUGE
    assert (inbox.path / ".Quarantine" / "reasons" / f"{uid}.reason.txt").read_text() == REASON + "\n"
    assert [n["context"] for n in notices(store)] == [{"ref": big.ref, "reason": REASON}]


def test_import_reads_no_file_mbox_message_or_maildir_message_over_the_limit(tmp_path: Path) -> None:
    eml = sparse(tmp_path / "huge.eml")
    box = mailbox.mbox(tmp_path / "export.mbox")
    box.add(complaint("<long@example.org>", "x" * LIMIT))
    box.add(complaint("<short@example.org>"))
    box.close()
    folder = tmp_path / "Maildir"
    maildir = mailbox.Maildir(folder)
    sparse(folder / "new" / maildir.add(b""))

    tracemalloc.start()
    try:
        listed = ImportInbox([eml, tmp_path / "export.mbox", folder], LIMIT).pending()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    sizes = [m.over_limit for m in listed]
    assert sizes[0] == sizes[3] == HUGE and LIMIT < sizes[1] < LIMIT + 1000 and sizes[2] == 0
    assert [m.data for m in listed if m.over_limit] == [b""] * 3
    assert b"<short@example.org>" in listed[2].data
    assert peak < HUGE / 10


def test_jointly_import_quarantines_over_the_configured_limit_and_tells_the_handlers(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(CONFIG + SAMPLE_DIRECTORY.read_text())
    eml = sparse(tmp_path / "huge.eml")

    result = jointly(tmp_path, "import", "--json", str(eml))

    assert result.returncode == 0, result.stderr
    [message] = json.loads(result.stdout)["messages"]
    assert (message["outcome"], message["reason"]) == ("quarantined", REASON)
    assert eml.stat().st_size == HUGE  # the source is left as it is
    with Store.open(tmp_path / "var" / "store") as store:
        queued = notices(store, datetime.now(UTC) + timedelta(days=1))  # `jointly` runs on the real clock
        assert [n["context"] for n in queued] == [{"ref": message["ref"], "reason": REASON}]
