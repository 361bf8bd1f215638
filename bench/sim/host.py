"""The assistant and the simulated people, in a process of their own, so that a fault can kill it.

The driver keeps the clock, the mailbox's deliveries, the SMTP server and the record. For each
moment it sends the host ``("moment", now, ids, crash)``: the time, the Message-IDs the SMTP
server took since the last moment (the sent mail the handlers may look in), and a crash to arm.
The host runs the moment (a cycle of the real assistant, the people's answers, a cycle more for
what they queued), telling each finished cycle as ``("cycle", at)``, then ``("done", wake,
counts)``: when someone is next due to act, and the people's tallies so far.

An armed crash sends SIGKILL to the host itself the next time the assistant reaches its point:

- ``batch``: inside a store flush, the stream files renamed into place and their index entries
  not yet journaled (`store.store.fsync_dir`);
- ``sent``: the SMTP server has just accepted a letter, and it is not yet recorded as sent
  (`bot.sending.Sending.sent`).

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
from datetime import datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import store.store
from bench.sim.people import People
from bot import sending
from bot.app import Assistant
from bot.config import load_config
from store.store import Store

TALLIES = ("answered", "stuck", "unknown", "refused")  # the people's, as `People` keeps them
CRASH_POINTS = {"batch": (store.store, "fsync_dir"), "sent": (sending.Sending, "sent")}


class Crashed(Exception):
    """The host died (SIGKILL, or any other way) before the moment was done."""


def arm(point: str) -> None:
    """Die by SIGKILL the next time the assistant reaches `point` (see the module docstring)."""
    owner, name = CRASH_POINTS[point]

    def die(*args: Any, **kwargs: Any) -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    setattr(owner, name, die)


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
            people.sent_ids.update(ids)
            if crash:
                arm(crash)
            asyncio.run(moment(conn, assistant, people, feed, now, first))
            first = set()
            conn.send(("done", people.next_wake_slot(), counts(people)))


async def moment(
    conn: Connection, assistant: Assistant, people: People, feed: Any, now: datetime, also: set[str]
) -> None:
    """A cycle; the people on the cases it changed (and on `also`) answer; a cycle for what they queued."""
    await assistant.cycle()
    conn.send(("cycle", now))
    if people.act(assistant.service, feed() | also, now):
        await assistant.cycle()
        conn.send(("cycle", now))
        people.act(assistant.service, feed(), now)


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
        self, now: datetime, ids: list[str], crash: str
    ) -> tuple[list[datetime], datetime, dict[str, Counter[str]]]:
        """Run one moment: the cycles that finished, when someone is next due, the people's
        tallies. `Crashed` (with the cycles that finished before it) when the host died."""
        self.conn.send(("moment", now, ids, crash))
        cycles: list[datetime] = []
        try:
            while True:
                reply = self.conn.recv()
                if reply[0] == "cycle":
                    cycles.append(reply[1])
                else:
                    return cycles, reply[1], reply[2]
        except EOFError:
            self.process.join()
            raise Crashed(cycles) from None

    def stop(self) -> None:
        self.conn.send(("stop",))
        self.conn.recv()
        self.process.join()
        self.conn.close()
