"""The reminder sweep over 1,000, 10,000 and 50,000 open cases: ``python -m bench.bench_sweep``.

Every case is open with a realistic plan: three organisations (trust, GP, council), consent, an
agreed lead, a named contact, update letters every 10 working days, a response period and three
strands with target dates spread over the coming weeks. The cases are decided in memory through
`flows.decide` and written straight to stream files (no fsync), like bench_store's seeding.

Measured in a fresh process per size, with the real `bot.sweep.Sweep`:
- ``first_sweep_s``: the very first sweep of a store, which looks at every open case once;
- ``after_restart_sweep_ms``: the first sweep after a restart, which starts from what the last
  one remembered (a store cursor);
- ``steady_sweep_ms``: a sweep a minute later with nothing changed: after its first pass the sweep
  looks only at cases written since and cases whose day has come, so this does not grow with the
  number of cases;
- ``next_day_sweep_s`` and ``reminders_sent``: the first sweep of a day on which some cases are
  due a reminder, including writing those reminders;
- ``peak_rss_mb``.
Target from the issue: the steady sweep under 200 ms at 10,000 cases, growing no faster than linearly.
"""

from __future__ import annotations

import json
import logging
import os
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import by_size, peak_rss_mb, probed
from bot.config import local_config
from bot.directory import actor, org_ref, system_actor
from bot.service import CaseService
from bot.sweep import Sweep
from flows import commands as c
from flows.calendar import add_working_days
from flows.codec import to_plain
from flows.decide import decide
from flows.evolve import fold
from flows.model import Case, Channel, ConsentMethod, LeadCriterion, Person
from flows.summary import summarise
from store import Store
from store.streams import StreamWrite, stream_file

SIZES = (1_000, 10_000, 50_000)
START = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # a Tuesday
SPREAD = 20  # plans start on one of 20 consecutive working days


def plan(ref: str, start: datetime) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The events and summary of one open three-organisation case planned on `start`'s day."""
    config = local_config(Path("var"))
    trust, gp, council = (
        org_ref(config, o) for o in ("northshire-trust", "riverside-gp", "northshire-council")
    )
    asha = actor(config.person("asha-patel"))
    day = start.date()
    commands: list[c.Command] = [
        c.ReceiveComplaint(actor=system_actor(config), channel=Channel.EMAIL, received_at=start,
                           complainant=Person("A Person", "person@example.org"), home_org=trust,
                           subject="Discharge", text="Discharged without medicines; no GP visit."),
        c.IdentifyOrganisations(actor=asha, orgs=(trust, gp, council)),
        c.RecordConsent(actor=asha, org_ids=(gp.id, council.id), method=ConsentMethod.PHONE, given_on=day,
                        capacity_confirmed=True),
        c.RecordComplainantView(actor=asha, view="No preference given"),
        c.ProposeLead(actor=asha, org_id=trust.id, criteria=(LeadCriterion.GREATEST_RESPONSIBILITY,)),
        c.RespondToLead(actor=asha, org_id=gp.id, agrees=True),
        c.RespondToLead(actor=asha, org_id=council.id, agrees=True),
        c.SetUpdateFrequency(actor=asha, working_days=10),
        c.SetNamedContact(actor=asha, name="Asha Patel", email="asha@trust.example"),
        c.SetResponsePeriod(actor=asha, due=add_working_days(day, 40), agreed_with_complainant=True),
        *(c.AddStrand(actor=asha, org_id=o.id, matters="What happened", target=add_working_days(day, 10 + i))
          for i, o in enumerate((trust, gp, council))),
        *(c.AgreePlan(actor=asha, org_id=o.id) for o in (trust, gp, council)),
    ]  # fmt: skip
    case = Case(ref=ref)
    events = []
    for command in commands:
        decision = decide(case, command, start)
        case = fold(case, decision.events)
        events.extend(to_plain(e) for e in decision.events)
    return events, summarise(case)


def seed(root: Path, count: int) -> None:
    streams = root / "store" / "streams"
    streams.mkdir(parents=True)
    starts = [
        START + timedelta(days=d) for d in range(SPREAD * 2) if (START + timedelta(days=d)).weekday() < 5
    ]
    templates = [plan("JC-000000-AAAA", s) for s in starts[:SPREAD]]
    for n in range(count):
        ref = f"JC-{n:06d}-BNCH"
        events, summary = templates[n % len(templates)]
        write = StreamWrite(stream_file(streams, ref), ref, durable=False)
        write.add_events(events)
        write.state.summary = {**summary, "ref": ref}
        write.commit()
    os.sync()


def probe(root: Path) -> dict[str, Any]:
    """In a fresh process: open the store, sweep as the assistant would, report times and memory."""
    logging.disable(logging.INFO)
    config = local_config(root)
    with Store.open(config.store_dir) as store:
        sweep = Sweep(config, CaseService(store))
        quiet_day = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)  # after the plans, before any reminder
        started = time.perf_counter()
        sweep.run(quiet_day)
        first = time.perf_counter() - started
        steady = []
        for minute in range(1, 6):
            started = time.perf_counter()
            sweep.run(quiet_day + timedelta(minutes=minute))
            steady.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        Sweep(config, CaseService(store)).run(quiet_day + timedelta(minutes=10))
        restart = time.perf_counter() - started
        due_day = datetime.combine(add_working_days(date(2026, 11, 24), 8), datetime.min.time(), UTC)
        started = time.perf_counter()
        sent = sweep.run(due_day + timedelta(hours=10))
        next_day = time.perf_counter() - started
    return {
        "first_sweep_s": round(first, 2),
        "steady_sweep_ms": round(sorted(steady)[len(steady) // 2], 3),
        "after_restart_sweep_ms": round(restart * 1000, 1),
        "next_day_sweep_s": round(next_day, 2),
        "reminders_sent": sent,
        "peak_rss_mb": peak_rss_mb(),
    }


def measure(count: int) -> dict[str, Any]:
    return {"open_cases": count, **probed("bench.bench_sweep", seed, count)}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    return by_size(argv, __doc__ or "", SIZES, probe, measure, targets)


def targets(results: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if "10000" in results:
        steady = results["10000"]["steady_sweep_ms"]
        found["steady_sweep_ms_at_10k"] = {"value": steady, "ok": steady < 200}
    if "1000" in results and "50000" in results:
        growth = results["50000"]["steady_sweep_ms"] / max(results["1000"]["steady_sweep_ms"], 0.001)
        found["steady_growth_50k_over_1k"] = {"value": round(growth, 1), "linear_would_be": 50}
    return found


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
