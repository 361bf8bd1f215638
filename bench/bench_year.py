"""A simulated year of an integrated care system through the real assistant: ``python -m bench.bench_year``.

Twenty organisations and 5,000 complaints over a year (`bench.sim.world`), simulated people who
answer through the assistant's own questions (`bench.sim.people`), faults at seeded moments
(`bench.sim.driver`), in accelerated time, with letters going over SMTP to a real aiosmtpd server.
Then an independent oracle (`bench.sim.oracle`, its own calendar) judges what the SMTP server
received against what must have happened. Prints one JSON object:

- ``complaints``, ``cases``, ``letters``, ``cycles``, ``answers`` (by question), ``faults``;
- ``totals``: missed, late, duplicated, lost, consent breaches, wrong (each check's figures and
  first examples are under ``checks``; ``report``: the product's own `jointly report` figures for
  the run's period against the oracle's count, each one that differs "wrong");
- ``stuck`` (questions still asked after five answers) and ``unanswered`` (questions the simulated
  people do not know how to answer): both should be empty;
- ``emails``: the people's own emails (replies to letters, complaints made again, organisations'
  responses and requests for a later date by email) delivered by kind, and the people's tally of
  them (``read_<kind>``: read or recorded by the handler; ``suggested`` / ``not_suggested``: the
  assistant's question put what an organisation's email says first, filled in right, or not);
- ``wall_s``, ``peak_rss_mb``, ``slowest_moment_s`` and ``busiest_day`` (the simulated day that
  took longest to run, and its seconds);
- ``chat``, over the run and on the busiest day: the people's answers given while a cycle ran
  (intake, sweep, letters), their time from given to kept (p50, p95, max; target p95 under
  500 ms), and the longest the event loop was blocked (target under 100 ms), as a loop-lag probe
  saw it. `bench.bench_busy_day` measures the same for a far larger service's busiest morning.

``--days`` and ``--complaints`` shrink it (``make bench`` runs a quarter); ``--no-faults`` runs
without faults; ``--imap`` reads the mailbox from a real Dovecot (mail delivered by IMAP APPEND
with its arrival time), which is also killed twice just after the assistant fetched messages and
before it filed them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import shutil
import tempfile
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench.common import machine, peak_rss_mb
from bench.sim.driver import Plan, Sim
from bench.sim.oracle import judge, report_check
from bot.report import Scope, compute, load_facts
from bot.service import CaseService
from store.store import Store


def simulate(plan: Plan, root: Path) -> dict[str, Any]:
    began = time.perf_counter()
    sim = Sim(plan, root)
    record = asyncio.run(sim.run())
    ran_s = time.perf_counter() - began
    findings = judge(record)
    with Store.open(record.store_dir, readonly=True) as store:  # `jointly report --format json`
        scope = Scope(plan.start, plan.end - timedelta(days=1), record.home)
        report = report_check(record, compute(load_facts(CaseService(store)), scope, plan.end)).plain()
    people = sim.people
    return {
        "complaints": plan.complaints,
        "days": plan.days,
        "seed": plan.seed,
        "cases": findings["cases"],
        "letters": len(record.letters),
        "cycles": len(record.cycles),
        "answers": dict(people.answered.most_common()),
        "faults": [f"{f.kind} {f.start:%Y-%m-%d %H:%M}" for f in record.faults],
        "totals": {**findings["totals"], "wrong": findings["totals"]["wrong"] + report["wrong"]},
        "checks": findings["checks"],
        "report": report,
        "stuck": dict(people.stuck),
        "refused": dict(people.refused),
        "unanswered": dict(people.unknown),
        "emails": {  # the people's own emails (`bench.sim.emails`): delivered, and what became of them
            "delivered": dict(Counter(a.kind for a in record.arrivals if a.kind != "complaint")),
            "people": dict(people.email),
        },
        "run_s": round(ran_s, 1),
        "wall_s": round(time.perf_counter() - began, 1),
        "slowest_moment_s": round(sim.slowest, 3),
        "busiest_day": {"s": sim.busiest[0], "day": sim.busiest[1], "chat": sim.busiest_chat.plain()},
        "chat": sim.chat.plain(),
        "peak_rss_mb": peak_rss_mb(),
        "machine": machine(),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--complaints", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2026, 4, 1))
    parser.add_argument("--no-faults", action="store_true")
    parser.add_argument("--imap", action="store_true", help="the mailbox on a real Dovecot, killed mid-fetch")
    parser.add_argument("--progress", action="store_true", help="a line on stderr per simulated day")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR, format="%(relativeCreated)8.0f ms %(message)s")
    if args.progress:
        logging.getLogger("jointly.sim").setLevel(logging.INFO)
    plan = Plan(args.seed, args.start, args.days, args.complaints, not args.no_faults, args.imap)
    shm = Path("/dev/shm")  # the store's fsyncs are bench_store's to measure: here, the logic
    root = Path(tempfile.mkdtemp(prefix="jointly-bench-year-", dir=shm if shm.is_dir() else None))
    try:
        return simulate(plan, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    print(json.dumps(main(), indent=2, default=str))
