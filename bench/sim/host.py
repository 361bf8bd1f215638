"""The assistant and the simulated people, in a process of their own, so that a fault can kill it.

The driver keeps the clock, the mailbox's deliveries, the SMTP server and the record. For each
moment it sends the host ``("moment", now, ids, crash)``: the time, the letters the SMTP server
took since the last moment (`bench.sim.emails.Sent`: the sent mail the handlers may look in, and
what the people got and may reply to), and a crash to arm.
The host runs the moment (a cycle of the real assistant, the people's answers, a cycle more for
what they queued), telling each finished cycle as ``("cycle", at)``, then ``("done", wake,
counts, chat, emails)``: when someone is next due to act, the people's tallies so far, how the
answers given while a cycle ran fared (their seconds, and the loop's longest stall), and the
emails the people wrote (`bench.sim.emails.Outgoing`), for the driver to deliver at their time.

An armed crash sends SIGKILL to the host itself the next time the assistant reaches its point:

- ``batch``: inside a store flush, the stream files renamed into place and their index entries
  not yet journaled (`store.store.fsync_dir`);
- ``sent``: the SMTP server has just accepted a letter, and it is not yet recorded as sent
  (`bot.sending.Sending.sent`);
- ``imap:<pid>``: the IMAP server (`--imap`) is killed instead, just after the assistant fetched
  messages and before it filed them (`mail.imap._bodies`); the host lives on, and the driver
  starts the server again after the moment.

The driver sees the host's end of the pipe close, starts a new host on the same store, and runs
the moment again. Like a restarted service, a new host remembers nothing but the store.
"""

from __future__ import annotations

import asyncio
import io
import logging
import multiprocessing
import os
import signal
from collections import Counter
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import mail.imap
import store.store
from bench.common import PROBE_SLEEP, lag_probe, percentile
from bench.sim.emails import Outgoing, Sent
from bench.sim.people import People
from bot import sending
from bot.app import Assistant, freeze_start_up
from bot.config import load_config
from store.store import Store

TALLIES = ("answered", "stuck", "unknown", "refused", "email")  # the people's, as `People` keeps them
CRASH_POINTS = {
    "batch": (store.store, "fsync_dir"),
    "sent": (sending.Sending, "sent"),
    "imap": (mail.imap, "_bodies"),
}


class Crashed(Exception):
    """The host died (SIGKILL, or any other way) before the moment was done."""


def arm(point: str) -> None:
    """Die by SIGKILL the next time the assistant reaches `point` (see the module docstring); for
    ``imap:<pid>``, kill the IMAP server's process group instead, once, just after the assistant
    has fetched messages' bodies and before it files them."""
    kind, _, pid = point.partition(":")
    owner, name = CRASH_POINTS[kind]
    original = getattr(owner, name)

    def die(*args: Any, **kwargs: Any) -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    def kill_imap(*args: Any, **kwargs: Any) -> Any:
        fetched = original(*args, **kwargs)
        setattr(owner, name, original)
        os.killpg(int(pid), signal.SIGKILL)
        return fetched

    setattr(owner, name, kill_imap if kind == "imap" else die)


class Clock:
    def __init__(self) -> None:
        self.now = datetime.min

    def __call__(self) -> datetime:
        return self.now


def serve(conn: Connection, config_path: Path, seed: int) -> None:
    """The host process: open the store, then run each moment the driver sends until "stop". Its
    log goes to host.log beside the configuration (SMTP refusals and the like are expected)."""
    logging.basicConfig(filename=config_path.parent / "host.log", level=logging.WARNING)
    config = load_config(config_path)
    clock = Clock()
    with Store.open(config.store_dir) as opened:
        assistant = Assistant(config, opened, io.StringIO(), clock=clock)
        freeze_start_up()  # as `run_forever` does
        people = People(config, seed)
        feed = assistant.service.feed()
        summaries = opened.summaries()  # started: everyone looks at every open case once
        first = {s.stream for s in summaries if s.summary.get("open") and s.stream.startswith("JC-")}
        while True:
            message = conn.recv()
            if message[0] == "stop":
                conn.send(("stopped",))
                return
            _, now, ids, crash = message
            clock.now = now
            people.took(ids)
            if crash:
                arm(crash)
            chat = asyncio.run(moment(conn, assistant, people, feed, now, first))
            first = set()
            conn.send(("done", people.next_wake_slot(), counts(people), chat, people.written()))


