"""A month of the simulated integrated care system, faults included, through the real assistant
and judged by the independent oracle: nothing missed, duplicated or lost (`bench.bench_year` at
a small size; October, so the clocks go back in the middle of it), with the people's own emails:
replies to letters, complaints made again, representatives, and organisations answering by email."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

from bench.sim.driver import Plan, Sim
from bench.sim.oracle import judge, read_store

NOTHING = {"missed": 0, "duplicated": 0, "lost": 0, "late": 0, "consent_breaches": 0, "wrong": 0}


async def test_a_month_of_200_complaints_with_faults_misses_nothing(tmp_path: Path) -> None:
    plan = Plan(seed=7, start=date(2026, 10, 1), days=31, complaints=200, faults=True)
    sim = Sim(plan, tmp_path)

    record = await sim.run()
    findings = judge(record)

    assert findings["totals"] == NOTHING, findings["checks"]
    kinds = {f.kind for f in record.faults}
    assert kinds >= {
        "restart",
        "smtp_down",
        "smtp_4xx",
        "smtp_5xx",
        "clock_back",
        "killed_batch",
        "killed_sent",
    }
    delivered = Counter(a.kind for a in record.arrivals)
    # a complaint made again without its reference opens a case of its own, merged by the handler
    assert findings["cases"] == 200 + delivered["again_new"] and delivered["again_new"] >= 1, delivered
    assert findings["checks"]["contribution_reminders"]["ok"] > 100
    people = sim.people
    assert people.answered["related"] >= delivered["again_new"]
    assert people.answered["letter_failed"] >= 1  # refused for good (550), sent again when asked
    assert (dict(people.stuck), dict(people.unknown), dict(people.refused)) == ({}, {}, {})
    assert people.answered["close"] > 20  # whole lives, not only their beginnings
    # the people's own emails (`bench.sim.emails`), each delivered once, on its case, and seen to
    assert delivered["reply"] > 15 and delivered["again"] >= 3 and delivered["contribution"] >= 2, delivered
    emails = people.email
    assert emails["read_reply"] >= delivered["reply"] - 2 and emails["read_again"] == delivered["again"]
    # organisations answering by email only: their response and their answer to the proposed lead,
    # recorded from the email's question, which put what the email says first, filled in
    assert delivered["lead"] > 10 and emails["read_lead"] == delivered["lead"], (delivered, emails)
    assert emails["read_contribution"] == delivered["contribution"]
    assert emails["suggested"] == emails["read_lead"] + emails["read_contribution"] + emails["read_later"]
    assert emails["not_suggested"] == 0
    assert not [kind for kind in emails if kind.startswith("not_offered")], emails
    events = [e["type"] for stream in read_store(record.store_dir).values() for e in stream]
    assert events.count("RepresentativeRecorded") >= 10  # complaints written on the person's behalf
