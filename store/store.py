"""The store: case event logs, their effects, de-duplication keys and cursors.

A store is a directory::

    store.lock              flock held by the one process that has the store open (lock.py)
    streams/<id>.json       one TinyDB file per stream, replaced whole per write: the truth
    index.snapshot.jsonl    the in-memory index saved for a cheap open: a cache (index.py)
    index.jsonl
    cursors/<name>.json     small named positions (cursors.py)

Every write to a stream (events, new or finished effects, consumed keys,
summary) is one atomic file replacement, so effects are never recorded without
the events that caused them. Methods block; async callers go through
``asyncio.to_thread``, and a mutex keeps those threads from interleaving.

``batch()`` is a group commit for bursts (the intake of a full mailbox): within
it, the writes of the thread that opened it are visible at once to every
reader, but reach the disk together when it ends, one flush for all instead of
one each. A crash before the end loses the batch's writes, all of them or only
later ones, never part of one; so the caller must not act outside the store
(move the mail away) before the batch has ended without error. Meanwhile
pending effects of staged streams are not handed out (no letter goes out on a
record that is not yet on disk), and other threads' writes stay durable one by
one. A staged file is kept in memory, where reads find it, and written when
the batch ends. (Writing them meanwhile on a thread of their own gained
nothing: a busy caller holds the GIL, so the thread waited for it between
system calls and fell behind.) Past ``STAGE_LIMIT`` bytes staged, a batch
flushes early: durable sooner is always allowed, and an import of a whole
archive must not sit in memory.

When the disk refuses (full, over quota, read-only), the write raises
``StoreDiskError`` naming what was being written, and nothing of it is kept:
a single write is not in the store, a batch's writes stay staged for the next
flush, so trying again once the disk takes writes is always safe.

Where corruption is reported: a stream file is checked whenever it is read, so
``load`` and every write raise ``StoreCorrupt`` for a bad file. ``open`` reads,
and so checks, only the stream files its index does not match (new, edited, or
written after the index's last good line) and raises for those.

Readers alongside the writer: ``Store.open(path, readonly=True)`` takes no
lock, creates, sweeps and compacts nothing, and refuses every write with
``StoreReadOnly``. It is what the commands that only read use, so they work
while ``jointly run`` holds the store. What such a reader sees: the cases the
index and the stream files held when it opened (the journal is read up to its
last whole line, then any file that does not match is read itself), and each
case whole, as it was when ``load`` read it: a stream file is only ever
replaced by a rename, so a reader finds the old file or the new one, never
part of one. A batch in progress is invisible to it until the batch's end
puts its files in place, so a reader sees each case before the batch or after
it. Cases are not read at one instant: one loaded later may be newer than its
summary in the listing, and cases created after the open are not listed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

from .atomic import fsync_dir, remove_temp_files, sync_files, temp_path, write_new
from .cursors import all_cursors, read_cursor, write_cursor
from .errors import (
    DuplicateKey,
    StoreCorrupt,
    StoreDiskError,
    StoreError,
    StoreReadOnly,
    UnknownEffect,
    UnknownStream,
    VersionConflict,
    closed_store,
    disk_errors,
)
from .index import Entry, Index
from .lock import StoreLock
from .records import (
    Change,
    EffectRecord,
    OpenCase,
    StoredStream,
    StreamRecord,
    Summary,
    check_events,
    check_id,
    check_key,
    check_summary,
    require_aware,
    soonest_first,
)
from .streams import Fingerprint, StreamWrite, fingerprint, read_stream, stream_file

STREAMS = "streams"
CURSORS = "cursors"
UNWRITTEN: Fingerprint = (0, 0, 0)  # a staged entry's, until its file is in place
log = logging.getLogger(__name__)
STAGE_LIMIT = 64_000_000  # bytes of staged files a batch keeps in memory before it flushes early


class Store:
    """The only writer of one store directory, or a reader beside it; get one with ``Store.open``."""

    def __init__(self, root: Path, lock: StoreLock | None, index: Index) -> None:
        self.root = root
        self.readonly = lock is None
        self._streams = root / STREAMS
        self._cursors = root / CURSORS
        self._lock = lock
        self._index = index
        self._mutex = threading.Lock()
        self._closed = False
        self._batching = threading.RLock()  # one batch at a time; the owner may nest
        self._batch_owner: int | None = None  # the thread whose writes are staged
        self._staged: dict[str, bytes] = {}  # stream -> its newest file, not yet on disk
        self._placed: dict[str, Fingerprint] = {}  # renamed into place, their directory not flushed
        self.stage_limit = STAGE_LIMIT
        self._staged_bytes = 0
        self._feeds: list[set[str]] = []  # per change feed, the streams written since it was last asked

    @classmethod
    def open(cls, path: Path, *, readonly: bool = False) -> Store:
        """Create the directory if missing, take the lock, load the index; or with ``readonly``,
        load the index without the lock, changing nothing on disk (see the module docstring)."""
        root = Path(path)
        if readonly:
            with disk_errors(root):
                return cls(root, None, Index.load(root, root / STREAMS, readonly=True))
        with disk_errors(root):
            root.mkdir(mode=0o700, parents=True, exist_ok=True)
            lock = StoreLock.acquire(root)
            try:
                for directory in (root / STREAMS, root / CURSORS):
                    if not directory.exists():
                        directory.mkdir(mode=0o700)
                        fsync_dir(root)
                    remove_temp_files(directory)
                remove_temp_files(root)
                index = Index.load(root, root / STREAMS)
            except BaseException:
                lock.release()
                raise
        return cls(root, lock, index)

    def close(self) -> None:
        """Flush a batch still open, then release the store (even if the flush fails)."""
        with self._mutex:
            if not self._closed:
                try:
                    self._flush()
                finally:
                    self._closed = True
                    self._index.close()
                    if self._lock is not None:
                        self._lock.release()

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Group this thread's writes into one flush to disk when the block ends, even by an
        exception; the flush's own error, if any, is raised then (the writes stay staged, so the
        next flush tries them again, and a crash meanwhile loses them). See the module docstring."""
        with self._batching:
            outer = self._batch_owner is None
            self._batch_owner = threading.get_ident()
            try:
                yield
            finally:
                if outer:
                    with self._mutex:
                        self._batch_owner = None
                        if not self._closed:
                            self._flush()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def append(
        self,
        stream: str,
        events: Sequence[Mapping[str, Any]],
        *,
        expected_version: int,
        effects: Sequence[Mapping[str, Any]] = (),
        keys: Iterable[str] = (),
        summary: Mapping[str, Any] | None = None,
        now: datetime,
    ) -> int:
        """Add events (at least one), pending effects and consumed keys in one write.

        ``expected_version`` is the version the caller decided on (0 for a new
        stream); returns the new version.
        """
        change = Change.checked(
            stream, events, effects, keys, summary, now, expected_version=expected_version
        )
        with self._mutex:
            self._check_writable()
            entry = self._entry_or_none(stream)
            actual = 0 if entry is None else entry.version
            if actual != expected_version:
                raise VersionConflict(stream=stream, expected=expected_version, actual=actual)
            write = self._begin(stream, entry)
            self._add(write, change)
            return self._commit(stream, write)

    def load(self, stream: str) -> StreamRecord:
        """Read a stream's file; ``UnknownStream`` if there is none."""
        check_id(stream)
        with self._mutex:
            entry = self._entry(stream)
            path = stream_file(self._streams, stream)
            state = read_stream(path, stream, self._staged.get(stream))
            if self.readonly and state is not None:  # the writer may have moved it on since the open
                return state.record()
            _check_matches(path, None if state is None else state.version, entry)
            assert state is not None  # _check_matches refused a missing file
            return state.record()

    def exists(self, stream: str) -> bool:
        check_id(stream)
        with self._mutex:
            return self._entry_or_none(stream) is not None

    def summaries(self, *, open_only: bool = False) -> list[Summary]:
        """Every stream's summary (or the open cases'), from memory, in no particular order.

        The summaries are the index's own objects, not copies (copying 10,000
        of them would cost more than the listing itself): do not change them.
        """
        with self._mutex:
            self._check_open()
            return self._index.open_summaries() if open_only else self._index.summaries()

    def open_cases(self) -> list[OpenCase]:
        """The open cases, soonest next date first, from memory."""
        return soonest_first(
            OpenCase(s.stream, s.version, (s.summary.get("next_deadline") or {}).get("on"))
            for s in self.summaries(open_only=True)
        )

    def summary(self, stream: str) -> Summary | None:
        """One stream's summary, from memory (the index's own object: do not change it)."""
        check_id(stream)
        with self._mutex:
            self._check_open()
            entry = self._entry_or_none(stream)
            return entry.summary if entry is not None else None

    def has_key(self, key: str) -> bool:
        """Was this de-duplication key consumed by any write, in any stream?"""
        return self.stream_for_key(key) is not None

    def stream_for_key(self, key: str) -> str | None:
        with self._mutex:
            self._check_open()
            return self._index.owner(key)

    def due_effects(self, now: datetime) -> list[tuple[str, EffectRecord]]:
        """Pending effects due by ``now``, from memory: earliest due first, then oldest.

        Like ``summaries()``, the records are the index's own: do not change their dicts.
        """
        require_aware(now, "now")
        with self._mutex:
            self._check_open()
            staged = self._staged
            due = [(s, r) for s, r in self._index.pending() if r.next_attempt_at <= now and s not in staged]
        return sorted(due, key=lambda item: (item[1].next_attempt_at, item[1].created_at))

    def claim_effects(self, now: datetime, *, lease: timedelta) -> list[tuple[str, EffectRecord]]:
        """The effects due: this process is the store's only writer, so no other can claim them."""
        return self.due_effects(now)

    def complete_effect(
        self,
        stream: str,
        key: str,
        *,
        events: Sequence[Mapping[str, Any]] = (),
        effects: Sequence[Mapping[str, Any]] = (),
        keys: Iterable[str] = (),
        summary: Mapping[str, Any] | None = None,
        now: datetime,
        expected_version: int | None = None,
    ) -> int:
        """Mark an effect done and append what followed from it (events, new pending effects,
        consumed keys) in one write; done already: no-op. With `expected_version`, the events
        follow that version or nothing is written (`VersionConflict`)."""
        change = Change.checked(stream, events, effects, keys, summary, now)
        with self._mutex:
            write = self._begin(stream, self._entry(stream))
            record = _effect(write, key)
            if record.status == "done":
                return write.state.version
            if expected_version is not None and write.state.version != expected_version:
                raise VersionConflict(stream=stream, expected=expected_version, actual=write.state.version)
            write.replace_effect(replace(record, status="done", done_at=now))
            self._add(write, change)
            return self._commit(stream, write)

    def fail_effect(
        self,
        stream: str,
        key: str,
        *,
        error: str,
        retry_at: datetime,
        now: datetime,
    ) -> None:
        """Count a failed attempt and set when to retry (the caller chose the backoff)."""
        check_id(stream)
        require_aware(now, "now")
        require_aware(retry_at, "retry_at")
        if not isinstance(error, str):
            raise ValueError(f"error must be a string, got {error!r}")
        with self._mutex:
            write = self._begin(stream, self._entry(stream))
            record = _effect(write, key)
            if record.status == "done":
                raise ValueError(f"effect {key!r} of stream {stream} is done; it cannot fail")
            failed = replace(
                record,
                attempts=record.attempts + 1,
                last_error=error,
                next_attempt_at=retry_at,
            )
            write.replace_effect(failed)
            self._commit(stream, write)

    def erase(
        self, stream: str, tombstone: Mapping[str, Any], *, summary: Mapping[str, Any], now: datetime
    ) -> int:
        """Replace everything a stream holds with one tombstone event: events, effects, keys and
        summary go, in one atomic file replacement, and the index forgets them too.

        For records destroyed at the end of their retention period. The stream keeps its name;
        its version is 1 again, the tombstone being its only event."""
        check_id(stream)
        require_aware(now, "now")
        [event] = check_events([tombstone])
        new_summary = check_summary(summary)
        with self._mutex:
            self._check_writable()
            self._flush()  # the index files are rewritten below: every stream file must be in place
            entry = self._entry(stream)
            write = self._begin(stream, entry, may_stage=False)
            write.clear()
            write.add_events([event])
            write.state.summary = new_summary or {}
            with disk_errors(write.path):
                stat = write.commit()
                assert stat is not None  # written in place, not staged
                self._index.erase(stream, Entry.of(write.state, stat))
            self._wrote(stream)
            return write.state.version

    def export(self, stream: str) -> StoredStream:
        """A stream whole, keys included, for another store's `restore`."""
        check_id(stream)
        with self._mutex:
            entry = self._entry(stream)
            path = stream_file(self._streams, stream)
            state = read_stream(path, stream, self._staged.get(stream))
            _check_matches(path, None if state is None else state.version, entry)
            assert state is not None  # _check_matches refused a missing file
            return StoredStream(state.record(), list(state.keys))

    def restore(self, stored: StoredStream) -> None:
        """Write a stream another store exported, as it was (its effects' progress and its keys
        too), where this store has no stream of that name."""
        record = stored.record
        check_id(record.stream)
        keys = [check_key(key) for key in stored.keys]
        with self._mutex:
            self._check_writable()
            if self._entry_or_none(record.stream) is not None:
                raise ValueError(f"stream {record.stream} exists already: restore writes only new ones")
            for key in keys:
                if (owner := self._index.owner(key)) is not None:
                    raise DuplicateKey(key=key, stream=owner)
            write = self._begin(record.stream, None)
            write.add_events(check_events(record.events))
            write.add_effects(list(record.effects))
            write.state.keys.extend(keys)
            write.state.summary = check_summary(record.summary) or {}
            self._commit(record.stream, write)

    def cursors(self) -> dict[str, dict[str, Any]]:
        """Every cursor, by name."""
        with self._mutex:
            self._check_open()
            return all_cursors(self._cursors)

    def get_cursor(self, name: str) -> dict[str, Any] | None:
        with self._mutex:
            self._check_open()
            return read_cursor(self._cursors, name)

    def set_cursor(self, name: str, value: Mapping[str, Any]) -> None:
        with self._mutex, disk_errors(self._cursors):
            self._check_open()
            self._check_writable()
            write_cursor(self._cursors, name, value)

    def first_cursor(self, name: str, value: Mapping[str, Any]) -> dict[str, Any]:
        """The cursor `name`, set to `value` first if it has none."""
        with self._mutex, disk_errors(self._cursors):
            self._check_open()
            saved = read_cursor(self._cursors, name)
            if saved is None:
                self._check_writable()
                write_cursor(self._cursors, name, value)
                saved = dict(value)
            return saved

    # --- what replicas need, for one process ---------------------------------------------------

    shared = False  # one process writes a store directory (its lock says so)

    def check(self) -> None:
        """Ready to serve: open, its directory there."""
        with self._mutex:
            self._check_open()
        if not self._streams.is_dir():
            raise StoreError(f"the store at {self.root} has no {STREAMS} directory: was it moved?")

    def feed(self) -> Callable[[], set[str]]:
        """A change feed: each call returns the streams written since its previous call."""
        written: set[str] = set()
        with self._mutex:
            self._feeds.append(written)

        def take() -> set[str]:
            with self._mutex:
                taken = set(written)
                written.clear()
            return taken

        return take

    def lead(self) -> bool:
        """The writer leads: no other process has the store open for writing."""
        return not self.readonly

    def wait_changes(self, seconds: float) -> bool:
        """No other process writes this store: nothing to wait for."""
        return False

    def exclusive(self, name: str) -> AbstractContextManager[None]:
        """One process holds the store: its own locks keep its threads apart."""
        return nullcontext()

    def _add(self, write: StreamWrite, change: Change) -> None:
        """Put a change into one pending write; a key another write consumed already, or an effect
        key the stream has, refuses the whole write."""
        for key in change.keys:
            if (owner := self._index.owner(key)) is not None:
                raise DuplicateKey(key=key, stream=owner)
        _refuse_taken_effect_keys(write, change.effects)
        write.add_events(change.events)
        write.add_effects(change.effects)
        write.state.keys.extend(change.keys)
        if change.summary is not None:
            write.state.summary = change.summary

    def _wrote(self, stream: str) -> None:
        for written in self._feeds:
            written.add(stream)

    def _check_open(self) -> None:
        if self._closed:
            raise closed_store(self.root)

    def _check_writable(self) -> None:
        if self.readonly:
            raise StoreReadOnly(path=self.root)

    def _entry_or_none(self, stream: str) -> Entry | None:
        self._check_open()
        return self._index.get(stream)

    def _entry(self, stream: str) -> Entry:
        entry = self._entry_or_none(stream)
        if entry is None:
            raise UnknownStream(stream=stream)
        return entry

    def _begin(self, stream: str, entry: Entry | None, *, may_stage: bool = True) -> StreamWrite:
        """Read a stream for a write, staged if this thread owns the batch (and it ``may_stage``)."""
        self._check_writable()
        path = stream_file(self._streams, stream)
        stage = may_stage and self._batch_owner == threading.get_ident()
        write = StreamWrite(path, stream, source=self._staged.get(stream), stage=stage)
        _check_matches(path, write.state.version if write.existed else None, entry)
        return write

    def _commit(self, stream: str, write: StreamWrite) -> int:
        with disk_errors(write.path):
            stat = write.commit()
        data = write.staged
        old = self._staged.pop(stream, None)  # replaced by a newer one, or by a durable write
        self._staged_bytes -= len(old or b"")
        if data is not None:
            self._staged[stream] = data
            self._staged_bytes += len(data)
        self._index.put(stream, Entry.of(write.state, stat or UNWRITTEN), journal=data is None)
        self._wrote(stream)
        if self._staged_bytes > self.stage_limit:  # an archive import must not sit in memory
            try:
                self._flush()
            except StoreDiskError as error:  # this write is done (staged); the batch's end tries again
                log.error("could not flush a batch early (%s); its end will try again", error)
        return write.state.version

    def _flush(self) -> None:
        """Make the staged files durable and put them in place: write each to a temporary file,
        flush them to disk together, rename each over its stream file, flush the directory, then
        journal their index entries. On an error the files not yet in place stay staged."""
        with disk_errors(self._streams):
            temps = {stream: temp_path(stream_file(self._streams, stream)) for stream in self._staged}
            try:
                for stream, temp in temps.items():
                    write_new(temp, self._staged[stream], durable=False)
                sync_files(list(temps.values()))
            except BaseException:
                for temp in temps.values():
                    with contextlib.suppress(OSError):  # left over, it is swept at the next open
                        temp.unlink()
                raise
            for stream, temp in temps.items():
                stat = fingerprint(temp)  # a rename keeps it
                os.replace(temp, stream_file(self._streams, stream))
                self._staged_bytes -= len(self._staged.pop(stream))
                self._placed[stream] = stat
            if self._placed:
                fsync_dir(self._streams)
                self._index.placed(self._placed)
                self._placed.clear()


def _check_matches(path: Path, on_disk: int | None, entry: Entry | None) -> None:
    """Refuse a stream file that changed behind the open store's back."""
    if entry is None and on_disk is None:
        return
    if entry is None:
        problem = f"the file (version {on_disk}) appeared while the store was open"
    elif on_disk is None:
        problem = f"the file is missing, though the index records version {entry.version}"
    elif on_disk != entry.version:
        problem = (
            f"the file holds version {on_disk} but the store wrote version "
            f"{entry.version}; was it changed while the store was open?"
        )
    else:
        return
    raise StoreCorrupt(path=path, problem=problem)


def _refuse_taken_effect_keys(write: StreamWrite, records: list[EffectRecord]) -> None:
    taken = {effect.key for effect in write.state.effects}
    for record in records:
        if record.key in taken:
            raise ValueError(f"stream {write.state.stream} already has an effect {record.key!r}")
        taken.add(record.key)


def _effect(write: StreamWrite, key: str) -> EffectRecord:
    position = write.state.effect_position(key)
    if position is None:
        raise UnknownEffect(stream=write.state.stream, key=key)
    return write.state.effects[position]