async def moment(
    conn: Connection, assistant: Assistant, people: People, feed: Any, now: datetime, also: set[str]
) -> Chat:
    """A cycle, while the people whose turn has come (and those on `also`) answer, as chat answers
    arrive during a sweep; then the people on the cases it changed answer; and a cycle for what
    they queued. How the answers given during the first cycle fared is measured (`Chat`)."""
    chat = Chat()
    people.answer_s.clear()
    await chat.during(assistant.cycle(), asyncio.to_thread(people.act, assistant.service, also, now))
    chat.took = list(people.answer_s)
    conn.send(("cycle", now))
    if people.act(assistant.service, feed(), now) or chat.took:
        await chat.during(assistant.cycle())
        conn.send(("cycle", now))
        people.act(assistant.service, feed(), now)
    return chat


@dataclass
class Chat:
    """How the chat fares while cycles run: each answer's seconds from being given to its decision
    kept, and the event loop's longest late wake-up (`bench.common.lag_probe`). A moment's, or the
    sum of several (`add`)."""

    took: list[float] = field(default_factory=list)
    lag: float = 0.0

    async def during(self, *work: Awaitable[Any]) -> None:
        """Run `work` together, probing the loop meanwhile."""
        stop, lags = asyncio.Event(), list[float]()
        probe = asyncio.ensure_future(lag_probe(stop, lags))
        try:
            await asyncio.gather(*work)
        finally:
            stop.set()
            await probe
        self.lag = max(self.lag, *lags, 0.0)

    def add(self, other: Chat) -> None:
        self.took += other.took
        self.lag = max(self.lag, other.lag)

    def plain(self) -> dict[str, float]:
        return {
            "answers": len(self.took),
            "p50_ms": round(percentile(self.took, 0.5) * 1000, 1),
            "p95_ms": round(percentile(self.took, 0.95) * 1000, 1),
            "max_ms": round(max(self.took, default=0) * 1000, 1),
            "loop_blocked_ms": round((self.lag + PROBE_SLEEP) * 1000, 1),
        }


def counts(people: People) -> dict[str, Counter[str]]:
    return {name: getattr(people, name) for name in TALLIES}


class Host:
    """The driver's handle on a host process."""

    def __init__(self, config_path: Path, seed: int) -> None:
        context = multiprocessing.get_context("spawn")  # no threads of the driver's come along
        self.conn, theirs = context.Pipe()
        self.process = context.Process(target=serve, args=(theirs, config_path, seed), daemon=True)
        self.process.start()
        theirs.close()

    def moment(
        self, now: datetime, ids: list[Sent], crash: str
    ) -> tuple[list[datetime], datetime, dict[str, Counter[str]], Chat, list[Outgoing]]:
        """Run one moment: the cycles that finished, when someone is next due, the people's
        tallies, how the chat fared (`Chat`), and the emails the people wrote. `Crashed`
        (with the cycles that finished before it) when the host died."""
        self.conn.send(("moment", now, ids, crash))
        cycles: list[datetime] = []
        try:
            while True:
                reply = self.conn.recv()
                if reply[0] == "cycle":
                    cycles.append(reply[1])
                else:
                    return cycles, reply[1], reply[2], reply[3], reply[4]
        except EOFError:
            self.process.join()
            raise Crashed(cycles) from None

    def stop(self) -> None:
        self.conn.send(("stop",))
        self.conn.recv()
        self.process.join()
        self.conn.close()
