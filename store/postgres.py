"""The store in PostgreSQL (`[store] kind = "postgresql"`), for several replicas of the assistant.

The same `store.ports.CaseStore` as the file store, and the same contract suite:

- a stream's events are rows numbered by version under a primary key, so two writers at one
  version cannot both succeed: `append` locks the stream's row (`FOR UPDATE`), compares the
  version the caller decided on, and writes events, effects, keys and summary in one transaction;
- effects are rows with their status and next attempt, found by a partial index on the pending
  ones; keys and cursors are tables of their own;
- `batch()` is one transaction on this thread's connection: its writes are seen at once by this
  thread and by nobody else until it commits, and a crash before then loses all of them;
- documents are `json`, not `jsonb`: kept as written, their keys in their order, so a case reads
  back exactly as the file store keeps it (`show --json` is the same after a copy);
- several processes (replicas) write it at once; what must happen once is theirs to share:
  - `lead()`: one of them leads (reads the mailbox, runs the sweep and the outbox) while its session
    holds an advisory lock; the session keeps TCP keepalives short, so the lock of a replica that
    vanished is released within seconds, and another takes it on its next try;
  - `claim_effects`: due effects are claimed (`FOR UPDATE SKIP LOCKED`) by the leading session,
    for a lease: nobody else runs them while that session lives and the lease lasts, and a leader
    killed mid-pass leaves nothing held (its session's end voids its claims);
  - `exclusive(name)`: a section one process at a time (a case's chat thread), by advisory lock;
  - `feed()`: every write stamps its stream with its transaction id and notifies `CHANNEL` at
    commit; a feed asks for the streams stamped since the oldest transaction still running at its
    previous call, so it misses nothing a notification missed (`wait_changes` only wakes it early);
- the schema is versioned (`jointly_schema`): migrated in order at the first open by a writer, and
  a database whose schema is newer than this code is refused rather than written.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

import psycopg
from psycopg.conninfo import make_conninfo
from psycopg.rows import RowFactory, dict_row, tuple_row
from psycopg.types.json import Json
from psycopg_pool import ConnectionPool, PoolTimeout

from .errors import (
    DuplicateKey,
    StoreError,
    StoreReadOnly,
    StoreUnavailable,
    UnknownEffect,
    UnknownStream,
    VersionConflict,
)
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
)

log = logging.getLogger(__name__)
CONNECT_SECONDS = 10.0  # for a connection from the pool, the first included
CHECK_SECONDS = 2.0  # a readiness check answers within this, reachable or not
CHANNEL = "jointly_changes"
TRY_LEAD = "SELECT pg_try_advisory_lock(hashtext('jointly_leader'))"
# The leading session's keepalives, on both ends: a leader whose machine vanished loses its lock
# within about 5 + 3 x 2 = 11 seconds, and a replica trying every few seconds takes over.
KEEPALIVES = {"keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2, "keepalives_count": 3}
SERVER_KEEPALIVES = "-c tcp_keepalives_idle=5 -c tcp_keepalives_interval=2 -c tcp_keepalives_count=3"
MIGRATIONS = (
    """
