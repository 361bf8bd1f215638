"""Errors raised by the store, each carrying the context a person needs to act.

Every error text is built here, so the wording stays in one place::

    StoreError               anything the store refuses or cannot do
     ├── StoreLocked         another process holds DIR/store.lock
     ├── StoreReadOnly       a write through a store opened read-only
     ├── StoreCorrupt        a file does not parse, or parses to the wrong shape
     ├── StoreDiskError      the operating system refused a write: disk full, read-only, ...
     ├── StoreUnavailable    the database cannot be reached
     ├── VersionConflict     append(expected_version=...) did not match the stream
     ├── UnknownStream       no stream with that id
     ├── UnknownEffect       no effect with that key in the stream
     └── DuplicateKey        a de-duplication key was already consumed

Wrong arguments (a bad id, a naive datetime, an effect without a key) are
``ValueError``: they are mistakes in the caller, not states of the store.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class StoreError(Exception):
    """Base class: catch this to handle every refusal of the store."""


class StoreLocked(StoreError):
    """Another process (or another ``Store`` in this one) has the store open."""

    def __init__(self, *, path: Path, pid: int | None) -> None:
        self.path = path
        self.pid = pid
        if pid is not None and pid == os.getpid():
            holder = f"this process (pid {pid}), which opened it already; close that Store first"
        else:
            shown = "unknown" if pid is None else str(pid)
            holder = f"another jointly process (pid {shown}); stop it first"
        super().__init__(f"the store at {path} is in use by {holder}")


class StoreReadOnly(StoreError):
    """A write was asked of a store opened with ``readonly=True``, a reader beside the writer."""

    def __init__(self, *, path: Path) -> None:
        self.path = path
        super().__init__(
            f"the store at {path} was opened read-only, to read beside its writer: it takes no writes"
        )


class StoreCorrupt(StoreError):
    """A file of the store cannot be trusted; the store refuses rather than reset it."""

    def __init__(self, *, path: Path, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(
            f"{path}: {problem}. The store will not guess or reset it: "
            "restore the file from a backup or repair it by hand"
        )


class StoreDiskError(StoreError):
    """The disk refused the store: full, over quota, read-only, not permitted, or failing.

    Nothing half-written is kept: the write is not in the store, so it can simply be tried again
    once the disk takes writes (a batch keeps its writes staged for that)."""

    def __init__(self, *, path: Path, errno: int | None, reason: str) -> None:
        self.path = path
        self.errno = errno
        super().__init__(f"the store cannot write {path}: {reason}")


class StoreUnavailable(StoreError):
    """The database cannot be reached (down, out of reach, refusing connections). The call that
    failed wrote nothing, so it can be made again once the database answers."""

    def __init__(self, *, where: str, reason: str) -> None:
        self.where = where
        super().__init__(f"the database at {where} cannot be reached: {reason}")


@contextmanager
def disk_errors(path: Path) -> Iterator[None]:
    """Turn an ``OSError`` raised within into ``StoreDiskError`` naming ``path``, what was being written."""
    try:
        yield
    except OSError as error:
        reason = error.strerror or str(error)
        raise StoreDiskError(path=path, errno=error.errno, reason=reason) from error


class VersionConflict(StoreError):
    """The stream moved on since the caller read it (optimistic concurrency)."""

    def __init__(self, *, stream: str, expected: int, actual: int) -> None:
        self.stream = stream
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"stream {stream} is at version {actual}, not {expected}: reload it and decide again"
        )


class UnknownStream(StoreError):
    """No stream has this id."""

    def __init__(self, *, stream: str) -> None:
        self.stream = stream
        super().__init__(f"there is no stream {stream}")


class UnknownEffect(StoreError):
    """The stream has no effect with this key."""

    def __init__(self, *, stream: str, key: str) -> None:
        self.stream = stream
        self.key = key
        super().__init__(f"stream {stream} has no effect with key {key!r}")


class DuplicateKey(StoreError):
    """A write tried to consume a de-duplication key that is already consumed."""

    def __init__(self, *, key: str, stream: str) -> None:
        self.key = key
        self.stream = stream
        super().__init__(f"key {key!r} was already consumed by stream {stream}")


def closed_store(path: Path) -> StoreError:
    """The error for using a store after ``close()``."""
    return StoreError(f"the store at {path} is closed")
