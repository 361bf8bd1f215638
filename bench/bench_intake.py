"""Intake from a real IMAP server: ``python -m bench.bench_intake``.

Prints one JSON object. Targets from the issue: for a burst of 2,000 realistic messages in a
Dovecot INBOX, the intake (IMAP -> cases in the store) takes at most 1.5x the time imap-tools
needs just to fetch the same messages on the same run; and with IMAP IDLE, p95 from a message
arriving in the mailbox to its acknowledgement reaching the SMTP server is under 2 s.

Everything runs on loopback: a private Dovecot (`tests.servers.dovecot.Dovecot`, messages read
over implicit TLS as in production) and an aiosmtpd server (`tests.servers.smtp.SmtpServer`, plain,
no AUTH) whose recorder also notes when each letter arrives. The messages are the three sample
complaints in ``bot/examples`` with unique Message-IDs, one sender address each (so the per-sender
daily limit on automatic letters never suppresses an acknowledgement) and varied subjects and
bodies; they are appended to a fresh user's INBOX over one connection (not timed).

1. Raw fetch: imap-tools `MailBox.fetch(mark_seen=False)`, one FETCH per message (its default,
   ``bulk=False``) and all in one FETCH (``bulk=True``), after one untimed warm-up pass, so the
   server's caches are as warm for the baseline as for the intake that follows.
2. Intake: the `Assistant` built from configuration as in production (IMAP over TLS trusting the
   server's certificate, SMTP, a real store with fsync). Its cycle is timed in its two parts:
   ``intake.poll`` (list, fetch, parse, store, MOVE to Processed) and ``runner.run_due`` (render
   and send each acknowledgement, one SMTP session each, and record it as sent). The poll's time
   is also split: reading the mailbox (``pending``: list and fetch), moving the messages to
   Processed, and the rest (parse, decide, store); next to it, ``parse_s`` is
   `mail.parse.parse_message` alone over the same bytes, the floor of any intake in Python.
3. Latency: the assistant's own ``_listen`` loop (IMAP IDLE; each change runs a whole cycle, the
   runner included), while another connection appends 100 more messages at about 5 a second. Each
   sample is the time from the end of its APPEND to its acknowledgement's DATA reaching the SMTP
   server.

``--profile FILE`` also runs the intake of the burst under cProfile, writes the stats to FILE
and prints the top functions to stderr (the JSON on stdout is unchanged).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import logging
import os
import platform
import pstats
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from imap_tools import MailBox

from bot.app import Assistant, freeze_start_up
from bot.config import Config, local_config
from mail.parse import parse_message
from mail.settings import ImapMailbox, SmtpOutbox
from store.store import Store
from tests.servers.dovecot import INSTALL_HINT, Dovecot, dovecot_binary
from tests.servers.smtp import Recorder, SmtpServer

MESSAGES = 2_000
LATE_MESSAGES = 100
LATE_PER_SECOND = 5.0
RATIO_TARGET = 1.5
P95_TARGET_MS = 2_000
USER = "complaints"
PASSWORD_ENV = "BENCH_IMAP_PASSWORD"
FROM_ADDRESS = "complaints@northshire-trust.example"
EXAMPLES = Path(__file__).resolve().parents[1] / "bot" / "examples"
# Where each sample's varied sentence goes: before a line its plain-text part has once.
_BEFORE = (b"\nYours faithfully,", b"\nThank you,\n", b"\nPlease reply by email.")
_MESSAGE_ID = re.compile(rb"^Message-ID: .*$", re.MULTILINE | re.IGNORECASE)
_ADDRESS = re.compile(rb"^((?:From|Return-Path):[^\n]*<)([^@>]+)(@[^>]+>)", re.MULTILINE)
_SUBJECT = re.compile(rb"^(Subject: [^\n]*)$", re.MULTILINE)
_SUBJECT_TAILS = ("", " - please respond", " (second attempt)", " - urgent", " [formal complaint]")
_WARDS = ("Larch", "Rowan", "Hazel", "Willow", "Aspen", "Cedar", "Maple", "Birch")
_MONTHS = ("August", "September", "October", "November")


# --- the messages -----------------------------------------------------------------------------


def samples() -> list[bytes]:
    found = sorted(EXAMPLES.glob("*.eml"))
    assert len(found) == len(_BEFORE), f"expected {len(_BEFORE)} sample complaints, found {found}"
    return [path.read_bytes() for path in found]


def make_message(bases: list[bytes], n: int) -> bytes:
    """Sample n % 3 as sender n: its own Message-ID and address, a varied subject and body."""
    kind = n % len(bases)
    data = _MESSAGE_ID.sub(f"Message-ID: <bench-{n:05d}.{kind}@mail.example.org>".encode(), bases[kind], 1)
    data = _ADDRESS.sub(lambda m: m[1] + m[2] + f".{n}".encode() + m[3], data)
    data = _SUBJECT.sub(lambda m: m[1] + _SUBJECT_TAILS[n % len(_SUBJECT_TAILS)].encode(), data, 1)
    ward, month = _WARDS[n % len(_WARDS)], _MONTHS[n % len(_MONTHS)]
    sentence = (  # short ASCII lines without "=": valid inside the quoted-printable sample too
        f"\nSince then, {1 + n % 9} more things have gone wrong on {ward} Ward,\n"
        f"most recently on {1 + n % 28} {month} 2026 (my note {n:05d}).\n"
    ).encode()
    marker = _BEFORE[kind]
    assert marker in data
    return data.replace(marker, sentence + marker, 1)


def sender(n: int, bases: list[bytes]) -> str:
    """The address the acknowledgement of message n goes to (case-folded)."""
    found = _ADDRESS.search(make_message(bases, n))
    assert found
    return (found[2] + found[3][:-1]).decode().casefold()


def append_all(dovecot: Dovecot, messages: list[bytes]) -> float:
    started = time.perf_counter()
    with dovecot.client(USER) as box:
        for data in messages:
            box.append(data, "INBOX")
    return time.perf_counter() - started


# --- the servers ------------------------------------------------------------------------------


class TimedRecorder(Recorder):
    """The test SMTP server's recorder, also noting when each message's DATA arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.arrivals: list[tuple[float, tuple[str, ...]]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        reply = await super().handle_DATA(server, session, envelope)
        with self._lock:
            self.arrivals.append((time.monotonic(), tuple(envelope.rcpt_tos)))
        return reply

    def arrived(self) -> list[tuple[float, tuple[str, ...]]]:
        with self._lock:
            return list(self.arrivals)


@contextmanager
def servers(root: Path) -> Iterator[tuple[Dovecot, SmtpServer, TimedRecorder]]:
    binary = dovecot_binary()
    if binary is None:
        raise SystemExit(INSTALL_HINT)
    dovecot_root = root / "dovecot"
    dovecot_root.mkdir()
    dovecot = Dovecot(binary, dovecot_root)
    smtp = SmtpServer("none")
    recorder = TimedRecorder()
    smtp.recorder = recorder  # before start: the controller is built with it
    try:
        dovecot.start()
        smtp.start()
        yield dovecot, smtp, recorder
    finally:
        smtp.stop()
        dovecot.stop()


class Warnings(logging.Handler):
    """Counts the assistant's warnings and errors (and keeps them off stderr)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.seen: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        self.seen[f"{record.levelname} {record.name}: {record.msg}"] += 1


# --- the measurements -------------------------------------------------------------------------


def raw_fetch(dovecot: Dovecot) -> dict[str, Any]:
    """imap-tools over TLS, bodies with BODY.PEEK so nothing changes: per message, then in bulk."""
    with MailBox(dovecot.host, dovecot.tls_port, ssl_context=dovecot.ssl_context()) as box:
        box.login(USER, dovecot.password, initial_folder="INBOX")
        warm = sum(1 for _ in box.fetch(mark_seen=False, bulk=True))
        timings: dict[str, Any] = {}
        for name, bulk in (("per_message", False), ("bulk", True)):
            started = time.perf_counter()
            count = sum(1 for _ in box.fetch(mark_seen=False, bulk=bulk))
            seconds = time.perf_counter() - started
            assert count == warm == MESSAGES, (count, warm)
            timings[f"{name}_s"] = round(seconds, 3)
            timings[f"{name}_rate"] = round(count / seconds, 1)
    return timings


def bench_config(root: Path, dovecot: Dovecot, smtp: SmtpServer) -> Config:
    config = local_config(root / "data")
    mailbox = ImapMailbox(
        kind="imap",
        host=dovecot.host,
        port=dovecot.tls_port,
        username=USER,
        password_env=PASSWORD_ENV,
        ca_file=dovecot.cert_path,
        use_idle=True,
    )
    outbox = SmtpOutbox(
        kind="smtp",
        host=smtp.host,
        port=smtp.port,
        security="none",
        from_address=FROM_ADDRESS,
        from_name="Northshire Hospitals Complaints Team",
    )
    return config.model_copy(update={"mailbox": mailbox, "outbox": outbox})


def case_count(store: Store) -> int:
    return sum(1 for summary in store.summaries() if summary.stream.startswith("JC-"))


class Stopwatch:
    """Adds up the time spent in the methods it wraps (a measurement, not a change of behaviour)."""

    def __init__(self) -> None:
        self.seconds: Counter[str] = Counter()

    def wrap(self, owner: Any, name: str) -> None:
        method = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - started

        setattr(owner, name, timed)


async def intake_burst(assistant: Assistant, recorder: TimedRecorder, profile: Path | None) -> dict[str, Any]:
    """The cycle, in its two parts, until every message of the burst is a case."""
    watch = Stopwatch()
    for name in ("pending", "mark_processed"):
        watch.wrap(assistant.inbox, name)
    intake_s = acks_s = 0.0
    outcomes: Counter[str] = Counter()
    cycles = 0
    profiler = cProfile.Profile() if profile else None
    while case_count(assistant.service.store) < MESSAGES and cycles < 5:
        cycles += 1
        now = assistant.clock()
        started = time.perf_counter()
        if profiler:  # in this thread: cProfile does not follow asyncio.to_thread
            taken = profiler.runcall(assistant.intake.poll, now)
        else:
            taken = await asyncio.to_thread(assistant.intake.poll, now)
        intake_s += time.perf_counter() - started
        outcomes.update(outcome.outcome for outcome in taken)
        started = time.perf_counter()
        await assistant.runner.run_due(now)
        acks_s += time.perf_counter() - started
    if profiler and profile:
        profiler.dump_stats(str(profile))
        report = io.StringIO()
        pstats.Stats(str(profile), stream=report).sort_stats("tottime").print_stats(25)
        pstats.Stats(str(profile), stream=report).sort_stats("cumulative").print_stats(40)
        print(report.getvalue(), file=sys.stderr)
    cases = case_count(assistant.service.store)
    sent = len(recorder.arrived())
    return {
        "cycles": cycles,
        "cases": cases,
        "outcomes": dict(outcomes),
        "intake": {
            "seconds": round(intake_s, 3),
            "rate": round(cases / intake_s, 1),
            "read_mailbox_s": round(watch.seconds["pending"], 3),
            "move_to_processed_s": round(watch.seconds["mark_processed"], 3),
            "parse_decide_store_s": round(intake_s - sum(watch.seconds.values()), 3),
        },
        "acknowledgements": {"sent": sent, "seconds": round(acks_s, 3), "rate": round(sent / acks_s, 1)},
    }


def paced_appends(dovecot: Dovecot, messages: list[bytes], appended: list[float]) -> None:
    """From another connection, at LATE_PER_SECOND: the load, not a measurement."""
    with dovecot.client(USER) as box:
        start = time.monotonic()
        for index, data in enumerate(messages):
            delay = start + index / LATE_PER_SECOND - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            box.append(data, "INBOX")
            appended.append(time.monotonic())  # the message is in the mailbox from here on


async def latency(
    assistant: Assistant, dovecot: Dovecot, recorder: TimedRecorder, bases: list[bytes]
) -> dict[str, Any]:
    numbers = range(MESSAGES, MESSAGES + LATE_MESSAGES)
    messages = [make_message(bases, n) for n in numbers]
    wanted = {sender(n, bases): i for i, n in enumerate(numbers)}
    before = len(recorder.arrived())
    stop = asyncio.Event()
    listening = asyncio.create_task(assistant._listen(stop))
    await asyncio.sleep(0.5)  # the first IDLE is under way
    appended: list[float] = []
    appender = asyncio.create_task(asyncio.to_thread(paced_appends, dovecot, messages, appended))
    deadline = time.monotonic() + LATE_MESSAGES / LATE_PER_SECOND + 30
    arrivals: dict[int, float] = {}
    while time.monotonic() < deadline:
        await asyncio.sleep(0.1)
        for at, recipients in recorder.arrived()[before:]:
            for address in recipients:
                if (index := wanted.get(address.casefold())) is not None:
                    arrivals.setdefault(index, at)
        if appender.done() and len(arrivals) == LATE_MESSAGES:
            break
    await appender
    stop.set()
    # Wake the IDLE so the loop sees `stop` now rather than when the IDLE times out.
    await asyncio.to_thread(dovecot.append, USER, make_message(bases, MESSAGES + LATE_MESSAGES))
    with suppress(TimeoutError):
        await asyncio.wait_for(listening, timeout=15)
    samples = [(arrivals[i] - appended[i]) * 1000 for i in sorted(arrivals)]
    result: dict[str, Any] = {"messages": LATE_MESSAGES, "acknowledged": len(samples)}
    if len(samples) >= 2:
        cuts = statistics.quantiles(samples, n=20)
        result |= {
            "p50": round(statistics.median(samples), 1),
            "p95": round(cuts[18], 1),
            "max": round(max(samples), 1),
            "over_2s": sum(1 for s in samples if s > P95_TARGET_MS),
        }
    return result


async def run(root: Path, profile: Path | None) -> dict[str, Any]:
    started = time.perf_counter()
    bases = samples()
    burst = [make_message(bases, n) for n in range(MESSAGES)]
    assert len({sender(n, bases) for n in range(MESSAGES)}) == MESSAGES
    with servers(root) as (dovecot, smtp, recorder):
        append_s = await asyncio.to_thread(append_all, dovecot, burst)
        started = time.perf_counter()
        for data in burst:
            parse_message(data)
        parse_s = time.perf_counter() - started
        raw = await asyncio.to_thread(raw_fetch, dovecot)
        config = bench_config(root, dovecot, smtp)
        store = Store.open(root / "store")
        assistant = Assistant(config, store, io.StringIO(), environ={PASSWORD_ENV: dovecot.password})
        freeze_start_up()  # as `run_forever` does
        try:
            burst_result = await intake_burst(assistant, recorder, profile)
            late = await latency(assistant, dovecot, recorder, bases)
        finally:
            await asyncio.to_thread(assistant.inbox.close)
            store.close()
    intake_s = burst_result["intake"]["seconds"]
    ratio = intake_s / raw["per_message_s"]
    ratio_bulk = intake_s / raw["bulk_s"]
    p95 = late.get("p95")
    return {
        "messages": MESSAGES,
        "append_s": round(append_s, 2),
        "raw_fetch": raw,
        "parse_s": round(parse_s, 3),
        "intake": burst_result["intake"],
        "acknowledgements": burst_result["acknowledgements"],
        "ratio_intake_to_raw": round(ratio, 2),
        "ratio_intake_to_bulk": round(ratio_bulk, 2),
        "arrival_to_smtp_ms": late,
        "burst": {k: burst_result[k] for k in ("cycles", "cases", "outcomes")},
        "targets": {
            "intake_at_most_1.5x_raw_fetch": {"value": round(ratio, 2), "ok": ratio <= RATIO_TARGET},
            "arrival_to_smtp_p95_under_2s": {
                "value": p95,
                "ok": p95 is not None
                and p95 < P95_TARGET_MS
                and late["acknowledged"] == LATE_MESSAGES,
            },
        },
        "total_s": round(time.perf_counter() - started, 1),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", type=Path, help="also profile the intake; stats to this file")
    args = parser.parse_args(argv)
    warnings = Warnings()
    jointly = logging.getLogger("jointly")
    jointly.addHandler(warnings)
    root = Path(tempfile.mkdtemp(prefix="jointly-bench-intake-", dir="/tmp"))
    root.chmod(0o711)  # Dovecot's processes (uid 5000 when run as root) must pass through
    try:
        result = asyncio.run(run(root, args.profile))
    finally:
        jointly.removeHandler(warnings)
        shutil.rmtree(root, ignore_errors=True)
    result["log_warnings"] = dict(warnings.seen)
    result["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version()}
    return result


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
