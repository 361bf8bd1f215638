"""`jointly import`: .eml files, mbox files and Maildir folders through the same intake as the
mailbox (for backlogs exported from Outlook, and for testing).

The sources are only read, never changed: a message "filed" or "quarantined" here is recorded in
the store as usual, and its file stays where it is. Letters the intake queues (acknowledgements)
go out with the next `jointly run`.
"""

from __future__ import annotations

import mailbox
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

from mail.maildir import RawMail


class ImportInbox:
    """An `Inbox` over files given on the command line, in the order given."""

    def __init__(self, paths: list[Path]) -> None:
        self.paths = paths
        self.sources: dict[str, str] = {}  # uid -> where the message came from

    def pending(self) -> list[RawMail]:
        found: list[RawMail] = []
        for source, data, fallback in self._messages():
            uid = f"import-{len(found) + 1}"
            self.sources[uid] = source
            found.append(RawMail(uid, data, _sent_at(data) or fallback))
        return found

    def mark_processed(self, *uids: str) -> None:
        """The source file is left as it is."""

    def quarantine(self, uid: str, reason: str) -> None:
        """The source file is left as it is; the intake has recorded why."""

    def wait(self, timeout: float) -> bool:
        return False

    def close(self) -> None:
        """Nothing to let go of."""

    def _messages(self) -> Iterator[tuple[str, bytes, datetime]]:
        for path in self.paths:
            modified = datetime.fromtimestamp(path.stat().st_mtime, UTC)
            if path.is_dir():
                box = mailbox.Maildir(path, factory=None, create=False)
                for key in sorted(box.keys()):
                    yield f"{path}/{key}", box.get_bytes(key), modified
            elif path.suffix.lower() == ".eml":
                yield str(path), path.read_bytes(), modified
            else:
                mbox = mailbox.mbox(path, factory=None, create=False)
                for number, key in enumerate(mbox.iterkeys(), 1):
                    yield f"{path}#{number}", mbox.get_bytes(key), modified


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
