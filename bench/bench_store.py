"""Store latency and memory at 1k, 10k and 50k cases: ``python -m bench.bench_store``.

Prints one JSON object. Targets from the issue: write p50 at 50k cases within
2x of 1k; listing 10k open cases with their next deadline under 50 ms; peak
RSS with 50k cases under 300 MB. RSS is measured in a fresh process that
opens the seeded store and works with it, so seeding does not inflate it.

Seeding writes stream files through the store's own ``StreamWrite`` without
fsync (then one ``os.sync``); the first ``Store.open`` then builds the index by
reading every file, which is reported as ``rebuild_open_s``.
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
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import peak_rss_mb
from bot.cli import case_rows
from flows import commands as c
from flows.decide import decide
from flows.evolve import fold
from flows.model import Actor, Case, Channel, ConsentMethod, LeadCriterion, OrgRef, Person, Role, Sector
from flows.summary import summarise
from store import Store
from store.streams import StreamWrite, stream_file

SIZES = (1_000, 10_000, 50_000)
OPEN_CASES = 10_000  # the first 10k cases are open at every size
EVENTS = 40
SAMPLES = 200
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
TEXT = "The family report that the discharge letter reached the GP nine days late. " * 3


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


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def percentiles(samples: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(samples, n=20)
    return {"p50_ms": round(statistics.median(samples), 3), "p95_ms": round(cuts[18], 3)}


def append_one(store: Store, stream: str, version: int, n: int) -> None:
    store.append(stream, [make_event(n, version)], expected_version=version,
                 effects=[{"key": f"letter-{version}", "kind": "SendLetter"}],
                 keys=[f"<{n}.{version}@nhs.example>"], summary=make_summary(n), now=NOW)


def measure(root: Path, count: int, rng: random.Random) -> dict[str, Any]:
    result: dict[str, Any] = {"cases": count, "seed_s": round(seed(root, count), 2)}
    started = time.perf_counter()
    Store.open(root).close()
    result["rebuild_open_s"] = round(time.perf_counter() - started, 3)
    started = time.perf_counter()
    with Store.open(root) as store:
        result["open_s"] = round(time.perf_counter() - started, 3)
        for n in range(count + SAMPLES, count + SAMPLES + 20):  # warm up, not measured
            append_one(store, case_id(n), 0, n)
        picked = rng.sample(range(count), SAMPLES)
        existing = [timed(lambda n=n: append_one(store, case_id(n), EVENTS, n)) for n in picked]
        fresh = [timed(lambda n=n: append_one(store, case_id(n), 0, n))
                 for n in range(count, count + SAMPLES)]
        loads = [timed(lambda n=n: store.load(case_id(n))) for n in rng.sample(range(count), 200)]
        listings = [timed(lambda: case_rows(store, open_only=True)) for _ in range(5)]
        result["write_existing"] = percentiles(existing)
        result["write_new"] = percentiles(fresh)
        result["load_p50_ms"] = round(statistics.median(loads), 3)
        result["open_cases"] = len(case_rows(store, open_only=True))
        result["list_open_ms"] = round(statistics.median(listings), 2)
        result["due_effects_ms"] = round(timed(lambda: store.due_effects(NOW)), 2)
        result["pending_effects"] = len(store.due_effects(NOW))
    result["fresh_process"] = fresh_process(root)
    return result


def fresh_process(root: Path) -> dict[str, Any]:
    """Open and work with the store in a new interpreter; report its peak RSS."""
    child = subprocess.run(
        [sys.executable, "-m", "bench.bench_store", "--rss", str(root)],
        capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parents[1],
    )
    return json.loads(child.stdout)  # type: ignore[no-any-return]


def rss_probe(root: Path) -> dict[str, Any]:
    started = time.perf_counter()
    with Store.open(root) as store:
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
    parser.add_argument("--rss", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rss:
        return rss_probe(args.rss)
    started = time.perf_counter()
    rng = random.Random(7)
    results = {}
    for count in (int(size) for size in args.sizes.split(",")):
        root = Path(tempfile.mkdtemp(prefix="jointly-bench-store-", dir="/tmp"))
        try:
            results[str(count)] = measure(root, count, rng)
        finally:
            shutil.rmtree(root)
    return {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "results": results,
        "targets": targets(results),
        "total_s": round(time.perf_counter() - started, 1),
    }


def targets(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
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


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
