"""Accelerated time: the real assistant run through a simulated stretch of days.

The clock jumps from one moment to the next at which anything is due: a complaint arriving,
someone due to answer, the morning's reminders (08:05 London every day), or a fault beginning or
ending. Moments are gathered into half-hour slots, so a busy afternoon costs a few cycles, not one
per event, and a quiet night costs nothing. At each moment the mailbox gets what arrived and the
host process (`bench.sim.host`) runs the assistant's cycle (take in the mailbox, sweep the clocks,
send what is due over SMTP to the aiosmtpd server here), then lets the people on the cases that
changed, or whose turn has come, answer. The emails the people write (`bench.sim.emails`: replies,
complaints made again, organisations answering by email) come back with the moment and are
delivered to the mailbox at their own moments, each Message-ID once, as the complaints are.

Faults (`record.Fault`), at seeded moments: the assistant stopped and started again a day later
(across deadlines); the host killed with SIGKILL inside a store flush, or between the SMTP
server taking a letter and its being recorded as sent, and started again at once; the SMTP
server down for hours, refusing every letter with 451 for a while, or for an hour with 550 (a
relay misconfigured: each letter refused for good, put to the handlers, who send it again); and
the clock set back an hour for a moment.
"""

from __future__ import annotations

import email
import heapq
import logging
import os
import random
import shutil
import tempfile
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email.header import decode_header, make_header
from email.message import Message
from pathlib import Path

from bench.sim.emails import Outgoing, Sent, complaint_text
from bench.sim.host import TALLIES, Chat, Crashed, Host
from bench.sim.people import NEVER
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
from bot.config import Config, load_config
from mail.maildir import MaildirInbox
from tests.servers.dovecot import INSTALL_HINT, Dovecot, dovecot_binary
from tests.servers.smtp import SmtpServer

log = logging.getLogger("jointly.sim")


IMAP_USER, IMAP_PASSWORD_ENV = "complaints", "JOINTLY_SIM_IMAP_PASSWORD"


def imap_server() -> Dovecot:
    """A private Dovecot, started; the host processes read the password from the environment."""
    binary = dovecot_binary()
    if binary is None:
        raise SystemExit(INSTALL_HINT)
    server = Dovecot(binary, Path(tempfile.mkdtemp(prefix="jointly-sim-dovecot-")))
    server.start()
    os.environ[IMAP_PASSWORD_ENV] = server.password
    return server


def imap_settings(server: Dovecot) -> str:
    return "\n".join(
        (
            'kind = "imap"',
            f'host = "{server.host}"',
            f"port = {server.tls_port}",
            f'ca_file = "{server.cert_path}"',
            f'username = "{IMAP_USER}"',
            f'password_env = "{IMAP_PASSWORD_ENV}"',
            "use_idle = false",
        )
    )


class ImapDelivery:
    """The mail server's side of the mailbox: each message appended to the inbox with its time."""

    def __init__(self, server: Dovecot) -> None:
        self.server = server

    def deliver(self, raw: bytes, when: datetime) -> None:
        self.server.append(IMAP_USER, raw, when=when)


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
    imap: bool = False  # the mailbox on a real Dovecot (`tests.servers.dovecot`), not a Maildir

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
    kinds = (
        ("restart", 2, 30), ("smtp_down", 2, 5), ("smtp_4xx", 2, 3), ("smtp_5xx", 2, 1), ("clock_back", 1, 1),
        ("kill_batch", 2, 0), ("kill_sent", 2, 0), *((("kill_imap", 2, 0),) if plan.imap else ()),
    )  # fmt: skip
    for kind, count, hours in kinds:
        for day in rng.sample(days, min(count, len(days))):
            start = at(day, rng.choice((9, 11, 13, 15)))
            found.append(Fault(kind, start, start + timedelta(hours=hours)))
    return sorted(found, key=lambda f: f.start)


KILLS = {"kill_batch": "batch", "kill_sent": "sent", "kill_imap": "imap"}  # fault -> the host's crash point


