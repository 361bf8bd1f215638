"""The local-mode mailbox: a Maildir on disk read through the same intake path as IMAP.

Local mode needs no mail account, yet intake must behave as it will against a real server: each
message arrives as raw bytes with the time it reached the mailbox (a statutory clock starts then,
not when someone opens it), is never deleted, and is either filed as processed or set aside in
quarantine with the reason beside it. The IMAP reader will produce the same `RawMail` values.
A message larger than the limit is not read (its size is known first): it comes back with
`over_limit` set and no data, as from IMAP, and intake quarantines it.

Layout (Maildir++)::

    inbox/{tmp,new,cur}                      delivered, not yet processed
    inbox/.Processed/{tmp,new,cur}           processed: kept, never deleted
    inbox/.Quarantine/{tmp,new,cur}          set aside; raw bytes kept
    inbox/.Quarantine/reasons/<uid>.reason.txt

Methods block; the caller runs them in a thread.
"""

from __future__ import annotations

import mailbox
import os
import re
import secrets
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from mail.errors import MailboxError
from mail.files import make_private_dirs
from store.atomic import atomic_write, fsync_dir, write_new

PROCESSED = "Processed"
QUARANTINE = "Quarantine"
_SUBDIRS = ("tmp", "new", "cur")
_INFO_SEPARATOR = ":"
_SEEN = ":2,S"
_SAFE_UID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._,=-]*")
MAX_MESSAGE_BYTES = 25 * 1024 * 1024  # the default limit on one message, however it comes in


@dataclass(frozen=True)
class RawMail:
    """One message as it sits in the mailbox: its id there, its bytes, and when it arrived."""

    uid: str
    data: bytes
    received_at: datetime
    over_limit: int = 0  # when set: the size in bytes of a message too large to download (data empty)


class MaildirInbox:
    """A Maildir inbox with Maildir++ folders for processed and quarantined messages."""

    def __init__(self, path: Path, max_message_bytes: int = MAX_MESSAGE_BYTES) -> None:
        self.path = Path(path)
        self.max_message_bytes = max_message_bytes
        make_private_dirs(self.path, *(self.path / sub for sub in _SUBDIRS))
        box = mailbox.Maildir(self.path, factory=None, create=False)
        for folder in (PROCESSED, QUARANTINE):
            box.add_folder(folder)  # Maildir++: '.<name>' with cur/new/tmp and a marker file
        self._processed = self.path / f".{PROCESSED}"
        self._quarantine = self.path / f".{QUARANTINE}"
        self._reasons = self._quarantine / "reasons"
        make_private_dirs(self._reasons)

    def deliver(self, data: bytes, received_at: datetime | None = None) -> str:
        """Put a message into new/ as an MTA would (write in tmp/, then rename); return its uid."""
        if received_at is not None and received_at.utcoffset() is None:
            raise MailboxError("received_at must be timezone-aware", received_at=received_at)
        uid = _new_uid()
        staged = self.path / "tmp" / uid
        write_new(staged, data)
        if received_at is not None:
            stamp = received_at.timestamp()
            os.utime(staged, (stamp, stamp))
        os.rename(staged, self.path / "new" / uid)
        fsync_dir(self.path / "new")
        return uid

    def close(self) -> None:
        """Nothing to let go of: the folder is read afresh each time."""

    def wait(self, timeout: float) -> bool:
        """A local Maildir has no push: the caller polls (see `mail.ports.Inbox.wait`)."""
        time.sleep(timeout)
        return False

    def pending(self) -> list[RawMail]:
        """Messages in the inbox's new/ and cur/ (not its folders), oldest receipt first."""
        found: list[RawMail] = []
        for sub in ("new", "cur"):
            with os.scandir(self.path / sub) as entries:
                read = (_read(entry, self.max_message_bytes) for entry in entries)
                found.extend(mail for mail in read if mail is not None)
        return sorted(found, key=lambda mail: (mail.received_at, mail.uid))

    def mark_processed(self, *uids: str) -> None:
        """File the messages under .Processed (never deleted). Repeating it does nothing."""
        for uid in uids:
            self._move(uid, self._processed)

    def quarantine(self, uid: str, reason: str) -> None:
        """File the message under .Quarantine, its raw bytes kept, with the reason beside it."""
        _check_uid(uid)
        if self._find(self.path, uid) is None and self._find(self._quarantine, uid) is None:
            raise MailboxError("no such message in the inbox", uid=uid)
        atomic_write(self._reasons / f"{uid}.reason.txt", f"{reason}\n".encode())
        self._move(uid, self._quarantine)

    def _move(self, uid: str, folder: Path) -> None:
        _check_uid(uid)
        source = self._find(self.path, uid)
        if source is None:
            if self._find(folder, uid) is not None:
                return
            raise MailboxError("no such message in the inbox", uid=uid, folder=folder.name)
        try:
            # A rename keeps the file's mtime, which is the time of receipt.
            os.rename(source, folder / "cur" / f"{uid}{_SEEN}")
        except FileNotFoundError:
            if self._find(folder, uid) is None:  # not moved there by a concurrent call either
                raise
        fsync_dir(folder / "cur")

    @staticmethod
    def _find(maildir: Path, uid: str) -> Path | None:
        for sub in ("new", "cur"):
            with os.scandir(maildir / sub) as entries:
                for entry in entries:
                    if entry.name == uid or entry.name.startswith(uid + _INFO_SEPARATOR):
                        return Path(entry.path)
        return None


def _read(entry: os.DirEntry[str], limit: int) -> RawMail | None:
    if entry.name.startswith(".") or not entry.is_file():
        return None
    try:
        with open(entry.path, "rb") as handle:
            stat = os.fstat(handle.fileno())
            over = stat.st_size if stat.st_size > limit else 0
            data = b"" if over else handle.read()
    except FileNotFoundError:  # moved away by another worker since the listing
        return None
    return RawMail(
        uid=entry.name.split(_INFO_SEPARATOR, 1)[0],
        data=data,
        received_at=datetime.fromtimestamp(stat.st_mtime, tz=UTC),
        over_limit=over,
    )


def _new_uid() -> str:
    """A unique Maildir name: time, microseconds, process, randomness, host."""
    now = time.time()
    host = re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname()) or "localhost"
    micro = int((now % 1) * 1_000_000)
    return f"{int(now)}.M{micro}P{os.getpid()}R{secrets.token_hex(8)}.{host}"


def _check_uid(uid: str) -> None:
    # A uid comes back from the store; it must name a file here and never a path elsewhere.
    if not _SAFE_UID.fullmatch(uid) or _INFO_SEPARATOR in uid:
        raise MailboxError("not a valid message uid", uid=uid)