CREATE TABLE IF NOT EXISTS jointly_schema (version integer NOT NULL);
CREATE TABLE IF NOT EXISTS streams (
    stream text PRIMARY KEY,
    version integer NOT NULL,
    summary json NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS events (
    stream text NOT NULL REFERENCES streams ON DELETE CASCADE,
    version integer NOT NULL,
    body json NOT NULL,
    PRIMARY KEY (stream, version)
);
CREATE TABLE IF NOT EXISTS effects (
    stream text NOT NULL REFERENCES streams ON DELETE CASCADE,
    key text NOT NULL,
    position bigserial,
    effect json NOT NULL,
    status text NOT NULL,
    attempts integer NOT NULL,
    next_attempt_at timestamptz NOT NULL,
    last_error text,
    created_at timestamptz NOT NULL,
    done_at timestamptz,
    PRIMARY KEY (stream, key)
);
CREATE INDEX IF NOT EXISTS effects_due ON effects (next_attempt_at, created_at) WHERE status = 'pending';
CREATE TABLE IF NOT EXISTS keys (
    key text PRIMARY KEY,
    stream text NOT NULL REFERENCES streams ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS cursors (name text PRIMARY KEY, value json NOT NULL);
""",
    # 2: several replicas: a change feed, the open cases by index, effects claimed for a lease
    """
ALTER TABLE streams ADD COLUMN changed xid8 NOT NULL DEFAULT pg_current_xact_id();
ALTER TABLE streams ADD COLUMN open boolean GENERATED ALWAYS AS ((summary ->> 'open')::boolean) STORED;
ALTER TABLE streams ADD COLUMN next_on text GENERATED ALWAYS AS (summary -> 'next_deadline' ->> 'on') STORED;
CREATE INDEX streams_changed ON streams (changed);
CREATE INDEX streams_open ON streams (next_on, stream) INCLUDE (version) WHERE open;
ALTER TABLE effects ADD COLUMN claimed_until timestamptz;
ALTER TABLE effects ADD COLUMN claimed_by integer;
""",
)
SCHEMA_VERSION = len(MIGRATIONS)
EFFECT_COLUMNS = "key, effect, status, attempts, next_attempt_at, last_error, created_at, done_at"


class PostgresStore:
    """A handle on one database; get one with `PostgresStore.open(url)`."""

    shared = True

    def __init__(self, pool: ConnectionPool[Any], url: str, readonly: bool) -> None:
        self._pool = pool
        self._url = url
        self._where = url.rsplit("@", 1)[-1]  # no password in messages
        self._readonly = readonly
        self._id = uuid.uuid4().hex  # this handle's name in the notifications of its writes
        self._local = threading.local()  # the connection of this thread's batch, if any
        # two sessions of its own, each used by one thread at a time (under its lock)
        self._leader: psycopg.Connection[Any] | None = None  # tries for, or holds, the lead
        self._leading = False
        self._leader_lock = threading.Lock()
        self._listener: psycopg.Connection[Any] | None = None  # listening on CHANNEL
        self._listener_lock = threading.Lock()

    @classmethod
    def open(cls, url: str, *, readonly: bool = False) -> PostgresStore:
        """Connect, and migrate the schema (a writer); `StoreError` for a newer schema."""
        where = url.rsplit("@", 1)[-1]
        pool: ConnectionPool[Any] = ConnectionPool(
            url,
            min_size=1,
            max_size=8,
            kwargs={"options": "-c timezone=UTC"},
            timeout=CONNECT_SECONDS,
            check=ConnectionPool.check_connection,  # none lost while the server restarted is handed out
            open=True,
        )
        try:
            with pool.connection() as connection:
                _migrate(connection, readonly, where)
        except (psycopg.OperationalError, PoolTimeout) as error:
            pool.close()
            raise StoreUnavailable(where=where, reason=str(error)) from None
        except BaseException:
            pool.close()
            raise
        return cls(pool, url, readonly)

    @property
    def readonly(self) -> bool:
        return self._readonly

    def close(self) -> None:
        self._pool.close()
        with self._leader_lock:
            if self._leader is not None:
                self._leader.close()  # the lead goes with its session
            self._leader, self._leading = None, False
        with self._listener_lock:
            if self._listener is not None:
                self._listener.close()
            self._listener = None

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    @contextmanager
    def batch(self) -> Iterator[None]:
        """This thread's writes in one transaction, committed when the block ends (nested: the
        outer block commits). An exception within still commits what was written, as the file
        store keeps a batch's writes; a crash loses them all. The other replicas are told once."""
        if getattr(self._local, "connection", None) is not None:
            yield
            return
        raised: BaseException | None = None
        with self._unreachable(), self._pool.connection() as connection, connection.transaction():
            self._local.connection = connection
            self._local.changed = False
            try:
                yield
            except BaseException as error:  # committed all the same, then raised
                raised = error
            finally:
                self._local.connection = None
                if self._local.changed:
                    _notify(connection, self._id)
        if raised is not None:
            raise raised

    # --- writes -------------------------------------------------------------------------------

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
        change = Change.checked(
            stream, events, effects, keys, summary, now, expected_version=expected_version
        )
        with self._writing() as cursor:
            if expected_version == 0:
                cursor.execute(
                    "INSERT INTO streams (stream, version) VALUES (%s, 0) ON CONFLICT DO NOTHING", (stream,)
                )
            actual = _locked_version(cursor, stream)
            if actual != expected_version:
                raise VersionConflict(stream=stream, expected=expected_version, actual=actual or 0)
            return _add(cursor, stream, expected_version, change)

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
        change = Change.checked(stream, events, effects, keys, summary, now)
        with self._writing() as cursor:
            version = _known_version(cursor, stream)
            status = _effect_status(cursor, stream, key)
            if status == "done":
                return version
            if expected_version is not None and version != expected_version:
                raise VersionConflict(stream=stream, expected=expected_version, actual=version)
            cursor.execute(
                "UPDATE effects SET status = 'done', done_at = %s, claimed_until = NULL"
                " WHERE stream = %s AND key = %s",
                (now, stream, key),
            )
            return _add(cursor, stream, version, change)

    def fail_effect(self, stream: str, key: str, *, error: str, retry_at: datetime, now: datetime) -> None:
        check_id(stream)
        require_aware(now, "now")
        require_aware(retry_at, "retry_at")
        if not isinstance(error, str):
            raise ValueError(f"error must be a string, got {error!r}")
        with self._writing(changes=False) as cursor:
            _known_version(cursor, stream)
            if _effect_status(cursor, stream, key) == "done":
                raise ValueError(f"effect {key!r} of stream {stream} is done; it cannot fail")
            cursor.execute(
                "UPDATE effects SET attempts = attempts + 1, last_error = %s, next_attempt_at = %s,"
                " claimed_until = NULL WHERE stream = %s AND key = %s",
                (error, retry_at, stream, key),
            )

    def erase(
        self, stream: str, tombstone: Mapping[str, Any], *, summary: Mapping[str, Any], now: datetime
    ) -> int:
        check_id(stream)
        require_aware(now, "now")
        [event] = check_events([tombstone])
        new_summary = check_summary(summary) or {}
        with self._writing() as cursor:
            _known_version(cursor, stream)
            for table in ("events", "effects", "keys"):
                cursor.execute(f"DELETE FROM {table} WHERE stream = %s", (stream,))  # noqa: S608 (table names are ours)
            cursor.execute(
                "INSERT INTO events (stream, version, body) VALUES (%s, 1, %s)", (stream, Json(event))
            )
            cursor.execute(
                "UPDATE streams SET version = 1, summary = %s, changed = pg_current_xact_id()"
                " WHERE stream = %s",
                (Json(new_summary), stream),
            )
            return 1

    def restore(self, stored: StoredStream) -> None:
        """Write a stream another store exported, as it was, where there is none of its name."""
        record = stored.record
        check_id(record.stream)
        keys = [check_key(key) for key in stored.keys]
        with self._writing() as cursor:
            cursor.execute(
                "INSERT INTO streams (stream, version) VALUES (%s, 0)"
                " ON CONFLICT DO NOTHING RETURNING stream",
                (record.stream,),
            )
            if cursor.fetchone() is None:
                raise ValueError(f"stream {record.stream} exists already: restore writes only new ones")
            _add(
                cursor,
                record.stream,
                0,
                Change(check_events(record.events), list(record.effects), keys, None),
            )
            cursor.execute(
                "UPDATE streams SET summary = %s WHERE stream = %s",
                (Json(dict(record.summary)), record.stream),
            )

    def set_cursor(self, name: str, value: Mapping[str, Any]) -> None:
        with self._writing(changes=False) as cursor:
            cursor.execute(
                "INSERT INTO cursors (name, value) VALUES (%s, %s)"
                " ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value",
                (name, Json(dict(value))),
            )

    def first_cursor(self, name: str, value: Mapping[str, Any]) -> dict[str, Any]:
        """The cursor `name`, set to `value` first if it has none (of replicas setting it at once,
        one sets it and all get its value)."""
        with self._writing(changes=False) as cursor:
            cursor.execute(
                "INSERT INTO cursors (name, value) VALUES (%s, %s) ON CONFLICT (name) DO NOTHING",
                (name, Json(dict(value))),
            )
            cursor.execute("SELECT value FROM cursors WHERE name = %s", (name,))
            row = cursor.fetchone()
        assert row is not None
        return dict(row["value"])

    # --- reads --------------------------------------------------------------------------------

    def load(self, stream: str) -> StreamRecord:
        check_id(stream)
        with self._reading() as cursor:
            cursor.execute("SELECT version, summary FROM streams WHERE stream = %s", (stream,))
            row = cursor.fetchone()
            if row is None:
                raise UnknownStream(stream=stream)
            cursor.execute("SELECT body FROM events WHERE stream = %s ORDER BY version", (stream,))
            events = [r["body"] for r in cursor.fetchall()]
            cursor.execute(
                f"SELECT {EFFECT_COLUMNS} FROM effects WHERE stream = %s ORDER BY position",  # noqa: S608
                (stream,),
            )
            effects = [EffectRecord(**r) for r in cursor.fetchall()]
        return StreamRecord(stream, row["version"], events, effects, row["summary"])

    def exists(self, stream: str) -> bool:
        check_id(stream)
        return self.summary(stream) is not None

    def summaries(self, *, open_only: bool = False) -> list[Summary]:
        with self._reading() as cursor:
            cursor.execute(
                "SELECT stream, version, summary FROM streams"
                + (" WHERE open AND stream LIKE 'JC-%'" if open_only else " WHERE version > 0")
            )
            return [Summary(r["stream"], r["version"], r["summary"]) for r in cursor.fetchall()]

    def summary(self, stream: str) -> Summary | None:
        check_id(stream)
        with self._reading() as cursor:
            cursor.execute(
                "SELECT version, summary FROM streams WHERE stream = %s AND version > 0", (stream,)
            )
            row = cursor.fetchone()
        return Summary(stream, row["version"], row["summary"]) if row else None

    def has_key(self, key: str) -> bool:
        return self.stream_for_key(key) is not None

    def stream_for_key(self, key: str) -> str | None:
        with self._reading() as cursor:
            cursor.execute("SELECT stream FROM keys WHERE key = %s", (key,))
            row = cursor.fetchone()
        return str(row["stream"]) if row else None

    def due_effects(self, now: datetime) -> list[tuple[str, EffectRecord]]:
        require_aware(now, "now")
        with self._reading() as cursor:
            cursor.execute(
                f"SELECT stream, {EFFECT_COLUMNS} FROM effects"  # noqa: S608
                " WHERE status = 'pending' AND next_attempt_at <= %s"
                " ORDER BY next_attempt_at, created_at, position",
                (now,),
            )
            rows = cursor.fetchall()
        return [(r.pop("stream"), EffectRecord(**r)) for r in rows]

    def export(self, stream: str) -> StoredStream:
        record = self.load(stream)
        with self._reading() as cursor:
            cursor.execute("SELECT key FROM keys WHERE stream = %s ORDER BY key", (stream,))
            keys = [str(r["key"]) for r in cursor.fetchall()]
        return StoredStream(record, keys)

    def cursors(self) -> dict[str, dict[str, Any]]:
        with self._reading() as cursor:
            cursor.execute("SELECT name, value FROM cursors ORDER BY name")
            return {str(r["name"]): dict(r["value"]) for r in cursor.fetchall()}

    def get_cursor(self, name: str) -> dict[str, Any] | None:
        with self._reading() as cursor:
            cursor.execute("SELECT value FROM cursors WHERE name = %s", (name,))
            row = cursor.fetchone()
        return dict(row["value"]) if row else None

    def open_cases(self) -> list[OpenCase]:
        """From the index of open cases alone (their summaries are not read)."""
        with self._reading(tuple_row) as cursor:
            cursor.execute(
                "SELECT stream, version, next_on FROM streams WHERE open AND stream LIKE 'JC-%'"
                " ORDER BY next_on NULLS LAST, stream"
            )
            return list(map(OpenCase._make, cursor.fetchall()))

    # --- replicas -----------------------------------------------------------------------------

    def check(self) -> None:
        try:
            with self._pool.connection(timeout=CHECK_SECONDS) as connection:
                row = connection.execute("SELECT max(version) FROM jointly_schema").fetchone()
        except (psycopg.Error, PoolTimeout) as error:
            raise StoreUnavailable(where=self._where, reason=str(error)) from None
        found = row[0] if row else None
        if found != SCHEMA_VERSION:
            raise StoreError(
                f"the database at {self._where} has schema version {found}; "
                f"this assistant needs {SCHEMA_VERSION}"
            )

    def feed(self) -> Callable[[], set[str]]:
        """A change feed of every replica's writes: each call returns the streams written since its
        previous call (a stream may come again: the oldest transaction still running then marks
        where the next call starts)."""
        since = [self._snapshot()[0]]

        def take() -> set[str]:
            oldest, streams = self._snapshot(since[0])
            since[0] = oldest
            return streams

        return take

    def _snapshot(self, since: str | None = None) -> tuple[str, set[str]]:
        with self._reading() as cursor:
            cursor.execute(
                "SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS oldest,"
                " array(SELECT stream FROM streams WHERE changed >= %s::xid8) AS streams",
                (since or "0",),
            )
            row = cursor.fetchone()
        assert row is not None
        return row["oldest"], set(row["streams"] if since else ())

    def wait_changes(self, seconds: float) -> bool:
        """Wait up to `seconds` for another process's write; True when one came (or the listening
        session was lost, when one may have come unheard). The first call starts listening: what
        was written before it is for a feed to find, not for this to announce."""
        with self._listener_lock, self._unreachable():
            listener = self._listening()  # StoreUnavailable when it cannot be made
            try:
                heard = False
                for note in listener.notifies(timeout=seconds):
                    heard = heard or note.payload != self._id
                    if heard:
                        break
                return heard
            except psycopg.Error as error:
                log.warning("stopped hearing of other replicas' writes (%s); listening again", error)
                if self._listener is not None:
                    self._listener.close()
                self._listener = None
                return True

    def _listening(self) -> psycopg.Connection[Any]:
        """The session listening on CHANNEL (with `_listener_lock` held): from its start on, every
        replica's writes are heard."""
        if self._listener is None:
            self._listener = psycopg.connect(self._url, autocommit=True, connect_timeout=int(CONNECT_SECONDS))
            self._listener.execute(f"LISTEN {CHANNEL}")
        return self._listener

    def lead(self) -> bool:
        """Lead, or go on leading: True while this handle's session holds the lead (a writer only).
        A session lost loses the lead, and the lead is tried for again at once on a new one (another
        replica may have it by then); `StoreUnavailable` when the database cannot be reached."""
        if self._readonly:
            return False
        with self._leader_lock:
            if self._leading and self._leader is not None:
                try:
                    self._leader.execute("SELECT 1")  # the session, and its lock, still there
                    return True
                except psycopg.Error as error:
                    log.error("lost the database session that held the lead: %s", error)
                    self._leader.close()
                    self._leader, self._leading = None, False
            try:
                if self._leader is None:
                    conninfo = make_conninfo(self._url, options=SERVER_KEEPALIVES, **KEEPALIVES)
                    self._leader = psycopg.connect(
                        conninfo, autocommit=True, connect_timeout=int(CONNECT_SECONDS)
                    )
                row = self._leader.execute(TRY_LEAD).fetchone()
            except psycopg.Error as error:
                if self._leader is not None:
                    self._leader.close()
                self._leader = None
                raise StoreUnavailable(where=self._where, reason=str(error)) from None
            self._leading = bool(row and row[0])
            return self._leading

    def claim_effects(self, now: datetime, *, lease: timedelta) -> list[tuple[str, EffectRecord]]:
        """The pending effects due at `now` that no other process holds, held for `lease`: each is
        this process's until it is completed, fails, the lease ends, or the session leading when it
        was claimed ends (its process died, or was cut off and another leads)."""
        require_aware(now, "now")
        with self._leader_lock:
            holder = self._leader.info.backend_pid if self._leading and self._leader else None
        with self._writing(changes=False) as cursor:
            cursor.execute(
                f"UPDATE effects AS e SET claimed_until = %(until)s, claimed_by = %(holder)s FROM ("  # noqa: S608
                " SELECT stream, key FROM effects WHERE status = 'pending' AND next_attempt_at <= %(now)s"
                " AND (claimed_until IS NULL OR claimed_until <= %(now)s OR claimed_by IS NOT NULL"
                " AND NOT EXISTS (SELECT FROM pg_stat_activity WHERE pid = claimed_by))"
                " FOR UPDATE SKIP LOCKED) AS due"
                " WHERE e.stream = due.stream AND e.key = due.key"
                f" RETURNING e.stream, e.position, {', '.join('e.' + c for c in EFFECT_COLUMNS.split(', '))}",
                {"now": now, "until": now + lease, "holder": holder},
            )
            rows = cursor.fetchall()
        rows.sort(key=lambda r: (r["next_attempt_at"], r["created_at"], r["position"]))
        for r in rows:
            del r["position"]
        return [(r.pop("stream"), EffectRecord(**r)) for r in rows]

    @contextmanager
    def exclusive(self, name: str) -> Iterator[None]:
        """One process at a time in section `name`: waits for the process in it to leave."""
        key = f"jointly:{name}"
        with self._unreachable(), self._pool.connection() as connection:
            connection.autocommit = True
            connection.execute("SELECT pg_advisory_lock(hashtext(%s))", (key,))
            try:
                yield
            finally:
                with contextlib.suppress(psycopg.Error):  # a session lost took its lock with it
                    connection.execute("SELECT pg_advisory_unlock(hashtext(%s))", (key,))
                    connection.autocommit = False

    # --- connections --------------------------------------------------------------------------

    @contextmanager
    def _writing(self, *, changes: bool = True) -> Iterator[psycopg.Cursor[dict[str, Any]]]:
        """A cursor in a transaction of its own, or in this thread's batch (as a savepoint, so a
        refused write leaves the batch's other writes). A write that `changes` a stream tells the
        other replicas when it commits."""
        if self._readonly:
            raise StoreReadOnly(path=Path(self._where))
        with (
            self._connection() as connection,
            connection.transaction(),
            connection.cursor(row_factory=dict_row) as cursor,
        ):
            yield cursor
            if changes and getattr(self._local, "connection", None) is not None:
                self._local.changed = True  # the batch tells them when it commits
            elif changes:
                _notify(connection, self._id)

    @contextmanager
    def _reading(self, rows: RowFactory[Any] = dict_row) -> Iterator[psycopg.Cursor[Any]]:
        with self._connection() as connection, connection.cursor(row_factory=rows) as cursor:
            yield cursor

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        batch = getattr(self._local, "connection", None)
        if batch is not None:
            with self._unreachable():
                yield batch
            return
        with self._unreachable(), self._pool.connection() as connection:
            yield connection

    @contextmanager
    def _unreachable(self) -> Iterator[None]:
        """A connection lost or not to be had is `StoreUnavailable`: the caller waits it out."""
        try:
            yield
        except (psycopg.OperationalError, PoolTimeout) as error:
            raise StoreUnavailable(where=self._where, reason=str(error)) from error


def _notify(connection: psycopg.Connection[Any], writer: str) -> None:
    """Tell the other replicas, when this transaction commits, that `writer` changed streams."""
    connection.execute("SELECT pg_notify(%s, %s)", (CHANNEL, writer))


def _migrate(connection: psycopg.Connection[Any], readonly: bool, where: str) -> None:
    """Bring the schema to this code's version, each step in order, one process at a time."""
    with connection.transaction():
        connection.execute("SELECT pg_advisory_xact_lock(hashtext('jointly_schema'))")
        exists = connection.execute("SELECT to_regclass('jointly_schema') IS NOT NULL").fetchone()
        found = (
            connection.execute("SELECT max(version) FROM jointly_schema").fetchone()
            if exists and exists[0]
            else None
        )
        version = found[0] if found and found[0] is not None else 0
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"the database at {where} has schema version {version}, newer than this assistant's "
                f"{SCHEMA_VERSION}: upgrade the assistant, or use a database of its version"
            )
        if version < SCHEMA_VERSION and readonly:
            state = f"schema version {version}, older than ours" if version else "no jointly schema yet"
            raise StoreError(f"the database at {where} has {state}: start the service first")
        for step, sql in enumerate(MIGRATIONS[version:], version + 1):
            connection.execute(sql)
            connection.execute("INSERT INTO jointly_schema (version) VALUES (%s)", (step,))