@dataclass
class Tallies:
    """The people's tallies over every host's lifetime (`bench.sim.host.TALLIES`)."""

    done: dict[str, Counter[str]] = field(default_factory=lambda: {name: Counter() for name in TALLIES})
    lifetime: dict[str, Counter[str]] = field(default_factory=dict)  # the running host's

    def close_lifetime(self) -> None:
        for name, tally in self.lifetime.items():
            self.done[name].update(tally)
        self.lifetime = {}

    def __getattr__(self, name: str) -> Counter[str]:
        if name not in TALLIES:
            raise AttributeError(name)
        return self.done[name] + self.lifetime.get(name, Counter())


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
        self.dovecot = imap_server() if self.plan.imap else None
        mailbox = imap_settings(self.dovecot) if self.dovecot else ""
        (self.root / "config.toml").write_text(config_toml(str(self.data), self.smtp.port or 0, mailbox))
        self.config: Config = load_config(self.root / "config.toml")
        self.inbox: MaildirInbox | ImapDelivery = (
            ImapDelivery(self.dovecot) if self.dovecot else MaildirInbox(self.data / "inbox")
        )
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
        self.ids_sent = 0  # letters whose Message-IDs the host has been given
        self.mail: list[tuple[datetime, int, Outgoing]] = []  # the people's emails, to deliver in time
        self.mailed: set[str] = set()  # their Message-IDs: one decided again is delivered once
        self.mail_moments: list[datetime] = []  # when the emails written in the last moment go
        self.people = Tallies()
        self.armed: set[Fault] = set()
        self.armed_point = ""  # the crash armed in the running host, until it kills it
        self.slowest = 0.0  # seconds, the longest moment
        self.busiest = (0.0, "")  # seconds, and the simulated day that took them
        self.chat = Chat()  # the whole run's answers given while a cycle ran
        self.busiest_chat = Chat()  # the busiest day's
        self._day_chat = Chat()
        self._day_began = time.perf_counter()
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
        pending = deque(enumerate(self.arrive))  # (n, when), in order
        host: Host | None = None
        now, wake = self.clock.now, NEVER
        try:
            while True:
                now = min(moments[0] if moments else self.record.end, wake if wake > now else self.record.end)
                if now >= self.record.end:
                    break
                while moments and moments[0] <= now:
                    heapq.heappop(moments)
                while pending and pending[0][1] <= now:
                    n, when = pending.popleft()
                    self._deliver(n, when)
                while self.mail and self.mail[0][0] <= now:
                    self._deliver_mail(heapq.heappop(self.mail)[2])
                down = self._faults(now)
                if "restart" in down:  # stopped: nothing runs until it is started again
                    if host is not None:
                        host.stop()
                        host, self.armed_point = None, ""  # a crash not reached goes with it
                        self.people.close_lifetime()
                    continue
                if host is None:  # started again: a new process, with no memory but the store
                    host, self.ids_sent = Host(self.root / "config.toml", self.plan.seed), 0
                self.clock.now = now - timedelta(hours=1) if "clock_back" in down else now
                host, wake = self._moment(host, self.clock.now, self._crash(now))
                while self.mail_moments:  # each of the people's new emails is delivered at its moment
                    heapq.heappush(moments, slot(self.mail_moments.pop()))
                if now.date() != self._day:
                    self._day_done(now.date())
        finally:
            if host is not None:
                host.stop()
            self.smtp.stop()
            if self.dovecot is not None:
                self.dovecot.stop()
                shutil.rmtree(self.dovecot.root, ignore_errors=True)
        self._collect_letters()
        return self.record

    def _day_done(self, next_day: date) -> None:
        """The simulated day is over: keep its wall time, and its chat figures if it was the busiest."""
        took, self._day_began = round(time.perf_counter() - self._day_began, 2), time.perf_counter()
        if (took, self._day.isoformat()) > self.busiest:
            self.busiest, self.busiest_chat = (took, self._day.isoformat()), self._day_chat
        self._day_chat, self._day = Chat(), next_day
        log.info("%s: %d cycles, %d letters", self._day, len(self.record.cycles), self.letters_seen)

    def _moment(self, host: Host, now: datetime, crash: str) -> tuple[Host, datetime]:
        """Run the moment on `host`; when a crash kills it, on a new host, from the start again."""
        began = time.perf_counter()
        while True:
            self._collect_letters()
            new = self.record.letters[self.ids_sent :]
            ids = [Sent(x.message_id, x.to, x.subject, x.reply_to) for x in new]
            self.ids_sent = len(self.record.letters)
            try:
                if crash in KILLS.values():  # the host dies there ("imap:<pid>" kills the IMAP server)
                    self.armed_point = crash
                cycles, wake, tallies, chat, written = host.moment(now, ids, crash)
                break
            except Crashed as crashed:
                self.record.cycles.extend(crashed.args[0])
                killed = Fault(f"killed_{self.armed_point}", now, now, "SIGKILL, then started again")
                self.record.faults.append(killed)
                self.people.close_lifetime()
                host, self.ids_sent, crash = Host(self.root / "config.toml", self.plan.seed), 0, ""
                self.armed_point = ""
        self.record.cycles.extend(cycles)
        self._post(written)
        if self.dovecot is not None and not self.dovecot.running:  # killed mid-fetch: started again
            self.record.faults.append(Fault("killed_imap", now, now, "SIGKILL mid-fetch, then started again"))
            self.dovecot.start()
        self.people.lifetime = tallies
        self.chat.add(chat)
        self._day_chat.add(chat)
        self.slowest = max(self.slowest, time.perf_counter() - began)
        return host, wake

    def _crash(self, now: datetime) -> str:
        """The crash point to arm now: a kill fault that begins in this moment's slot."""
        for fault in self.record.faults:
            if fault.kind in KILLS and fault.start <= now and fault not in self.armed:
                self.armed.add(fault)
                if fault.kind == "kill_imap":  # the IMAP server, not the host, dies
                    assert self.dovecot is not None and self.dovecot.pid is not None
                    return f"imap:{self.dovecot.pid}"
                return KILLS[fault.kind]
        return ""

    def _faults(self, now: datetime) -> set[str]:
        """Start or end each fault at `now`; the kinds in force."""
        kinds = {f.kind for f in self.record.faults if f.start <= now < f.end}
        if "smtp_down" in kinds and self.smtp.running:
            self.smtp.stop()
        elif "smtp_down" not in kinds and not self.smtp.running:
            self.smtp.start()
        refusal = 451 if "smtp_4xx" in kinds else 550 if "smtp_5xx" in kinds else None
        self.smtp.refuse_recipients(refusal, "relaying denied" if refusal == 550 else None)
        return kinds

    def _deliver(self, n: int, when: datetime) -> None:
        t = truth(self.plan.seed, n)
        names = ", ".join(o for o in t.orgs)
        text = complaint_text(t, names)
        raw = (
            f"From: Person {n} <{complainant(n)}>\r\nTo: complaints@moorland-trust.example\r\n"
            f"Subject: My complaint about my care\r\nMessage-ID: {complaint_id(n)}\r\n"
            f"Date: {email.utils.format_datetime(when)}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            f"{text}\r\n"
        ).encode()
        self.inbox.deliver(raw, when)
        self.record.arrivals.append(Arrival(complaint_id(n), complainant(n), when, n, "complaint"))

    def _post(self, written: list[Outgoing]) -> None:
        """The people's emails, to be delivered at their time; one written again, once."""
        for mail in written:
            if mail.arrival.message_id not in self.mailed:
                self.mailed.add(mail.arrival.message_id)
                heapq.heappush(self.mail, (mail.when, len(self.mailed), mail))
                self.mail_moments.append(mail.when)

    def _deliver_mail(self, mail: Outgoing) -> None:
        """Deliver one of the people's emails, as `_deliver` does a complaint."""
        self.inbox.deliver(mail.raw, mail.when)
        self.record.arrivals.append(mail.arrival)

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
                    reply_to=str(message["Reply-To"] or ""),
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
