"""`jointly report` over 50,000 cases while `jointly run` takes in mail: ``python -m bench.bench_alongside``.

Prints one JSON object. Target from the issue: the report run beside the service, while it is
taking in mail, within 1.5x of the same report with the service stopped.

The store is seeded as bench_report seeds it (`bench.bench_report.seed`: 50,000 closed, coded
cases over three reporting years), in a temporary folder laid out as a deployment: a config.toml
(the tests' ``SERVICE_CONFIG``: a local Maildir inbox, a file outbox, and the sample directory, so
`jointly run` keeps running) and the data folder ``var/``. One writable open then builds the
index snapshot, as the service's first start would (``rebuild_open_s``, not part of the target).

Each sample is the real command, ``jointly report --from 2025-04-01 --format json`` (the
reporting year 2025-26, as in bench_report), run as a fresh process in that folder and timed from
start to exit (interpreter start-up, read-only open, load, compute, render); one untimed run first
warms the disk cache and the bytecode. The figures are medians of ``--runs`` samples (3):

1. ``report_stopped_s``: with no service running.
2. ``report_alongside_s``: with `jointly run` on the same store, while a thread delivers distinct
   complaints into its Maildir inbox at ``--per-second`` (3; the samples in ``bot/examples`` with
   their own Message-IDs, senders and bodies, as bench_intake makes them). Timing starts once the
   service has taken its first message in. ``messages_taken_during`` counts the messages the
   service filed (moved out of the inbox to Processed or Quarantine) while the timed reports ran,
   so a figure without a service at work shows as such, and ``service_cpu_s_during`` the CPU time
   the service used meanwhile (from /proc); ``backlog_at_end`` is what was still waiting when the
   last one ended.
3. The feeding stops, the inbox is left to drain (``drained_s``), and the service is stopped with
   SIGTERM (``service_exit``: 0 when it stopped cleanly). ``report_stopped_after_s`` is the same
   report once more without it (by then over the cases it filed too): a check on the machine's
   drift, not part of the ratio.

Every report must exit 0 and count the same cases in the year (the new mail is received today,
outside the year), so the work timed is the same each time. ``met``: ``ratio`` (alongside over
stopped) at most ``target`` (1.5), with messages taken in during the timings. The machine may
have other work; the timings are wall clock, as a person at the command line would see them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.bench_intake import make_message, samples
from bench.bench_report import seed
from bench.common import machine
from bot.config import SAMPLE_DIRECTORY
from mail.maildir import MaildirInbox
from store.store import Store
from tests.bot.test_cli import JOINTLY, SERVICE_CONFIG, environment

CASES = 50_000
RUNS = 3
PER_SECOND = 3.0
RATIO_TARGET = 1.5
REPORT = ("report", "--from", "2025-04-01", "--format", "json")
WAIT_S = 300  # for another process (start-up over 50,000 cases, draining): not a timing


def count(folder: Path) -> int:
    """Messages in a Maildir folder (its new/ and cur/)."""
    return sum(1 for sub in ("new", "cur") if (folder / sub).is_dir() for _ in (folder / sub).iterdir())


class Mail:
    """The service's inbox seen from outside: deliveries at a steady pace, and what it has filed."""

    def __init__(self, inbox: Path) -> None:
        self.inbox = inbox
        self.maildir = MaildirInbox(inbox)
        self.bases = samples()
        self.delivered = 0
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None

    def deliver_one(self) -> None:
        self.maildir.deliver(make_message(self.bases, self.delivered))
        self.delivered += 1

    def waiting(self) -> int:
        return count(self.inbox)

    def filed(self) -> int:
        return count(self.inbox / ".Processed") + count(self.inbox / ".Quarantine")

    def start(self, per_second: float) -> None:
        def feed() -> None:
            start, sent = time.monotonic(), 0
            while not self.stop.is_set():
                self.deliver_one()
                sent += 1
                self.stop.wait(max(0.0, start + sent / per_second - time.monotonic()))

        self.thread = threading.Thread(target=feed, name="feed", daemon=True)
        self.thread.start()

    def finish(self) -> None:
        self.stop.set()
        if self.thread is not None:
            self.thread.join()


