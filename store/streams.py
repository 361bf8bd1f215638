"""One stream, one TinyDB file, replaced whole on every write.

Why one file per stream: TinyDB rewrites its whole file on every write, so one
file for every case would make each write cost grow with the number of cases
(measured in TESTING.md). Why a custom storage: TinyDB's JSONStorage rewrites
in place, and a process killed mid-write leaves a torn file, while
``AtomicJSONStorage`` replaces the file whole through ``atomic_write``. Why a
write cache: one append changes three tables and must land as one write, so
the changes collect in TinyDB's ``CachingMiddleware`` and reach the storage in
a single flush at ``StreamWrite.commit()``. A staged write (``Store.batch``)
only encodes the file: the store writes it later, for a whole batch at once.

The file is TinyDB's own JSON, with events numbered 1..N::

    {"meta":    {"1": {"format": 1, "stream": ID, "version": N, "keys": [...], "summary": {...}}},
     "events":  {"1": {...}, ..., "N": {...}},
     "effects": {"1": {"key": ..., "status": "pending", ...}, ...}}

Reading checks all of that and raises ``StoreCorrupt`` naming the file and the
first problem found; nothing here ever repairs or resets a file.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tinydb import Storage, TinyDB
from tinydb.middlewares import CachingMiddleware
from tinydb.table import Document

from .atomic import atomic_write
from .errors import StoreCorrupt
from .records import ID_PATTERN, EffectRecord, StreamRecord, dumps

FORMAT = 1
TABLES = frozenset({"meta", "events", "effects"})
META_FIELDS = frozenset({"format", "stream", "version", "keys", "summary"})

Tables = dict[str, dict[str, Any]]
Fingerprint = tuple[int, int, int]  # st_ino, st_size, st_mtime_ns of a stream file


class AtomicJSONStorage(Storage):
    """A TinyDB storage that writes through ``atomic_write`` and reads strictly.

    ``source`` holds the file's newest bytes when they are not on disk yet (staged); with
    ``stage``, a write only encodes, leaving the bytes in ``staged`` for the store to write.
    """

    def __init__(
        self, path: Path, *, durable: bool = True, source: bytes | None = None, stage: bool = False
    ) -> None:
        self.path = path
        self.source = source
        self.staged: bytes | None = None
        self._durable = durable
        self._stage = stage
        self._absent = False

    def read(self) -> Tables | None:
        raw = self.source
        if raw is None:
            if self._absent:  # TinyDB asks again before each change until it has written: once will do
                return None
            try:
                raw = self.path.read_bytes()
            except FileNotFoundError:
                self._absent = True
                return None
        try:
            data = json.loads(raw, parse_constant=_refuse_constant)
        except ValueError as exc:  # includes JSONDecodeError and UnicodeDecodeError
            raise StoreCorrupt(path=self.path, problem=f"not valid JSON ({exc})") from None
        _check_tables(self.path, data)
        return data  # type: ignore[no-any-return]  # shape checked just above

    def write(self, data: Tables) -> None:
        encoded = dumps(data).encode()
        if self._stage:
            self.staged = encoded
        else:
            atomic_write(self.path, encoded, durable=self._durable)


class _WriteOnce(CachingMiddleware):
    """TinyDB's write cache, never flushing on its own: only ``close()`` writes."""

    WRITE_CACHE_SIZE = sys.maxsize


@dataclass(slots=True)
class StreamState:
    """A stream file's contents, checked, as plain Python values."""

    stream: str
    version: int = 0
    events: list[dict[str, Any]] = field(default_factory=list)
    effects: list[EffectRecord] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)

    def record(self) -> StreamRecord:
        return StreamRecord(self.stream, self.version, self.events, self.effects, self.summary)

    def effect_position(self, key: str) -> int | None:
        for position, record in enumerate(self.effects):
            if record.key == key:
                return position
        return None


