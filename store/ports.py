"""What the rest of the assistant needs of a store, whichever store it is.

The service, the CLI and the runner go through `CaseStore`; how a backend keeps it (files and a lock
here, a database for several replicas) stays inside `store/`. Every backend passes the same
contract suite (tests/store/test_contract.py):

- **Streams** (a case's events): `append` adds events at the version the caller decided on, or raises
  `VersionConflict`; the events, the pending effects they cause, the keys they consume and the
  case's summary are written together or not at all. `load` reads a stream whole.
- **Effects** (letters and notices to carry out): `due_effects` lists the pending ones due,
  earliest first; `complete_effect` marks one done with what followed from it, once (again is a
  no-op); `fail_effect` counts an attempt and sets when to try again.
- **Keys**: a de-duplication key is consumed by one write in the whole store (`DuplicateKey`).
- **Cursors**: small named positions, each replaced whole; `first_cursor` sets one only if it has
  none, and gives what it holds.
- **Moving between stores**: `export` gives a stream whole (its effects' progress and its keys too)
  and `restore` writes one into a store that has none of its name; `cursors` lists them all.
- **The index**: every stream's summary and version, without reading the streams.
- **Queries**: `open_cases` lists the open cases with their next date, soonest first, and
  `summaries(open_only=True)` their whole summaries, without a scan of the closed ones where the
  backend can.
- **Replicas** (`shared`: several processes may write the store at once): `feed()` is a change feed
  of every writer's writes, `wait_changes` waits for another process's; `lead()` says whether this
  process is the one that reads the mailbox and runs the sweep and the outbox (one at a time, and
  another takes over when it dies); `claim_effects` hands out due effects that no other process
  holds; `exclusive(name)` keeps one process at a time in a named section; `check()` raises
  `StoreError` unless the store can serve (reachable, schema current).
- `batch()` groups a burst of writes into one commit, `erase` destroys a record, leaving a
  tombstone, and `readonly` says whether this handle may write (commands that only read open the
  store beside the running service).

Errors are those of `store.errors`, for every backend.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

from .records import EffectRecord, OpenCase, StoredStream, StreamRecord, Summary
from .store import Store


class CaseStore(Protocol):
    @property
    def readonly(self) -> bool: ...

    def close(self) -> None: ...

    def __enter__(self) -> CaseStore: ...

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None: ...

    def batch(self) -> AbstractContextManager[None]: ...

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
    ) -> int: ...

    def load(self, stream: str) -> StreamRecord: ...

    def exists(self, stream: str) -> bool: ...

    def summaries(self, *, open_only: bool = False) -> list[Summary]: ...

    def summary(self, stream: str) -> Summary | None: ...

    def open_cases(self) -> list[OpenCase]: ...

    def has_key(self, key: str) -> bool: ...

    def stream_for_key(self, key: str) -> str | None: ...

    def due_effects(self, now: datetime) -> list[tuple[str, EffectRecord]]: ...

    def claim_effects(self, now: datetime, *, lease: timedelta) -> list[tuple[str, EffectRecord]]: ...

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
    ) -> int: ...

    def fail_effect(
        self, stream: str, key: str, *, error: str, retry_at: datetime, now: datetime
    ) -> None: ...

    def erase(
        self, stream: str, tombstone: Mapping[str, Any], *, summary: Mapping[str, Any], now: datetime
    ) -> int: ...

    def export(self, stream: str) -> StoredStream: ...

    def restore(self, stored: StoredStream) -> None: ...

    def cursors(self) -> dict[str, dict[str, Any]]: ...

    def get_cursor(self, name: str) -> dict[str, Any] | None: ...

    def set_cursor(self, name: str, value: Mapping[str, Any]) -> None: ...

    def first_cursor(self, name: str, value: Mapping[str, Any]) -> dict[str, Any]: ...

    @property
    def shared(self) -> bool: ...

    def check(self) -> None: ...

    def feed(self) -> Callable[[], set[str]]: ...

    def lead(self) -> bool: ...

    def wait_changes(self, seconds: float) -> bool: ...

    def exclusive(self, name: str) -> AbstractContextManager[None]: ...


def open_store(location: Path | str, *, readonly: bool = False) -> CaseStore:
    """The store at `location`: a PostgreSQL database for a ``postgresql://`` connection string,
    else the file store in that directory. With `readonly`, a reader beside the process that
    writes it."""
    if str(location).startswith(("postgresql://", "postgres://")):
        from .postgres import PostgresStore  # psycopg only when a database is used

        return PostgresStore.open(str(location), readonly=readonly)
    return Store.open(Path(location), readonly=readonly)