def cpu_s(pid: int) -> float:
    """The CPU time a process has used so far (user + system), from /proc; 0 where there is none."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def until(condition: Callable[[], bool], what: str, alive: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if alive is not None and alive.poll() is not None:
            raise RuntimeError(f"the service exited ({alive.returncode}) before {what}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.1)


def report(root: Path) -> tuple[float, int]:
    """One `jointly report` in a fresh process: its wall time, and the cases it counted."""
    started = time.perf_counter()
    result = subprocess.run(
        [str(JOINTLY), *REPORT], cwd=root, env=environment(root), stdin=subprocess.DEVNULL,
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    if result.returncode != 0 or "Traceback" in result.stderr:
        raise RuntimeError(f"jointly report exited {result.returncode}: {result.stderr}")
    return seconds, int(json.loads(result.stdout)["cases"])


def reports(root: Path, runs: int, cases: set[int]) -> list[float]:
    timings = []
    for _ in range(runs):
        seconds, counted = report(root)
        timings.append(seconds)
        cases.add(counted)
    return timings


def alongside(root: Path, runs: int, per_second: float, cases: set[int]) -> dict[str, Any]:
    """The reports beside `jointly run` while mail arrives; then the service stopped with SIGTERM."""
    mail = Mail(root / "var" / "inbox")
    log = (root / "service.log").open("wb")
    started = time.perf_counter()
    service = subprocess.Popen(
        [str(JOINTLY), "run"], cwd=root, env=environment(root), stdin=subprocess.DEVNULL,
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        mail.deliver_one()  # it is at work once this is filed
        until(lambda: mail.filed() >= 1, "its first message was filed", service)
        ready_s = time.perf_counter() - started
        mail.start(per_second)
        time.sleep(2)  # into its stride: a message or more each cycle
        timings, taken, busy = [], [], 0.0
        for _ in range(runs):
            before, cpu = mail.filed(), cpu_s(service.pid)
            timings += reports(root, 1, cases)
            taken.append(mail.filed() - before)
            busy += cpu_s(service.pid) - cpu
            if service.poll() is not None:
                raise RuntimeError(f"the service exited ({service.returncode}) during the reports")
        backlog = mail.waiting()
        mail.finish()
        drain = time.perf_counter()
        until(lambda: mail.waiting() == 0, "the inbox to drain", service)
        drained_s = time.perf_counter() - drain
        service.send_signal(signal.SIGTERM)
        service.wait(timeout=WAIT_S)
    finally:
        mail.finish()
        if service.poll() is None:
            service.kill()
            service.wait()
        log.close()
    return {
        "timings": timings,
        "service_ready_s": round(ready_s, 1),
        "messages_taken_during": sum(taken),
        "messages_taken_per_report": taken,
        "service_cpu_s_during": round(busy, 2),
        "messages_delivered": mail.delivered,
        "messages_filed": mail.filed(),
        "backlog_at_end": backlog,
        "drained_s": round(drained_s, 1),
        "service_exit": service.returncode,
    }


def run(root: Path, count_: int, runs: int, per_second: float) -> dict[str, Any]:
    began = time.perf_counter()
    seed(root / "var", count_)
    seed_s = time.perf_counter() - began
    (root / "config.toml").write_text(SERVICE_CONFIG + SAMPLE_DIRECTORY.read_text())
    started = time.perf_counter()
    Store.open(root / "var" / "store").close()  # the index snapshot, as the service's first start
    rebuild_s = time.perf_counter() - started
    cases: set[int] = set()
    reports(root, 1, cases)  # warm-up, not timed
    stopped = reports(root, runs, cases)
    beside = alongside(root, runs, per_second, cases)
    after = reports(root, runs, cases)
    if len(cases) != 1:
        raise RuntimeError(f"the reports counted different cases in the year: {sorted(cases)}")
    stopped_s = statistics.median(stopped)
    alongside_s = statistics.median(beside.pop("timings"))
    ratio = alongside_s / stopped_s
    return {
        "cases": count_,
        "cases_in_year": cases.pop(),
        "seed_s": round(seed_s, 1),
        "rebuild_open_s": round(rebuild_s, 2),
        "runs": runs,
        "per_second": per_second,
        "report_stopped_s": round(stopped_s, 2),
        "report_stopped_samples": [round(s, 2) for s in stopped],
        "report_alongside_s": round(alongside_s, 2),
        "ratio": round(ratio, 2),
        **beside,
        "report_stopped_after_s": round(statistics.median(after), 2),
        "target": RATIO_TARGET,
        "met": ratio <= RATIO_TARGET and beside["messages_taken_during"] > 0,
        "total_s": round(time.perf_counter() - began, 1),
        "machine": machine(),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """The figures as a dict (`python -m bench` prints them with the other benches')."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cases", type=int, default=CASES)
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--per-second", type=float, default=PER_SECOND, help="mail delivered a second")
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="jointly-bench-alongside-", dir="/tmp"))
    try:
        return run(root, args.cases, args.runs, args.per_second)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
