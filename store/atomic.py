"""Replace a file so that a crash at any instant leaves the old bytes or the new ones.

This is the only place the project writes a whole file (the mail package's
Maildir and file outbox use it too). Stream files (through the
TinyDB storage), index snapshots and cursors all go through ``atomic_write``.
The new bytes go to a temporary file in the same directory, which is flushed
to disk, renamed over the target (an atomic step on POSIX), and then the
directory itself is flushed so the rename survives a power cut too.

A group commit (``Store.batch``) does the same steps for many files at once:
each written with ``write_new(durable=False)``, then one ``sync_files`` for
all of them, the renames, and one ``fsync_dir``. Flushing files one by one
costs a disk flush each (0.36 ms on the ext4 volume of the machine the
benchmarks ran on); ``syncfs`` flushes a burst of 2,000 files in the time of about 50 of those.

Temporary files are named ``.<target>.<random>.tmp``; stream ids and cursor
names cannot start with a dot, so they never collide with real files, and a
crash leaves at most some of them behind for ``remove_temp_files`` to sweep.
"""

from __future__ import annotations

import ctypes
import os
import secrets
import sys
from collections.abc import Sequence
from pathlib import Path

FILE_MODE = 0o600  # complaint records are personal data: owner only
SYNCFS_FROM = 8  # files: below this, flushing each costs less than flushing the whole file system


def atomic_write(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Make ``path`` hold exactly ``data``, all at once.

    ``durable=False`` skips the fsyncs: still atomic against a killed process,
    not against a power cut. Only for seeding benchmarks and bulk imports.
    """
    tmp = temp_path(path)
    try:
        write_new(tmp, data, durable=durable)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if durable:
        fsync_dir(path.parent)


def temp_path(path: Path) -> Path:
    """A new temporary file's name next to ``path``, swept by ``remove_temp_files`` if left over."""
    return path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")


def write_new(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Create ``path`` (it must not exist, owner-only), write ``data``, flush it to disk."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        _write_all(fd, data)
        if durable:
            os.fsync(fd)
    finally:
        os.close(fd)


def sync_files(paths: Sequence[Path]) -> None:
    """Flush files written with ``durable=False`` to disk: a burst with one ``syncfs`` of their
    file system (Linux), a few or elsewhere with an ``fsync`` each. They must share a directory."""
    if len(paths) >= SYNCFS_FROM and _syncfs is not None:
        fd = os.open(paths[0].parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            if _syncfs(fd) != 0:
                error = ctypes.get_errno()
                raise OSError(error, os.strerror(error), str(paths[0].parent))
        finally:
            os.close(fd)
        return
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def fsync_dir(directory: Path) -> None:
    """Flush a directory's entries, so a rename or a new file in it is on disk."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_temp_files(directory: Path) -> int:
    """Delete temporary files left by writes that were killed; returns how many."""
    removed = 0
    with os.scandir(directory) as entries:
        for entry in entries:
            if entry.name.startswith(".") and entry.name.endswith(".tmp"):
                os.unlink(entry.path)
                removed += 1
    return removed


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _load_syncfs() -> ctypes._NamedFuncPointer | None:
    """glibc's ``syncfs`` (Linux 2.6.39; it reports write-back errors since Linux 5.8)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)  # the C library the interpreter runs on
        function = libc.syncfs
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int]
    function.restype = ctypes.c_int
    return function


_syncfs = _load_syncfs()
