"""What listings and the effect sweep need, kept in memory and cheap to reopen.

Reading every stream file to list open cases would take seconds at 50,000
cases, so the store keeps each stream's version, summary, consumed keys and
pending effects in memory. Two files let a restart skip the stream files::

    index.snapshot.jsonl   one line per stream, rewritten whole at open (see below)
    index.jsonl            one line per write since, appended after the stream file is replaced

Open rewrites the snapshot and empties the journal when the journal has grown
past one line per stream (at least 1,000), or when anything had to be
repaired, so a write never pays for compaction. A process that stays up for a
long time therefore keeps appending to one journal; that only lengthens its
next open.

The objects of the index (summaries, pending effect records) are handed to
callers as they are, without copying, which is what makes listing 10,000
open cases take milliseconds: callers must treat them as read-only.

A line holds the stream's whole entry, so a write costs one short line
whatever the number of streams. Both files are caches; the stream files are
the truth. Each entry records its stream file's (inode, size, mtime_ns) as the
write left it, and at open any stream file that does not match its entry (the
journal lost or tore its last line, was truncated or deleted, a file is new
or was edited) is read again. A replaced file always has a new inode, so a
missed write cannot look unchanged. Deleting both files rebuilds the index
from every stream file. For the same reason the journal is not fsynced: a
line lost in a power cut only costs re-reading that stream at the next open.
"""

from __future__ import annotations

import gc
import json
import logging
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from .atomic import FILE_MODE, atomic_write
from .errors import StoreCorrupt
from .records import EffectRecord, Summary, check_id, dumps, is_open, shared
from .streams import Fingerprint, StreamState, read_stream, stream_file, stream_of

SNAPSHOT = "index.snapshot.jsonl"
JOURNAL = "index.jsonl"
COMPACT_AFTER = 1000  # journal lines, or one per stream if there are more streams

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Entry:
    """One stream as the index knows it. Its objects are handed out as they are: read-only."""

    summary: Summary
    keys: tuple[str, ...]
    pending: tuple[EffectRecord, ...]
    stat: Fingerprint

    @property
    def version(self) -> int:
        return self.summary.version

    @classmethod
    def of(cls, state: StreamState, stat: Fingerprint) -> Entry:
        pending = tuple(e for e in state.effects if e.status == "pending")
        summary = Summary(state.stream, state.version, shared(state.summary))
        return cls(summary, tuple(state.keys), pending, stat)

    def line(self) -> bytes:
        fields = {
            "stream": self.summary.stream,
            "version": self.version,
            "summary": self.summary.summary,
            "keys": self.keys,
            "pending": [e.to_json() for e in self.pending],
            "stat": self.stat,
        }
        return (dumps(fields) + "\n").encode()


class Index:
    """Every stream's entry, plus lookups by key, by pending effect and of the open cases."""

    def __init__(self, root: Path, entries: dict[str, Entry]) -> None:
        self._root = root
        self._entries = entries
        self._owners = {key: stream for stream, e in entries.items() for key in e.keys}
        self._pending = {stream for stream, e in entries.items() if e.pending}
        self._open = {stream for stream, e in entries.items() if is_open(e.summary)}
        self._journal: int | None = None

    @classmethod
    def load(cls, root: Path, streams: Path, *, readonly: bool = False) -> Index:
        """Snapshot, then journal, then re-read whatever stream files they do not match; with
        ``readonly``, change no file (nothing to list if the store was never made).

        Raises ``StoreCorrupt`` if a stream file that must be re-read is
        corrupt, or if a stream the index knows has lost its file.
        """
        if readonly and not streams.is_dir():
            return cls(root, {})
        entries: dict[str, Entry] = {}
        collecting = gc.isenabled()
        gc.disable()  # tens of thousands of small objects that all live on: collecting them is waste
        try:
            _, snapshot_defects = _replay(root / SNAPSHOT, entries)
            journal_lines, journal_defects = _replay(root / JOURNAL, entries, torn_ok=readonly)
        finally:
            if collecting:
                gc.enable()
        reread = _reconcile(streams, entries)
        index = cls(root, entries)
        if readonly:
            return index
        grown = journal_lines > max(COMPACT_AFTER, len(entries))
        if snapshot_defects or journal_defects or reread or grown:
            index._compact()
        index._journal = os.open(root / JOURNAL, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)
        return index

    def close(self) -> None:
        if self._journal is not None:
            os.close(self._journal)
            self._journal = None

    def get(self, stream: str) -> Entry | None:
        return self._entries.get(stream)

    def owner(self, key: str) -> str | None:
        return self._owners.get(key)

    def summaries(self) -> list[Summary]:
        return [entry.summary for entry in self._entries.values()]

    def open_summaries(self) -> list[Summary]:
        """The open cases' (a fifth of the cases, typically: not a scan of them all)."""
        return [self._entries[stream].summary for stream in self._open]

    def pending(self) -> Iterator[tuple[str, EffectRecord]]:
        for stream in self._pending:
            for record in self._entries[stream].pending:
                yield stream, record

    def put(self, stream: str, entry: Entry, *, journal: bool = True) -> None:
        """Record a write whose stream file is in place, or with ``journal=False`` one that is
        staged: the caller reports it to ``placed`` once its file is in place."""
        self._entries[stream] = entry
        for key in entry.keys:
            self._owners[key] = stream
        if entry.pending:
            self._pending.add(stream)
        else:
            self._pending.discard(stream)
        if is_open(entry.summary):
            self._open.add(stream)
        else:
            self._open.discard(stream)
        if journal:
            self._append(entry.line())

    def placed(self, stats: Mapping[str, Fingerprint]) -> None:
        """Staged files are now in place with these fingerprints: record them and journal the
        entries, in one write."""
        for stream, stat in stats.items():
            self._entries[stream] = replace(self._entries[stream], stat=stat)
        self._append(b"".join(self._entries[stream].line() for stream in stats))

    def erase(self, stream: str, entry: Entry) -> None:
        """Replace a stream's entry with no trace of the old one: its keys are forgotten and the
        index files are rewritten at once, so no old journal line keeps what was erased."""
        old = self._entries.get(stream)
        for key in old.keys if old else ():
            self._owners.pop(key, None)
        self._entries[stream] = entry
        self._pending.discard(stream)
        self._open.discard(stream)
        self._compact()

    def _append(self, line: bytes) -> None:
        if self._journal is None:
            raise RuntimeError("the index is closed")
        try:
            view = memoryview(line)
            while view:
                view = view[os.write(self._journal, view) :]
        except OSError as exc:
            # The write itself succeeded; a missing line only means a re-read at the next open.
            log.error("could not append to %s (%s); the next open will re-read", JOURNAL, exc)

    def _compact(self) -> None:
        atomic_write(self._root / SNAPSHOT, b"".join(e.line() for e in self._entries.values()))
        atomic_write(self._root / JOURNAL, b"")


