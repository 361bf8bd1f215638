"""MaildirInbox on real directories: delivery, pending order, processed and quarantine folders."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mail.errors import MailboxError, MailError
from mail.maildir import MaildirInbox, RawMail
from mail.parse import parse_message

RECEIVED = datetime(2025, 11, 24, 9, 30, tzinfo=UTC)


def message(n: int) -> bytes:
    return f"From: a@example.org\nSubject: complaint {n}\nMessage-ID: <{n}@x>\n\nText {n}\n".encode()


def files_in(path: Path) -> list[Path]:
    return sorted(p for p in path.iterdir() if p.is_file())


def test_creates_the_maildir_and_its_folders(tmp_path: Path) -> None:
    MaildirInbox(tmp_path / "var" / "inbox")
    root = tmp_path / "var" / "inbox"
    for folder in (root, root / ".Processed", root / ".Quarantine"):
        assert all((folder / sub).is_dir() for sub in ("cur", "new", "tmp"))
    assert (root / ".Processed" / "maildirfolder").exists()
    MaildirInbox(root)  # opening it again is fine


def test_existing_empty_directory_becomes_a_maildir(tmp_path: Path) -> None:
    inbox = MaildirInbox(tmp_path)
    assert inbox.pending() == []
    assert (tmp_path / "new").is_dir()


def test_deliver_is_atomic_into_new_with_receipt_time_as_mtime(tmp_path: Path) -> None:
    inbox = MaildirInbox(tmp_path)
    uid = inbox.deliver(message(1), received_at=RECEIVED)
    assert files_in(tmp_path / "tmp") == []
    (delivered,) = files_in(tmp_path / "new")
    assert delivered.name == uid
    assert delivered.read_bytes() == message(1)
    assert delivered.stat().st_mtime == RECEIVED.timestamp()


def test_deliver_refuses_a_naive_receipt_time(tmp_path: Path) -> None:
    with pytest.raises(MailboxError):
        MaildirInbox(tmp_path).deliver(message(1), received_at=datetime(2026, 11, 24))


def test_pending_lists_oldest_receipt_first_with_mtime_as_received_at(tmp_path: Path) -> None:
    inbox = MaildirInbox(tmp_path)
    late = inbox.deliver(message(1), received_at=RECEIVED + timedelta(hours=2))
    early = inbox.deliver(message(2), received_at=RECEIVED)
    now_uid = inbox.deliver(message(3))
    pending = inbox.pending()
    assert [mail.uid for mail in pending] == [early, late, now_uid]
    assert pending[0] == RawMail(uid=early, data=message(2), received_at=RECEIVED)
    assert pending[1].received_at == RECEIVED + timedelta(hours=2)
    assert pending[2].received_at.tzinfo is UTC
    assert abs(pending[2].received_at - datetime.now(UTC)) < timedelta(minutes=1)


def test_pending_reads_cur_with_flags_and_ignores_tmp_and_dotfiles(tmp_path: Path) -> None:
    inbox = MaildirInbox(tmp_path)
    (tmp_path / "cur" / "1700000000.M1P1.host:2,S").write_bytes(message(1))
    (tmp_path / "tmp" / "1700000001.M1P1.host").write_bytes(message(2))
    (tmp_path / "new" / ".hidden").write_bytes(message(3))
    (pending,) = inbox.pending()
    assert pending.uid == "1700000000.M1P1.host"
    inbox.mark_processed(pending.uid)
    assert inbox.pending() == []


def test_pending_feeds_the_intake_parser(tmp_path: Path) -> None:
    inbox = MaildirInbox(tmp_path)
    inbox.deliver(message(7), received_at=RECEIVED)
    (raw,) = inbox.pending()
    assert parse_message(raw.data).subject == "complaint 7"


def test_mark_processed_moves_never_deletes_and_is_idempotent(tmp_path: Path) -> None:
    inbox = MaildirInbox(tmp_path)
    uid = inbox.deliver(message(1), received_at=RECEIVED)
    other = inbox.deliver(message(2), received_at=RECEIVED + timedelta(minutes=1))
    inbox.mark_processed(uid)
    assert [mail.uid for mail in inbox.pending()] == [other]
    (processed,) = files_in(tmp_path / ".Processed" / "cur")
    assert processed.name.split(":")[0] == uid
    assert processed.read_bytes() == message(1)
    assert processed.stat().st_mtime == RECEIVED.timestamp()  # receipt time survives the move
    inbox.mark_processed(uid)
    assert len(files_in(tmp_path / ".Processed" / "cur")) == 1


def test_quarantine_keeps_the_raw_bytes_and_the_reason(tmp_path: Path) -> None:
    inbox = MaildirInbox(tmp_path)
    raw = b"\x00\xff not an email at all"
    uid = inbox.deliver(raw, received_at=RECEIVED)
    inbox.quarantine(uid, "no headers: cannot read this as an email")
    assert inbox.pending() == []
    (kept,) = files_in(tmp_path / ".Quarantine" / "cur")
    assert kept.read_bytes() == raw
    reason = tmp_path / ".Quarantine" / "reasons" / f"{uid}.reason.txt"
    assert reason.read_text() == "no headers: cannot read this as an email\n"
    inbox.quarantine(uid, "second look: still unreadable")
    assert len(files_in(tmp_path / ".Quarantine" / "cur")) == 1
    assert reason.read_text() == "second look: still unreadable\n"


def test_processed_message_cannot_then_be_quarantined(tmp_path: Path) -> None:
    inbox = MaildirInbox(tmp_path)
    uid = inbox.deliver(message(1))
    inbox.mark_processed(uid)
    with pytest.raises(MailboxError):
        inbox.quarantine(uid, "too late")


@pytest.mark.parametrize("uid", ["unknown.uid", "../new/x", "", ".Processed", "a/b", "x:2,S"])
def test_unknown_or_unsafe_uids_are_refused(tmp_path: Path, uid: str) -> None:
    inbox = MaildirInbox(tmp_path)
    inbox.deliver(message(1))
    with pytest.raises(MailError) as caught:
        inbox.mark_processed(uid)
    assert caught.value.context["uid"] == uid
    with pytest.raises(MailboxError):
        inbox.quarantine(uid, "reason")
    assert len(inbox.pending()) == 1


def test_files_are_private_to_the_service_user(tmp_path: Path) -> None:
    inbox = MaildirInbox(tmp_path / "inbox")
    uid = inbox.deliver(message(1))
    assert os.stat(tmp_path / "inbox" / "new" / uid).st_mode & 0o077 == 0
    assert os.stat(tmp_path / "inbox").st_mode & 0o077 == 0