def _locked_version(cursor: psycopg.Cursor[dict[str, Any]], stream: str) -> int | None:
    cursor.execute("SELECT version FROM streams WHERE stream = %s FOR UPDATE", (stream,))
    row = cursor.fetchone()
    return int(row["version"]) if row else None


def _known_version(cursor: psycopg.Cursor[dict[str, Any]], stream: str) -> int:
    version = _locked_version(cursor, stream)
    if not version:
        raise UnknownStream(stream=stream)
    return version


def _effect_status(cursor: psycopg.Cursor[dict[str, Any]], stream: str, key: str) -> str:
    cursor.execute("SELECT status FROM effects WHERE stream = %s AND key = %s", (stream, key))
    row = cursor.fetchone()
    if row is None:
        raise UnknownEffect(stream=stream, key=key)
    return str(row["status"])


def _add(cursor: psycopg.Cursor[dict[str, Any]], stream: str, version: int, change: Change) -> int:
    """A change (events, new effects, consumed keys, the summary) to a stream whose row is locked."""
    events, effects, keys, summary = change.events, change.effects, change.keys, change.summary
    for key in keys:  # a write consuming it meanwhile is waited for: its owner is then known
        cursor.execute(
            "INSERT INTO keys (key, stream) VALUES (%s, %s) ON CONFLICT (key) DO NOTHING RETURNING key",
            (key, stream),
        )
        if cursor.fetchone() is None:
            cursor.execute("SELECT stream FROM keys WHERE key = %s", (key,))
            owner = cursor.fetchone()
            raise DuplicateKey(key=key, stream=owner["stream"] if owner else "another write")
    cursor.execute("SELECT key FROM effects WHERE stream = %s", (stream,))
    taken = {r["key"] for r in cursor.fetchall()}
    for record in effects:
        if record.key in taken:
            raise ValueError(f"stream {stream} already has an effect {record.key!r}")
        taken.add(record.key)
    cursor.executemany(
        "INSERT INTO events (stream, version, body) VALUES (%s, %s, %s)",
        [(stream, version + n, Json(event)) for n, event in enumerate(events, 1)],
    )
    cursor.executemany(
        f"INSERT INTO effects (stream, {EFFECT_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",  # noqa: S608
        [
            (
                stream,
                r.key,
                Json(r.effect),
                r.status,
                r.attempts,
                r.next_attempt_at,
                r.last_error,
                r.created_at,
                r.done_at,
            )
            for r in effects
        ],
    )
    new_version = version + len(events)
    if summary is not None:
        cursor.execute(
            "UPDATE streams SET version = %s, summary = %s, changed = pg_current_xact_id() WHERE stream = %s",
            (new_version, Json(summary), stream),
        )
    else:
        cursor.execute(
            "UPDATE streams SET version = %s, changed = pg_current_xact_id() WHERE stream = %s",
            (new_version, stream),
        )
    return new_version
