"""The local-mode "SMTP server": every letter sent becomes an `.eml` file in a folder.

Local mode must show exactly what would have been emailed, without an account anywhere. The effect
runner may repeat a send after a crash, so a letter whose Message-ID is already in the folder is
not written again: a repeated effect never doubles a letter. The folder is also its own sent
folder (`holds`): a letter cut off by a crash is never in doubt here, since the file is written
whole or not at all and can be looked for. `send` is the `Mailer` port, as the SMTP mailer's.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path

from mail.errors import OutboxError
from mail.files import make_private_dirs
from store.atomic import atomic_write

_UNSAFE = re.compile(r"[^A-Za-z0-9-]+")
_SLUG_LENGTH = 24
_DIGEST_LENGTH = 16


class FileOutbox:
    """Writes each message to `path/<timestamp>-<safe id>.eml`, once per Message-ID."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        make_private_dirs(self.path)
        self._lock = asyncio.Lock()

    async def send(self, message: EmailMessage, accepted: Callable[[], None] | None = None) -> None:
        """Write the message out, unless a message with its Message-ID is already there; either way
        it is then `accepted`."""
        message_id = str(message.get("Message-ID") or "").strip()
        if not message_id:
            raise OutboxError("the message has no Message-ID", subject=str(message["Subject"]))
        data = message.as_bytes()
        async with self._lock:  # one check-then-write at a time for this folder
            await asyncio.to_thread(self._write_once, message_id, _timestamp(message), data)
        if accepted is not None:
            accepted()

    def holds(self, message_id: str) -> bool:
        """Was a message with this Message-ID written here? (`mail.ports.SentFolder`)"""
        return any(self.path.glob(f"*-{_safe_id(message_id)[1]}.eml"))

    def _write_once(self, message_id: str, timestamp: str, data: bytes) -> None:
        if self.holds(message_id):
            return
        slug, digest = _safe_id(message_id)
        name = f"{timestamp}-{slug}-{digest}.eml" if slug else f"{timestamp}-{digest}.eml"
        atomic_write(self.path / name, data)


def _safe_id(message_id: str) -> tuple[str, str]:
    """A readable slug of the id's left part, and a digest of the whole id that keeps it unique."""
    local_part = message_id.strip("<>").split("@", 1)[0]
    slug = _UNSAFE.sub("-", local_part).strip("-")[:_SLUG_LENGTH].strip("-")
    digest = hashlib.sha256(message_id.encode("utf-8")).hexdigest()[:_DIGEST_LENGTH]
    return slug, digest


def _timestamp(message: EmailMessage) -> str:
    """The letter's Date (so a repeat gets the same name), or now if it has none."""
    try:
        sent = parsedate_to_datetime(str(message["Date"]))
    except (TypeError, ValueError, IndexError, OverflowError):
        sent = datetime.now(UTC)
    if sent.tzinfo is None:
        sent = sent.replace(tzinfo=UTC)
    return sent.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
