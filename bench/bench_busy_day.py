"""A handler's answer while the busiest day's sweep runs: ``python -m bench.bench_busy_day``.

The store is bench_sweep's: 10,000 open three-organisation cases whose plans start on one of 20
consecutive working days. Eight working days after the first start (bench_sweep's "next day")
about 7,500 reminders fall due at once. A real `bot.app.Assistant` (local configuration: letters
and emailed notices are files) opens the store, runs one cycle on the quiet evening of the first
day (its sweep looks at every case once, as after any start), then its clock moves to the busy
day's morning and one more cycle runs (intake, sweep, runner), measured, while on the same event
loop:

- a loop-lag probe sleeps 5 ms again and again and records how late each wake-up is;
- a handler's answer arrives every 100 ms, as a Slack handler's does: `asyncio.to_thread(
  service.execute, ...)` of a contributor's "on track" on a case with nothing due that day, with
  a key of its own. Its time runs from when it was due to arrive (a blocked loop delays the
  handler too) to when its decision is on disk.

Targets from the issue: an answer's p95 under 500 ms, and the loop never blocked for more than
100 ms at a stretch.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench import bench_sweep
from bench.common import PROBE_SLEEP, by_size, lag_probe, peak_rss_mb, percentile, probed
from bot.app import Assistant, freeze_start_up
from bot.config import local_config
from bot.directory import actor
from bot.sweep import policy
from flows import commands as c
from flows.calendar import add_working_days
from flows.due import due
from store.store import Store

SIZES = (10_000,)
QUIET = bench_sweep.START.replace(hour=18)  # after the plans were made, before any reminder
BUSY_DAY = add_working_days(bench_sweep.START.date(), 8)  # bench_sweep's next day: ~7,500 reminders
MORNING = datetime.combine(BUSY_DAY, datetime.min.time(), UTC) + timedelta(hours=9)
ANSWER_EVERY = 0.1
TARGETS = {"answer_p95_ms": 500, "loop_blocked_ms": 100}


class Timed:
    """Wraps a step of the cycle to time it; the step itself runs unchanged."""

    def __init__(self, step: Callable[..., Any]) -> None:
        self.step = step
        self.seconds = 0.0
        self.result: Any = None

    def __call__(self, *args: Any) -> Any:
        started = time.perf_counter()
        try:
            self.result = self.step(*args)
            return self.result
        finally:
            self.seconds = time.perf_counter() - started

    async def timed_async(self, *args: Any) -> Any:
        started = time.perf_counter()
        try:
            self.result = await self.step(*args)
            return self.result
        finally:
            self.seconds = time.perf_counter() - started


def plans(assistant: Assistant, count: int) -> list[tuple[str, int, int]]:
    """Per plan (bench_sweep's case n follows plan n % SPREAD): one of its cases, how many cases
    follow it, and how many reminders one of them is due on the busy morning."""
    clocks, service = policy(assistant.config), assistant.service
    spread = min(bench_sweep.SPREAD, count)
    found = []
    for k in range(spread):
        ref = f"JC-{k:06d}-BNCH"
        found.append((ref, len(range(k, count, spread)), len(due(service.load(ref), MORNING, clocks))))
    return found


async def answers(assistant: Assistant, refs: list[str], stop: asyncio.Event, took: list[float]) -> None:
    """An answer every ANSWER_EVERY seconds, each in its own task as Slack's handlers run."""
    who = actor(assistant.config.person("asha-patel"))
    loop = asyncio.get_running_loop()
    tasks = []

    async def answer(n: int, arrives: float) -> None:
        command = c.ReportOnTrack(actor=who, strand_id="S1")
        now = assistant.clock()
        await asyncio.to_thread(assistant.service.execute, refs[n % len(refs)], command, now, [f"answer:{n}"])
        took.append(loop.time() - arrives)

    start, n = loop.time(), 0
    while not stop.is_set():
        arrives = start + n * ANSWER_EVERY
        await asyncio.sleep(max(0.0, arrives - loop.time()))
        tasks.append(asyncio.ensure_future(answer(n, arrives)))
        n += 1
    await asyncio.gather(*tasks)


async def busy_day(root: Path) -> dict[str, Any]:
    config = local_config(root)
    now = [QUIET]
    with Store.open(config.store_dir) as store:
        assistant = Assistant(config, store, io.StringIO(), clock=lambda: now[0], environ={})
        freeze_start_up()  # as `run_forever` does
        started = time.perf_counter()
        await assistant.cycle()  # the first sweep after a start looks at every case
        first_cycle = time.perf_counter() - started
        count = sum(1 for s in store.summaries() if s.summary.get("open"))
        found = plans(assistant, count)
        quiet = [ref for ref, _, reminders in found if reminders == 0]
        refs = [f"JC-{n:06d}-BNCH" for n in range(count) if f"JC-{n % len(found):06d}-BNCH" in quiet]
        sweep, runner = Timed(assistant.sweep.run), Timed(assistant.runner.run_due)
        assistant.sweep.run = sweep  # type: ignore[method-assign,assignment]
        assistant.runner.run_due = runner.timed_async  # type: ignore[method-assign,assignment]
        now[0] = MORNING
        stop = asyncio.Event()
        lags: list[float] = []
        took: list[float] = []
        probing = asyncio.ensure_future(lag_probe(stop, lags))
        answering = asyncio.ensure_future(answers(assistant, refs[::97], stop, took))
        started = time.perf_counter()
        await assistant.cycle()
        cycle = time.perf_counter() - started
        stop.set()
        await asyncio.gather(probing, answering)
    return {
        "open_cases": count,
        "first_cycle_s": round(first_cycle, 1),
        "reminders_due": sum(cases * reminders for _, cases, reminders in found),
        "reminders_sent": sweep.result,
        "effects_done": runner.result,
        "cycle_s": round(cycle, 2),
        "sweep_s": round(sweep.seconds, 2),
        "runner_s": round(runner.seconds, 2),
        "answers": {
            "count": len(took),
            "p50_ms": round(percentile(took, 0.5) * 1000, 1),
            "p95_ms": round(percentile(took, 0.95) * 1000, 1),
            "max_ms": round(max(took, default=0) * 1000, 1),
        },
        "loop_lag": {
            "max_ms": round(max(lags, default=0) * 1000, 1),
            "p99_ms": round(percentile(lags, 0.99) * 1000, 1),
            "longest_stretch_ms": round((max(lags, default=0) + PROBE_SLEEP) * 1000, 1),
            "over_100_ms": sum(lag > 0.1 for lag in lags),
        },
    }


def probe(root: Path) -> dict[str, Any]:
    logging.disable(logging.INFO)
    figures = asyncio.run(busy_day(root))
    return {**figures, "peak_rss_mb": peak_rss_mb()}


def measure(count: int) -> dict[str, Any]:
    return {"open_cases": count, **probed("bench.bench_busy_day", bench_sweep.seed, count)}


def targets(results: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {"targets": TARGETS}
    for size, figures in results.items():
        p95, blocked = figures["answers"]["p95_ms"], figures["loop_lag"]["longest_stretch_ms"]
        found[size] = {
            "answer_p95_ms": p95,
            "loop_blocked_ms": blocked,
            "met": p95 < TARGETS["answer_p95_ms"] and blocked < TARGETS["loop_blocked_ms"],
        }
    return found


def main(argv: list[str] | None = None) -> dict[str, Any]:
    return by_size(argv, __doc__ or "", SIZES, probe, measure, targets)


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
