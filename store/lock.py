"""One writer per store: an exclusive ``flock`` on DIR/store.lock.

The index in memory is only right if nobody else writes the files, so a
second process opening the same store is refused at once rather than left to
interleave writes. The kernel drops the lock when the holder dies, even by
kill -9, so a crash never leaves a stale lock behind; the pid written into the
file is only there to name the holder in the error, so failing to write it (a
full disk) does not stop the store from opening. A directory that cannot be
written at all (read-only, not ours) is refused by ``Store.open`` as
``StoreDiskError`` naming it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from .atomic import FILE_MODE
from .errors import StoreLocked

LOCK_FILE = "store.lock"


class StoreLock:
    """Held from ``acquire`` until ``release``."""

    def __init__(self, fd: int) -> None:
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, root: Path) -> StoreLock:
        """Take the lock without waiting; ``StoreLocked`` names the holder if it is taken."""
        fd = os.open(root / LOCK_FILE, os.O_RDWR | os.O_CREAT, FILE_MODE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_pid(fd)
            os.close(fd)
            raise StoreLocked(path=root, pid=holder) from None
        except BaseException:
            os.close(fd)
            raise
        with contextlib.suppress(OSError):  # only names the holder: a full disk must not stop reading
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        return cls(fd)

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii").strip()
        return int(text)
    except (OSError, ValueError):
        return None