def _replay(path: Path, entries: dict[str, Entry], *, torn_ok: bool = False) -> tuple[int, int]:
    """Apply each line of an index file, later lines winning; return (lines, defects). With
    ``torn_ok`` a last line without its newline is one being written: no defect, no warning."""
    lines = defects = 0
    try:
        with path.open("rb") as file:
            for lines, raw in enumerate(file, 1):
                whole = raw.endswith(b"\n")
                if torn_ok and not whole:
                    break  # the writer is appending it now: the stream file is read instead
                parsed = _parse_line(raw) if whole else None
                if parsed is None:
                    defects += 1
                    log.warning(
                        "%s line %d is not a whole index entry; the stream files will be read instead",
                        path,
                        lines,
                    )
                else:
                    entries[parsed[0]] = parsed[1]
    except FileNotFoundError:
        pass
    return lines, defects


def _parse_line(raw: bytes) -> tuple[str, Entry] | None:
    try:
        line = json.loads(raw)
        stream = check_id(line["stream"])
        version, summary, keys, stat = line["version"], line["summary"], line["keys"], line["stat"]
        pending = tuple(EffectRecord.from_json(record) for record in line["pending"])
    except (ValueError, TypeError, KeyError):
        return None
    if (
        type(version) is not int
        or not isinstance(summary, dict)
        or not isinstance(keys, list)
        or not all(isinstance(k, str) for k in keys)
        or not isinstance(stat, list)
        or len(stat) != 3
        or not all(type(n) is int for n in stat)
    ):
        return None
    fingerprint = (stat[0], stat[1], stat[2])
    return stream, Entry(Summary(stream, version, shared(summary)), tuple(keys), pending, fingerprint)


def _reconcile(streams: Path, entries: dict[str, Entry]) -> int:
    """Re-read every stream file whose stat its entry does not match; return how many."""
    seen: set[str] = set()
    reread = 0
    with os.scandir(streams) as found:
        for dirent in found:
            stream = stream_of(dirent.name)
            if stream is None:
                continue
            seen.add(stream)
            st = dirent.stat()
            stat = (st.st_ino, st.st_size, st.st_mtime_ns)
            known = entries.get(stream)
            if known is not None and known.stat == stat:
                continue
            state = read_stream(Path(dirent.path), stream)
            if state is None:
                raise StoreCorrupt(path=Path(dirent.path), problem="the file vanished while opening")
            entries[stream] = Entry.of(state, stat)
            reread += 1
    missing = [stream for stream in entries if stream not in seen]
    if missing:
        first = missing[0]
        raise StoreCorrupt(
            path=stream_file(streams, first),
            problem=(
                f"the file is missing, though the index records stream {first} at version "
                f"{entries[first].version} ({len(missing)} stream file(s) missing in all); "
                f"to give them up for lost, delete {JOURNAL} and {SNAPSHOT} next to {streams}"
            ),
        )
    return reread
