"""A practice that only uses email asks, by replying to our request, for a later date. The handler,
at the terminal in local mode, records the request from the email's own prompt (read and filled in
for her) and accepts it; the person is told by letter when to expect the response now.

Everything is real: the Maildir inbox, intake's threading by the signed reply address, the store,
the terminal conversation and the `.eml` outbox; only the clock is the test's.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest

from bot.chat.waiting import waiting
from bot.config import local_config
from bot.directory import actor
from bot.terminal import Conversation
from flows.calendar import add_working_days, working_days_between
from flows.rules import long_date
from store.store import Store
from tests.bot.support import Clock, complaint, plain_text
from tests.bot.test_terminal import Script
from tests.scenarios.coordination import Day
from tests.scenarios.test_coordination import GP, three_strands

START = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # a Monday
GP_INBOX = "practice.manager@riverside-gp.example"
LATER = date(2027, 1, 13)


@pytest.fixture
async def day(tmp_path: Path) -> AsyncIterator[Day]:
    config = local_config(tmp_path / "var")
    with Store.open(config.store_dir) as store:
        yield Day.local(config, store, Clock(START))


async def at_terminal(day: Day, ref: str, prompt_id: str, *answers: str) -> str:
    """Asha, the handler at the keyboard, answers the prompt `prompt_id`; what the terminal showed
    and asked."""
    handler = actor(day.assistant.config.person("asha-patel"))
    [prompt] = [
        p for r, p in waiting(day.assistant.service, handler, day.clock.now) if (r, p.id) == (ref, prompt_id)
    ]
    script, out = Script(list(answers)), io.StringIO()
    talk = Conversation(day.assistant.config, day.assistant.service, handler, script, out)
    assert await talk.answer_one(ref, prompt, day.clock.now) == "answered"
    assert script.answers == [] and "Recorded" in out.getvalue()
    return out.getvalue() + "\n".join(script.asked)


def only_letter(day: Day, to: str, subject: str) -> EmailMessage:
    [letter] = [m for m in day.letters() if to in str(m["To"]) and subject in str(m["Subject"])]
    return letter


async def test_an_email_only_practice_asks_for_a_later_date_and_the_person_is_told(day: Day) -> None:
    config = day.assistant.config
    assert not [p for p in config.people if p.organisation == GP and p.slack_user_id]  # email only
    ref, target = await three_strands(day)
    await day.assistant.cycle()
    request = only_letter(day, GP_INBOX, "your part of the investigation")
    before = day.case(ref).response_period.due  # type: ignore[union-attr]

    reply = complaint(
        "<gp-1@riverside-gp.example>",
        f"Dear Asha,\n\nWe can't make {target.day} December, can we have 13 January? "
        "Our practice manager is away until then.\n\nSam Price",
        f"Re: {request['Subject']}",
        f"Riverside Medical Practice <{GP_INBOX}>",
        (f"Delivered-To: {request['Reply-To']}", f"In-Reply-To: {request['Message-ID']}"),
    )
    day.assistant.inbox.deliver(reply, day.clock.now)  # type: ignore[attr-defined]
    await day.assistant.cycle()

    shown = await at_terminal(day, ref, "message:<gp-1@riverside-gp.example>", "1", "", "Manager away")
    assert (
        f"This looks like Riverside Medical Practice asking to move S2 from {long_date(target)} "
        f"to {long_date(LATER)}: record it?" in shown
    )
    assert "1) Record their request for a new date on S2" in shown and "[2027-01-13]" in shown
    assert "away until then" not in shown  # what the email says stays in the case record
    case = day.case(ref)
    assert [m.read for m in case.messages] == [True]
    assert case.strands["S2"].proposed is not None and case.strands["S2"].proposed.target == LATER

    await at_terminal(day, ref, "date_proposal:S2", "1")  # "Accept the new date"
    await day.assistant.cycle()

    due = add_working_days(before, working_days_between(target, LATER))
    assert day.case(ref).strands["S2"].target == LATER
    told = only_letter(day, "pat@example.org", f"A new date for our response ({ref})")
    text = " ".join(plain_text(told).split())
    assert f"by {long_date(due)}, instead of {long_date(before)}" in text
    assert "Manager away" in text
