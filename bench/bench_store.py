"""Store latency and memory, the file store beside PostgreSQL, at 1k, 10k and 50k cases:
``python -m bench.bench_store``.

Prints one JSON object: under ``results``, per backend (``file``, ``postgresql``) and size, the seed
time, write p50/p95 (an append to an existing case, and a new case), load p50, listing the open
cases with their next date (``open_cases``, the query the targets name; and beside it
``case_rows_open_ms``, the whole summaries of the open cases as `jointly cases` prints them),
listing and claiming the due effects, and the time to open the store;
under ``targets``, per backend, the issue's targets judged on those figures:

- file store: write p50 at 50k cases within 2x of 1k; listing 10k open cases with their next
  deadline under 50 ms; peak RSS with 50k cases under 300 MB;
- PostgreSQL: write p50 at 50k within 1.5x of 1k; listing the open cases at 50k under 20 ms;
  opening the store under 1 s.

RSS and the open time that the targets judge come from a fresh process that opens the seeded store
(imports included) and works with it, so seeding inflates neither.

The file store is seeded by writing stream files through the store's own ``StreamWrite`` without
fsync (then one ``os.sync``); the first ``Store.open`` then builds the index by reading every file,
which is reported as ``rebuild_open_s``. PostgreSQL is one private server for the whole bench
(``tests.servers.postgres``, as the tests start it, but with fsync and full-page writes on and
PostgreSQL's default shared buffers, so a commit costs what it would in service and is comparable
with the file store's fsync), and a new database per size, seeded with the same cases (events, one
key each, summaries) by COPY straight into the schema's tables, since 2 million appends one by one
would take far longer than the measuring; then VACUUM ANALYZE (what autovacuum does after a bulk
load) and a checkpoint, counted in its seed time.
Without PostgreSQL (or psycopg) that backend reports ``skipped`` instead.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.common import peak_rss_mb
from bot.cli import case_rows
from flows import commands as c
from flows.decide import decide
from flows.evolve import fold
from flows.model import Actor, Case, Channel, ConsentMethod, LeadCriterion, OrgRef, Person, Role, Sector
from flows.summary import summarise
from store.ports import CaseStore, open_store
from store.streams import StreamWrite, stream_file

if TYPE_CHECKING:
    from tests.servers.postgres import Postgres

SIZES = (1_000, 10_000, 50_000)
OPEN_CASES = 10_000  # the first 10k cases are open at every size
EVENTS = 40
SAMPLES = 200
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)
TEXT = "The family report that the discharge letter reached the GP nine days late. " * 3
NO_POSTGRES = "PostgreSQL is not installed: apt-get install postgresql"
# Appended to the test cluster's settings (later lines win): durable commits, as in service.
PG_SETTINGS = """
# bench: commits as durable as in service, PostgreSQL's default cache
fsync = on
full_page_writes = on
shared_buffers = 128MB
"""


def case_id(n: int) -> str:
    return f"JC-{n:06d}"


def make_event(n: int, seq: int) -> dict[str, Any]:
    """About 300 bytes, like a typical recorded fact."""
    return {"type": "NoteAdded", "at": NOW.isoformat(), "seq": seq, "by": f"worker-{n % 37}",
            "text": TEXT[: 190 + seq % 20]}


def make_summary(n: int) -> dict[str, Any]:
    """A real summary (`flows.summary.summarise`) of a two-organisation case, open or closed,
    with its dates spread out."""
    shift = timedelta(days=n % 90)
    summary = json.loads(json.dumps(OPEN_TEMPLATE if n < OPEN_CASES else CLOSED_TEMPLATE))
    summary["ref"] = case_id(n)
    deadlines = [*summary["deadlines"], summary["next_deadline"]] if summary["open"] else []
    for deadline in deadlines:
        deadline["on"] = (date.fromisoformat(deadline["on"]) + shift).isoformat()
    return summary


def template_summary(closed: bool) -> dict[str, Any]:
    trust = OrgRef("trust", "Northshire Hospitals NHS Foundation Trust", Sector.HEALTH, "nhs_trust",
                   email="complaints@trust.example")
    council = OrgRef("council", "Northshire County Council", Sector.SOCIAL_CARE, "local_authority",
                     email="complaints@council.example")
    handler = Actor("asha", "trust", frozenset({Role.HANDLER}), "Asha")
    case = Case(ref=case_id(0))
    for command in (
        c.ReceiveComplaint(actor=handler, channel=Channel.PHONE, received_at=NOW, complainant=Person("P"),
                           home_org=trust),
        c.IdentifyOrganisations(actor=handler, orgs=(trust, council)),
        c.RecordConsent(actor=handler, org_ids=("council",), method=ConsentMethod.PHONE,
                        given_on=NOW.date(), capacity_confirmed=True),
        c.RecordComplainantView(actor=handler, view="No preference given"),
        c.ProposeLead(actor=handler, org_id="trust", criteria=(LeadCriterion.GREATEST_RESPONSIBILITY,)),
        c.RespondToLead(actor=handler, org_id="council", agrees=True),
        c.SetNamedContact(actor=handler, name="Asha", email="asha@trust.example"),
        c.AddStrand(actor=handler, org_id="council", matters="Care package", target=date(2026, 12, 15)),
    ):
        case = fold(case, decide(case, command, NOW).events)
    if closed:
        withdraw = c.WithdrawComplaint(actor=handler, note="resolved")
        case = fold(case, decide(case, withdraw, NOW).events)
    return summarise(case)


OPEN_TEMPLATE = template_summary(closed=False)
CLOSED_TEMPLATE = template_summary(closed=True)


# --- the file store -----------------------------------------------------------------------------

def seed(root: Path, count: int) -> float:
    started = time.perf_counter()
    streams = root / "streams"
    streams.mkdir(parents=True)
    for n in range(count):
        stream = case_id(n)
        write = StreamWrite(stream_file(streams, stream), stream, durable=False)
        write.add_events([make_event(n, seq) for seq in range(EVENTS)])
        write.state.keys.append(f"<{n}.1@nhs.example>")
        write.state.summary = make_summary(n)
        write.commit()
    os.sync()
    return time.perf_counter() - started


def measure_file(count: int, rng: random.Random) -> dict[str, Any]:
    """Seed a directory, open it once to build the index, then measure a second open and the work."""
    root = Path(tempfile.mkdtemp(prefix="jointly-bench-store-", dir="/tmp"))
    try:
        result: dict[str, Any] = {"cases": count, "seed_s": round(seed(root, count), 2)}
        started = time.perf_counter()
        open_store(root).close()
        result["rebuild_open_s"] = round(time.perf_counter() - started, 3)
        result |= measure(root, count, rng)
        result["fresh_process"] = fresh_process(root)
        return result
    finally:
        shutil.rmtree(root)


# --- PostgreSQL ---------------------------------------------------------------------------------

class Unavailable(Exception):
    """PostgreSQL cannot be run here; the message says how to get it."""


@contextmanager
def postgres_server() -> Iterator[Postgres]:
    """One private server for the whole bench, as `tests.servers.postgres` starts it for a test
    session, with `PG_SETTINGS` added; stopped and removed at the end."""
    try:
        import psycopg  # noqa: F401 (the store's own dependency: a clear skip without it)

        from tests.servers.postgres import NoPostgres, private_postgres
    except ImportError as error:
        raise Unavailable(f"{error}: .venv/bin/pip install -e '.[dev]'") from None
    try:
        with private_postgres(PG_SETTINGS, prefix="jointly-bench-pg-") as server:
            yield server
    except NoPostgres as error:
        raise Unavailable(str(error)) from None


@contextmanager
def database(server: Postgres, name: str) -> Iterator[str]:
    """A new, empty database on `server` (its connection string), dropped afterwards, as the
    `postgres_url` fixture makes one per test."""
    import psycopg

    with psycopg.connect(server.url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        yield server.url_of(name)
    finally:
        with psycopg.connect(server.url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@cache
def event_json(worker: int, seq: int) -> str:
    """`make_event` as `append` would store it (psycopg's `Json` is `json.dumps`); it depends
    only on the worker and the sequence, so 40 x 37 texts serve 2 million rows."""
    return json.dumps(make_event(worker, seq))


def copy_rows(cursor: Any, table: str, rows: Iterable[tuple[Any, ...]]) -> None:
    with cursor.copy(f"COPY {table} FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def seed_postgres(url: str, count: int) -> float:
    """The file seeding's cases, by COPY into the tables of the schema that a first `open_store`
    creates; foreign keys are not checked row by row (the rows are consistent by construction)."""
    import psycopg

    started = time.perf_counter()
    open_store(url).close()
    with psycopg.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        copy_rows(cursor, "streams (stream, version, summary)",
                  ((case_id(n), EVENTS, json.dumps(make_summary(n))) for n in range(count)))
        copy_rows(cursor, "events (stream, version, body)",
                  ((case_id(n), seq + 1, event_json(n % 37, seq))
                   for n in range(count) for seq in range(EVENTS)))
        copy_rows(cursor, "keys (key, stream)", ((f"<{n}.1@nhs.example>", case_id(n)) for n in range(count)))
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")  # as autovacuum does after a bulk load: index-only scans
        connection.execute("CHECKPOINT")  # the seeding's writes on disk, as the file seeding's os.sync
    return time.perf_counter() - started


def measure_postgres(server: Postgres, count: int, rng: random.Random) -> dict[str, Any]:
    """Seed a new database, then measure an open and the work, as for the file store."""
    with database(server, f"bench_{count}") as url:
        result: dict[str, Any] = {"cases": count, "seed_s": round(seed_postgres(url, count), 2)}
        result |= measure(url, count, rng)
        result["fresh_process"] = fresh_process(url)
        return result


def measure_postgres_sizes(sizes: list[int]) -> dict[str, Any]:
    """Every size on one server, or why there is none."""
    rng = random.Random(7)
    try:
        with postgres_server() as server:
            return {str(count): measure_postgres(server, count, rng) for count in sizes}
    except Unavailable as why:
        return {"skipped": str(why)}


# --- measuring, either store --------------------------------------------------------------------

def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def percentiles(samples: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(samples, n=20)
    return {"p50_ms": round(statistics.median(samples), 3), "p95_ms": round(cuts[18], 3)}


def append_one(store: CaseStore, stream: str, version: int, n: int) -> None:
    store.append(stream, [make_event(n, version)], expected_version=version,
                 effects=[{"key": f"letter-{version}", "kind": "SendLetter"}],
                 keys=[f"<{n}.{version}@nhs.example>"], summary=make_summary(n), now=NOW)


def measure(location: Path | str, count: int, rng: random.Random) -> dict[str, Any]:
    """Open the seeded store (timed), then its writes, loads, listing and effects."""
    result: dict[str, Any] = {}
    started = time.perf_counter()
    with open_store(location) as store:
        result["open_s"] = round(time.perf_counter() - started, 3)
        for n in range(count + SAMPLES, count + SAMPLES + 20):  # warm up, not measured
            append_one(store, case_id(n), 0, n)
        picked = rng.sample(range(count), SAMPLES)
        existing = [timed(lambda n=n: append_one(store, case_id(n), EVENTS, n)) for n in picked]
        fresh = [timed(lambda n=n: append_one(store, case_id(n), 0, n))
                 for n in range(count, count + SAMPLES)]
        loads = [timed(lambda n=n: store.load(case_id(n))) for n in rng.sample(range(count), 200)]
        listings = [timed(store.open_cases) for _ in range(5)]
        rows = [timed(lambda: case_rows(store, open_only=True)) for _ in range(5)]
        result["write_existing"] = percentiles(existing)
        result["write_new"] = percentiles(fresh)
        result["load_p50_ms"] = round(statistics.median(loads), 3)
        result["open_cases"] = len(store.open_cases())
        result["list_open_ms"] = round(statistics.median(listings), 2)
        result["case_rows_open_ms"] = round(statistics.median(rows), 2)
        result["due_effects_ms"] = round(timed(lambda: store.due_effects(NOW)), 2)
        result["claim_effects_ms"] = round(timed(lambda: store.claim_effects(NOW, lease=LEASE)), 2)
        result["pending_effects"] = len(store.due_effects(NOW))
    return result


def fresh_process(location: Path | str) -> dict[str, Any]:
    """Open and work with the store in a new interpreter; report its open time and peak RSS."""
    child = subprocess.run(
        [sys.executable, "-m", "bench.bench_store", "--rss", str(location)],
        capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parents[1],
    )
    return json.loads(child.stdout)  # type: ignore[no-any-return]


def rss_probe(location: str) -> dict[str, Any]:
    """The fresh process's part: its open includes importing the backend (psycopg for a database)."""
    started = time.perf_counter()
    with open_store(location) as store:
        opened = time.perf_counter() - started
        listed = len(case_rows(store, open_only=True))
        for n in range(10):
            store.load(case_id(n))
            append_one(store, case_id(n), store.load(case_id(n)).version, n)
        store.due_effects(NOW)
    return {"open_s": round(opened, 3), "listed_open": listed, "peak_rss_mb": peak_rss_mb()}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """The figures as a dict (`python -m bench` prints them with the other benches')."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--rss", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rss:
        return rss_probe(args.rss)
    started = time.perf_counter()
    sizes = [int(size) for size in args.sizes.split(",")]
    file_rng = random.Random(7)
    results = {
        "file": {str(count): measure_file(count, file_rng) for count in sizes},
        "postgresql": measure_postgres_sizes(sizes),
    }
    return {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "results": results,
        "targets": {
            "file": file_targets(results["file"]), "postgresql": postgres_targets(results["postgresql"]),
        },
        "total_s": round(time.perf_counter() - started, 1),
    }


def file_targets(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    small, large = results.get("1000"), results.get("50000")
    if small and large:
        ratio = large["write_existing"]["p50_ms"] / small["write_existing"]["p50_ms"]
        found["write_p50_50k_over_1k"] = {"value": round(ratio, 2), "ok": ratio <= 2}
        rss = large["fresh_process"]["peak_rss_mb"]
        found["peak_rss_50k_mb"] = {"value": rss, "ok": rss < 300}
    for size, result in results.items():
        if result["open_cases"] >= OPEN_CASES:
            found[f"list_10k_open_at_{size}_ms"] = {
                "value": result["list_open_ms"], "ok": result["list_open_ms"] < 50,
            }
    return found


def postgres_targets(results: dict[str, Any]) -> dict[str, Any]:
    """The issue's targets for the database: writes that do not slow as cases accumulate, the open
    cases listed by their index, and a store that opens quickly (in a fresh process)."""
    found: dict[str, Any] = {}
    if "skipped" in results:
        return found
    small, large = results.get("1000"), results.get("50000")
    if small and large:
        ratio = large["write_existing"]["p50_ms"] / small["write_existing"]["p50_ms"]
        found["write_p50_50k_over_1k"] = {"value": round(ratio, 2), "ok": ratio <= 1.5}
        found["list_open_at_50000_ms"] = {"value": large["list_open_ms"], "ok": large["list_open_ms"] < 20}
    for size, result in results.items():
        opened = result["fresh_process"]["open_s"]
        found[f"open_at_{size}_s"] = {"value": opened, "ok": opened < 1}
    return found


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
