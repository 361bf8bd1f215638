"""Two replicas of the assistant on one PostgreSQL database: one leads (the mailbox, the sweep, the
outbox), the other takes over when it goes, and nothing is done twice.

Here both run in this process, each with its own handle on the database (its own sessions, as a
replica on another machine has), on one clock the test moves. tests/scenarios/test_replicas_kill.py
runs them as real processes and kills one.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

import pytest

from bot.config import Config, local_config
from flows.calendar import add_working_days
from mail.settings import SmtpOutbox
from store.ports import open_store
from tests.bot.support import Clock, complaint
from tests.scenarios.coordination import Day
from tests.scenarios.test_coordination import START, three_strands
from tests.servers.postgres import Postgres
from tests.servers.smtp import SmtpServer


@pytest.fixture
def config(tmp_path: Path, smtp_server: SmtpServer) -> Config:
    """Local mode (the Maildir inbox both replicas share), its letters sent to a real SMTP server
    where each one is counted as it arrives."""
    outbox = SmtpOutbox(
        kind="smtp",
        host=smtp_server.host,
        port=smtp_server.port,
        security="none",
        from_address="complaints@northshire-trust.example",
    )
    return local_config(tmp_path / "var").model_copy(update={"outbox": outbox})


async def test_two_replicas_across_a_deadline_send_each_reminder_once(
    config: Config, postgres_url: str, smtp_server: SmtpServer
) -> None:
    clock = Clock(START)
    first, second = open_store(postgres_url), open_store(postgres_url)
    try:
        one, two = Day.local(config, first, clock), Day.local(config, second, clock)
        ref, target = await three_strands(one)
        assert one.assistant.leading

        async def both_on(day: int) -> None:
            """That working day at 10:00, and both replicas' cycles at once."""
            clock.now = datetime.combine(add_working_days(START.date(), day), START.timetz())
            await asyncio.gather(one.assistant.cycle(), two.assistant.cycle())

        day = 0
        while one.today < add_working_days(target, -1):
            day += 1
            await both_on(day)
        assert one.assistant.leading and two.assistant.leading is False
        led = [r[2] for r in one.reminders(ref) if r[1] == "S3" and r[0] == "contribution"]

        first.close()  # the leader goes the day before the target: its session, and its lead, with it
        async with asyncio.timeout(30):  # until the server has ended that session
            while not await two.assistant.lead():
                await asyncio.sleep(0.01)
        while two.today < add_working_days(target, 3):
            await two.next_day()
        assert two.assistant.leading
        reminders = two.reminders(ref)
    finally:
        first.close()
        second.close()

    assert led == ["-5", "-1"]  # sent by the first leader; the rest by the one that took over
    assert [r[2] for r in reminders if r[1] == "S3" and r[0] == "contribution"] == ["-5", "-1", "0", "+2"]
    assert len(reminders) == len(set(reminders))  # each reminder recorded once
    received = [str(r.message()["Message-ID"]) for r in smtp_server.received]
    assert len(received) == len(set(received)) and len(received) > len(reminders)  # each letter once


async def test_a_database_out_of_reach_is_waited_out_and_nothing_is_lost(
    config: Config, postgres_server: Postgres, postgres_url: str, smtp_server: SmtpServer
) -> None:
    clock = Clock(START)
    with open_store(postgres_url) as store:
        day = Day.local(config, store, clock)
        ref = await day.email()
        postgres_server.stop()
        try:
            day.assistant.inbox.deliver(complaint(message_id="<second@mail.example.org>"), clock.now)
            await day.assistant.cycle()  # no crash: the service waits it out, and says so
            outage = day.assistant.outage
            assert outage is not None and "cannot be reached" in str(outage.error)
            assert len(day.assistant.inbox.pending()) == 1  # the mail stays where it was
        finally:
            postgres_server.start()
        clock.now = outage.retry_at
        await day.assistant.cycle()
        assert day.assistant.outage is None and day.assistant.inbox.pending() == []
        cases = [c.ref for c in store.open_cases()]
    assert len(cases) == 2 and ref in cases
    acknowledged = [r for r in smtp_server.received if "complaint" in str(r.message()["Subject"]).lower()]
    assert len(acknowledged) == 2  # each acknowledged once


async def test_the_moment_the_database_answers_again_the_mail_waiting_is_taken_in(
    config: Config, postgres_server: Postgres, postgres_url: str
) -> None:
    clock = Clock(START)
    with open_store(postgres_url) as store:
        day = Day.local(config, store, clock)
        await day.email()
        postgres_server.stop()
        try:
            day.assistant.inbox.deliver(complaint(message_id="<second@mail.example.org>"), clock.now)
            await day.assistant.cycle()
            assert day.assistant.outage is not None and not day.assistant.leading
        finally:
            postgres_server.start()
        stop = asyncio.Event()
        following = asyncio.ensure_future(day.assistant._follow(stop))  # as `run_forever` runs it
        try:
            async with asyncio.timeout(60):  # the clock has not moved: no backoff has run out
                while day.assistant.inbox.pending():
                    await asyncio.sleep(0.01)
        finally:
            stop.set()
            await following
        assert day.assistant.outage is None and len(store.open_cases()) == 2
