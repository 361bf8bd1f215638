"""Accelerated time: the real assistant run through a simulated stretch of days.

The clock jumps from one moment to the next at which anything is due: a complaint arriving,
someone due to answer, the morning's reminders (08:05 London every day), or a fault beginning or
ending. Moments are gathered into half-hour slots, so a busy afternoon costs a few cycles, not one
per event, and a quiet night costs nothing. At each moment the mailbox gets what arrived, the
assistant runs one cycle (take in the mailbox, sweep the clocks, send what is due over SMTP), and
the people on the cases that changed, or whose turn has come, answer; when they did, a second
cycle sends what their answers queued.

Faults (`Fault`): the assistant stopped and started again later (across a deadline), the SMTP
server down for hours, or refusing every letter with 451 for a while, and the clock set back an
hour (the autumn change) for one moment.
"""

from __future__ import annotations

import email
import heapq
import io
import logging
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email.header import decode_header, make_header
from email.message import Message
from pathlib import Path

from bench.sim.people import People
from bench.sim.record import Arrival, Fault, Letter, Record
from bench.sim.world import (
    HOME,
    arrivals,
    at,
    complainant,
    complaint_id,
    config_toml,
    organisations,
    slot,
    truth,
)
from bot.app import Assistant
from bot.config import Config, load_config
from mail.maildir import MaildirInbox
from store.store import Store
from tests.servers.smtp import SmtpServer

log = logging.getLogger("jointly.sim")


class SimClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Plan:
    """What a run simulates."""

    seed: int = 1
    start: date = date(2026, 4, 1)
    days: int = 365
    complaints: int = 5000
    faults: bool = True

    @property
    def end(self) -> date:
        return self.start + timedelta(days=self.days)


def fault_plan(plan: Plan) -> list[Fault]:
    """Seeded faults: a few of each kind, spread over the run."""
    if not plan.faults:
        return []
    rng = random.Random(f"{plan.seed}/faults")
    days = [plan.start + timedelta(days=d) for d in range(7, plan.days - 7)]
    found = []
    kinds = (("restart", 2, 30), ("smtp_down", 2, 5), ("smtp_4xx", 2, 3), ("clock_back", 1, 1))
    for kind, count, hours in kinds:
        for day in rng.sample(days, min(count, len(days))):
            start = at(day, rng.choice((9, 11, 13, 15)))
            found.append(Fault(kind, start, start + timedelta(hours=hours)))
    return sorted(found, key=lambda f: f.start)