class StreamWrite:
    """One change to one stream file: read it once, change its tables, write them at once.

    Nothing reaches the disk before ``commit()``; dropping the object abandons
    the change, which is how a refused write leaves the file untouched. ``source``
    and ``stage`` are the storage's (a write within ``Store.batch``).
    """

    def __init__(
        self,
        path: Path,
        stream: str,
        *,
        durable: bool = True,
        source: bytes | None = None,
        stage: bool = False,
    ) -> None:
        self.path = path
        self._storage = AtomicJSONStorage(path, durable=durable, source=source, stage=stage)
        cache = _WriteOnce(lambda: self._storage)  # type: ignore[no-untyped-call]  # unannotated in TinyDB
        self._db = TinyDB(storage=cache)
        tables = self._db.storage.read()
        self.existed = tables is not None
        self.state = StreamState(stream) if tables is None else parse_stream(path, stream, tables)

    def clear(self) -> None:
        """Forget every event, effect and key of the stream (the file is replaced at commit)."""
        self._db.drop_tables()
        self.state = StreamState(self.state.stream)
        self.existed = False

    def add_events(self, events: list[dict[str, Any]]) -> None:
        if events:
            self._db.table("events").insert_multiple(events)
            self.state.events.extend(events)
            self.state.version += len(events)

    def add_effects(self, records: list[EffectRecord]) -> None:
        if records:
            self._db.table("effects").insert_multiple([r.to_json() for r in records])
            self.state.effects.extend(records)

    def replace_effect(self, record: EffectRecord) -> None:
        position = self.state.effect_position(record.key)
        if position is None:
            raise KeyError(record.key)
        self._db.table("effects").update(record.to_json(), doc_ids=[position + 1])
        self.state.effects[position] = record

    @property
    def staged(self) -> bytes | None:
        """The file a staged commit encoded (None before it, or when not staging)."""
        return self._storage.staged

    def commit(self) -> Fingerprint | None:
        """Write meta from the state, flush every table in one storage write; returns the
        fingerprint of the file written (None when staged: nothing is written yet)."""
        state = self.state
        meta = {
            "format": FORMAT,
            "stream": state.stream,
            "version": state.version,
            "keys": state.keys,
            "summary": state.summary,
        }
        table = self._db.table("meta")
        if self.existed:
            table.update(meta, doc_ids=[1])
        else:
            table.insert(Document(meta, doc_id=1))
        self._db.close()
        return None if self.staged is not None else fingerprint(self.path)


def stream_file(directory: Path, stream: str) -> Path:
    return directory / f"{stream}.json"


def stream_of(file_name: str) -> str | None:
    """The stream id a file name in the streams directory stands for, if any."""
    stream = file_name.removesuffix(".json")
    if stream == file_name or ID_PATTERN.fullmatch(stream) is None:
        return None
    return stream


def fingerprint(path: Path) -> Fingerprint:
    """What changes whenever a stream file is replaced (a replacement is a new inode)."""
    st = os.stat(path)
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def read_stream(path: Path, stream: str, source: bytes | None = None) -> StreamState | None:
    """The checked contents of a stream file (or of its newest ``source`` bytes), or None if there
    is no file."""
    tables = AtomicJSONStorage(path, source=source).read()
    return None if tables is None else parse_stream(path, stream, tables)


def parse_stream(path: Path, stream: str, tables: Tables) -> StreamState:
    """Check a stream file's tables; ``StoreCorrupt`` names the file and the problem."""
    try:
        return _parse(stream, tables)
    except ValueError as exc:
        raise StoreCorrupt(path=path, problem=str(exc)) from None


def _parse(stream: str, tables: Tables) -> StreamState:
    unknown = sorted(set(tables) - TABLES)
    if unknown:
        raise ValueError(f"unexpected tables {unknown}")
    metas = _documents(tables, "meta")
    if len(metas) != 1 or set(metas[0]) != META_FIELDS:
        raise ValueError(f"table 'meta' must hold one document with fields {sorted(META_FIELDS)}")
    meta = metas[0]
    if meta["format"] != FORMAT:
        raise ValueError(f"format {meta['format']!r} is not {FORMAT}")
    if meta["stream"] != stream:
        raise ValueError(f"the file says it holds stream {meta['stream']!r}, not {stream!r}")
    version, keys, summary = meta["version"], meta["keys"], meta["summary"]
    if not isinstance(keys, list) or not all(isinstance(k, str) and k for k in keys):
        raise ValueError("meta 'keys' must be a list of non-empty strings")
    if not isinstance(summary, dict):
        raise ValueError("meta 'summary' must be an object")
    events = _documents(tables, "events")
    if type(version) is not int or version != len(events):
        raise ValueError(f"meta says version {version!r} but the file holds {len(events)} events")
    effects = [EffectRecord.from_json(raw) for raw in _documents(tables, "effects")]
    if len({e.key for e in effects}) != len(effects):
        raise ValueError("two effects share a key")
    return StreamState(stream, version, events, effects, keys, summary)


def _documents(tables: Tables, name: str) -> list[dict[str, Any]]:
    table = tables.get(name, {})
    if list(table) != [str(n) for n in range(1, len(table) + 1)]:
        raise ValueError(f"table {name!r} must number its documents 1..{len(table)} in order")
    return list(table.values())


def _check_tables(path: Path, data: Any) -> None:
    """The shape TinyDB itself relies on: tables of documents keyed by integer ids."""
    if not isinstance(data, dict):
        raise StoreCorrupt(path=path, problem="the top level must be an object of tables")
    for name, table in data.items():
        if not isinstance(table, dict):
            raise StoreCorrupt(path=path, problem=f"table {name!r} must be an object")
        for doc_id, doc in table.items():
            if not (doc_id.isdigit() and doc_id.isascii() and str(int(doc_id)) == doc_id):
                raise StoreCorrupt(path=path, problem=f"table {name!r} has document id {doc_id!r}")
            if not isinstance(doc, dict):
                raise StoreCorrupt(path=path, problem=f"document {name}/{doc_id} must be an object")


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")
