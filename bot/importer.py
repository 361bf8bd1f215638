"""`jointly import`: .eml files, mbox files and Maildir folders through the same intake as the
mailbox (for backlogs exported from Outlook, and for testing).

The sources are only read, never changed: a message "filed" or "quarantined" here is recorded in
the store as usual, and its file stays where it is. Letters the intake queues (acknowledgements)
go out with the next `jointly run`. A message over the mailbox's size limit is not read (its size
is known first) and is quarantined, as from the mailbox.
"""

from __future__ import annotations

import mailbox
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Protocol

from mail.maildir import MAX_MESSAGE_BYTES, RawMail


class _File(Protocol):
    """An open message: a file, or a mailbox's view of one message in a file."""

    def read(self) -> bytes: ...

    def seek(self, offset: int, whence: int, /) -> object: ...

    def tell(self) -> int: ...


class ImportInbox:
    """An `Inbox` over files given on the command line, in the order given."""

    def __init__(self, paths: list[Path], max_message_bytes: int = MAX_MESSAGE_BYTES) -> None:
        self.paths = paths
        self.max_message_bytes = max_message_bytes
        self.sources: dict[str, str] = {}  # uid -> where the message came from

    def pending(self) -> list[RawMail]:
        found: list[RawMail] = []
        for source, file, fallback in self._messages():
            uid = f"import-{len(found) + 1}"
            self.sources[uid] = source
            data, over = _read(file, self.max_message_bytes)
            found.append(RawMail(uid, data, _sent_at(data) or fallback, over_limit=over))
        return found

    def mark_processed(self, *uids: str) -> None:
        """The source file is left as it is."""

    def quarantine(self, uid: str, reason: str) -> None:
        """The source file is left as it is; the intake has recorded why."""

    def wait(self, timeout: float) -> bool:
        return False

    def close(self) -> None:
        """Nothing to let go of."""

    def _messages(self) -> Iterator[tuple[str, _File, datetime]]:
        """Each message as (where it came from, the message open for reading, a fallback time)."""
        for path in self.paths:
            modified = datetime.fromtimestamp(path.stat().st_mtime, UTC)
            if path.is_dir():
                box = mailbox.Maildir(path, factory=None, create=False)
                for key in sorted(box.keys()):
                    with box.get_file(key) as file:
                        yield f"{path}/{key}", file, modified
            elif path.suffix.lower() == ".eml":
                with path.open("rb") as file:
                    yield str(path), file, modified
            else:
                yield from _mbox(path, modified)


def _mbox(path: Path, modified: datetime) -> Iterator[tuple[str, _File, datetime]]:
    mbox = mailbox.mbox(path, factory=None, create=False)
    try:
        for number, key in enumerate(mbox.iterkeys(), 1):
            with mbox.get_file(key) as file:
                yield f"{path}#{number}", file, modified
    finally:
        mbox.close()


def _read(file: _File, limit: int) -> tuple[bytes, int]:
    """(the message's bytes, 0), or (b"", its size) when it is over `limit`: then it is not read."""
    file.seek(0, os.SEEK_END)
    size = file.tell()
    if size > limit:
        return b"", size
    file.seek(0, os.SEEK_SET)
    return file.read(), 0


def _sent_at(data: bytes) -> datetime | None:
    """For an exported message the best receipt time left is its Date header."""
    head = data.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    for line in head.decode("ascii", "replace").splitlines():
        if line.lower().startswith("date:"):
            try:
                sent = parsedate_to_datetime(line[5:].strip())
            except (TypeError, ValueError, IndexError):
                return None
            return sent if sent.tzinfo else sent.replace(tzinfo=UTC)
    return None
