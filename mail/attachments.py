"""Attachments kept on disk under names we generate, never under the names senders give them.

A sender's filename is whatever their mail program (or an attacker) put there: `../../etc/passwd`,
control characters, 300 characters, a right-to-left override that turns `fdp.exe` into `exe.pdf`
on screen. So a file is stored as the SHA-256 of its bytes plus an extension chosen from its
content type out of a short list (anything else is `.bin`), under `root/<first two hex digits>/`.
The same bytes arriving twice are stored once. The sender's name is kept only as display text,
cleaned of control characters and path separators and cut to a readable length.

Writes go through `store.atomic.atomic_write`, so a crash leaves a whole file or none. A stored
file may be shared by several messages or cases; deciding when nothing refers to it any more (the
retention rules) is the caller's business, and `remove` only deletes what it is told to.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from mail.errors import MailError
from mail.files import make_private_dirs
from store.atomic import atomic_write

# Extensions for the content types complaints usually carry; the type decides, never the name.
_EXTENSIONS = {
    "application/pdf": ".pdf",
    "application/msword": ".doc",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.ms-excel": ".xls",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.oasis.opendocument.text": ".odt",
    "application/rtf": ".rtf",
    "application/zip": ".zip",
    "audio/mpeg": ".mp3",
    "audio/mp4": ".m4a",
    "image/gif": ".gif",
    "image/heic": ".heic",
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/tiff": ".tif",
    "image/webp": ".webp",
    "message/rfc822": ".eml",
    "text/calendar": ".ics",
    "text/csv": ".csv",
    "text/plain": ".txt",
    "video/mp4": ".mp4",
}
_FALLBACK_EXTENSION = ".bin"
_KNOWN_EXTENSIONS = frozenset(_EXTENSIONS.values()) | {_FALLBACK_EXTENSION}
_HEX = frozenset("0123456789abcdef")
MAX_DISPLAY_NAME = 120
_UNNAMED = "attachment"
# Control, format (bidirectional overrides, zero-width), line-separator and unassigned characters.
_INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


class AttachmentError(MailError):
    """A name that this store did not generate (so it could point anywhere) was asked for."""


@dataclass(frozen=True)
class StoredAttachment:
    """A file in the store: `name` is ours; `original_filename` is the sender's, for display only."""

    name: str
    sha256: str
    size: int
    content_type: str
    original_filename: str


class AttachmentStore:
    """Content-addressed files under `root`, readable by this user only."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def save(self, data: bytes, *, filename: str, content_type: str) -> StoredAttachment:
        """Store `data` (once, however often it arrives) and describe it."""
        digest = hashlib.sha256(data).hexdigest()
        kind = _content_type(content_type)
        name = digest + extension_for(kind)
        target = self.path(name)
        if not (target.is_file() and target.stat().st_size == len(data)):
            make_private_dirs(target.parent)
            atomic_write(target, data)
        return StoredAttachment(
            name=name,
            sha256=digest,
            size=len(data),
            content_type=kind,
            original_filename=display_name(filename),
        )

    def path(self, name: str) -> Path:
        """Where the file called `name` lives; refuses any name this store would not generate."""
        if not is_generated_name(name):
            raise AttachmentError("not the name of a stored attachment", name=name)
        return self.root / name[:2] / name

    def remove(self, name: str) -> None:
        """Delete the stored file `name`, if it is there."""
        self.path(name).unlink(missing_ok=True)


def extension_for(content_type: str) -> str:
    """The extension for a content type: one of a short list, or `.bin`."""
    return _EXTENSIONS.get(_content_type(content_type), _FALLBACK_EXTENSION)


def is_generated_name(name: str) -> bool:
    """True for 64 lower-case hex digits followed by one of our extensions, and nothing else."""
    digest, dot, extension = name.partition(".")
    return len(digest) == 64 and set(digest) <= _HEX and bool(dot) and "." + extension in _KNOWN_EXTENSIONS


def display_name(filename: str) -> str:
    """The sender's filename made safe to show: last path part, no control characters, capped."""
    text = unicodedata.normalize("NFC", filename)
    text = "".join(char for char in text if unicodedata.category(char) not in _INVISIBLE)
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = " ".join(text.split()).strip(". ")
    if not text:
        return _UNNAMED
    if len(text) <= MAX_DISPLAY_NAME:
        return text
    stem, dot, suffix = text.rpartition(".")
    if dot and stem and len(suffix) <= 10:
        return text[: MAX_DISPLAY_NAME - len(suffix) - 2] + "\u2026." + suffix
    return text[: MAX_DISPLAY_NAME - 1] + "\u2026"


def _content_type(value: str) -> str:
    """A lower-case 'type/subtype' without parameters, or application/octet-stream."""
    kind = value.split(";", 1)[0].strip().lower()
    main, slash, sub = kind.partition("/")
    return kind if main and slash and sub else "application/octet-stream"
