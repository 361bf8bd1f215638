"""Durable file writes shared by the Maildir inbox and the file outbox.

A complaint that has reached the mailbox, or a letter we have sent, must survive a crash: data is
written to a fresh file, flushed to disk, and only then renamed into place (a rename within one
directory tree is atomic), and the directory entry itself is flushed too.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

_PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def write_synced(path: Path, data: bytes) -> None:
    """Create `path` (it must not exist), write `data` and flush it to disk."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _PRIVATE_FILE)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(descriptor, view):]
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def fsync_dir(path: Path) -> None:
    """Flush a directory so that a rename into it survives a crash (a no-op where unsupported)."""
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def replace_atomically(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file beside it, replacing any old content."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    try:
        write_synced(temporary, data)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def make_private_dirs(*paths: Path) -> None:
    """Create directories (and parents) readable by this user only; existing ones are kept."""
    for path in paths:
        path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
