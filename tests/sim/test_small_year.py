"""A month of the simulated integrated care system, faults included, through the real assistant
and judged by the independent oracle: nothing missed, duplicated or lost (`bench.bench_year` at
a small size; October, so the clocks go back in the middle of it)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from bench.sim.driver import Plan, Sim
from bench.sim.oracle import judge

NOTHING = {"missed": 0, "duplicated": 0, "lost": 0, "late": 0, "consent_breaches": 0, "wrong": 0}


async def test_a_month_of_200_complaints_with_faults_misses_nothing(tmp_path: Path) -> None:
    plan = Plan(seed=7, start=date(2026, 10, 1), days=31, complaints=200, faults=True)
    sim = Sim(plan, tmp_path)

    record = await sim.run()
    findings = judge(record)

    assert findings["totals"] == NOTHING, findings["checks"]
    kinds = {f.kind for f in record.faults}
    assert kinds >= {"restart", "smtp_down", "smtp_4xx", "clock_back", "killed_batch", "killed_sent"}, kinds
    assert findings["cases"] == 200 and findings["checks"]["contribution_reminders"]["ok"] > 100
    people = sim.people
    assert (dict(people.stuck), dict(people.unknown), dict(people.refused)) == ({}, {}, {})
    assert people.answered["close"] > 20  # whole lives, not only their beginnings