@dataclass
class Sim:
    plan: Plan
    root: Path
    smtp: SmtpServer = field(init=False)
    record: Record = field(init=False)

    def __post_init__(self) -> None:
        self.smtp = SmtpServer("none")
        self.smtp.start()
        self.data = self.root / "var"
        (self.root / "config.toml").write_text(config_toml(str(self.data), self.smtp.port or 0))
        self.config: Config = load_config(self.root / "config.toml")
        self.inbox = MaildirInbox(self.data / "inbox")
        self.clock = SimClock(at(self.plan.start, 8))
        org_emails = {
            o.id: {f"complaints@{o.domain}"}
            | {p.email.lower() for p in self.config.people if p.organisation == o.id and p.email}
            for o in organisations()
        }
        self.arrive = arrivals(self.plan.seed, self.plan.start, self.plan.end, self.plan.complaints)
        self.record = Record(
            start=at(self.plan.start, 0),
            end=at(self.plan.end, 0),
            store_dir=self.config.store_dir,
            home=HOME,
            org_emails=org_emails,
            complainants={n: complainant(n) for n in range(len(self.arrive))},
            faults=fault_plan(self.plan),
        )
        self.letters_seen = 0
        self.answered: Counter[str] = Counter()  # across restarts
        self.slowest = 0.0  # seconds, the longest moment
        self._day = self.plan.start

    async def run(self) -> Record:
        moments: list[datetime] = [slot(a) for a in self.arrive]
        day = self.plan.start
        while day < self.plan.end:
            moments.append(at(day, 8, 5))
            day += timedelta(days=1)
        for fault in self.record.faults:
            moments += [slot(fault.start), slot(fault.end)]
        heapq.heapify(moments)
        pending = list(enumerate(self.arrive))  # (n, when), in order
        store: Store | None = Store.open(self.config.store_dir)
        assistant, people = self._start(store)
        now = self.clock.now
        try:
            while True:
                wake = people.next_wake_slot()
                now = min(moments[0] if moments else self.record.end, wake if wake > now else self.record.end)
                if now >= self.record.end:
                    break
                while moments and moments[0] <= now:
                    heapq.heappop(moments)
                while pending and pending[0][1] <= now:
                    n, when = pending.pop(0)
                    self._deliver(n, when)
                down = self._faults(now)
                if "restart" in down:
                    if store is not None:
                        store.close()
                        store = None
                    continue
                if store is None:  # back after a stop: a new process, with no memory but the store
                    store = Store.open(self.config.store_dir)
                    assistant, people = self._start(store)
                self.clock.now = now - timedelta(hours=1) if "clock_back" in down else now
                await self._moment(assistant, people, self.clock.now)
                if now.date() != self._day:
                    self._day = now.date()
                    cycles, letters = len(self.record.cycles), self.letters_seen
                    log.info("%s: %d cycles, %d letters", self._day, cycles, letters)
        finally:
            if store is not None:
                store.close()
            self.smtp.stop()
        self._collect_letters()
        return self.record

    def _start(self, store: Store) -> tuple[Assistant, People]:
        assistant = Assistant(self.config, store, io.StringIO(), clock=self.clock)
        self.people = People(self.config, self.plan.seed, answered=self.answered)
        self.feed = assistant.service.feed()
        return assistant, self.people

    async def _moment(self, assistant: Assistant, people: People, now: datetime) -> None:
        began = time.perf_counter()
        await self._cycles(assistant, people, now)
        self.slowest = max(self.slowest, time.perf_counter() - began)

    async def _cycles(self, assistant: Assistant, people: People, now: datetime) -> None:
        await assistant.cycle()
        self.record.cycles.append(now)
        self._collect_letters()
        people.sent_ids = {letter.message_id for letter in self.record.letters}
        if people.act(assistant.service, self.feed(), now):
            await assistant.cycle()
            self.record.cycles.append(now)
            people.act(assistant.service, self.feed(), now)

    def _faults(self, now: datetime) -> set[str]:
        """Start or end each fault at `now`; the kinds in force."""
        kinds = {f.kind for f in self.record.faults if f.start <= now < f.end}
        if "smtp_down" in kinds and self.smtp.running:
            self.smtp.stop()
        elif "smtp_down" not in kinds and not self.smtp.running:
            self.smtp.start()
        self.smtp.refuse_recipients(451 if "smtp_4xx" in kinds else None)
        return kinds

    def _deliver(self, n: int, when: datetime) -> None:
        t = truth(self.plan.seed, n)
        names = ", ".join(o for o in t.orgs)
        raw = (
            f"From: Person {n} <{complainant(n)}>\r\nTo: complaints@moorland-trust.example\r\n"
            f"Subject: My complaint about my care\r\nMessage-ID: {complaint_id(n)}\r\n"
            f"Date: {email.utils.format_datetime(when)}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            f"I am complaining about the care I had from {names}. Nobody took responsibility.\r\n"
        ).encode()
        self.inbox.deliver(raw, when)
        self.record.arrivals.append(Arrival(complaint_id(n), complainant(n), when, n, "complaint"))

    def _collect_letters(self) -> None:
        received = self.smtp.received
        for order in range(self.letters_seen, len(received)):
            got = received[order]
            message = email.message_from_bytes(got.data)  # compat32: a tenth of the default's time
            self.record.letters.append(
                Letter(
                    message_id=str(message["Message-ID"]),
                    to=tuple(a.lower() for a in got.rcpt_tos),
                    subject=str(make_header(decode_header(str(message["Subject"])))),
                    sent=email.utils.parsedate_to_datetime(str(message["Date"])),
                    text=_plain(message),
                    order=order,
                )
            )
        self.letters_seen = len(received)


def _plain(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    return ""
