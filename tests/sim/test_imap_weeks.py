"""Three weeks of the simulated integrated care system with the mailbox on a real Dovecot: mail
arrives by IMAP APPEND with its arrival time, and the IMAP server is killed just after the
assistant fetched messages and before it filed them, among the other faults. Nothing is missed,
duplicated or lost (`python -m bench.bench_year --imap` at a small size)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bench.sim.driver import Plan, Sim
from bench.sim.oracle import judge
from tests.servers.dovecot import INSTALL_HINT, dovecot_binary
from tests.sim.test_small_year import NOTHING


@pytest.mark.skipif(dovecot_binary() is None, reason=INSTALL_HINT)
async def test_three_weeks_through_imap_with_the_server_killed_mid_fetch_miss_nothing(tmp_path: Path) -> None:
    plan = Plan(seed=3, start=date(2026, 11, 2), days=21, complaints=90, faults=True, imap=True)
    sim = Sim(plan, tmp_path)

    record = await sim.run()
    findings = judge(record)

    assert findings["totals"] == NOTHING, findings["checks"]
    assert "killed_imap" in {f.kind for f in record.faults}, record.faults
    again = sum(a.kind == "again_new" for a in record.arrivals)  # a case of its own, merged
    assert findings["cases"] == 90 + again
    people = sim.people
    assert (dict(people.stuck), dict(people.unknown), dict(people.refused)) == ({}, {}, {})
