"""Slack in front of two replicas on one PostgreSQL database: a load balancer may hand any request
to either. What is pressed on the one that does not lead is recorded there, and both draw the case's
thread at the same moment (the presser's replica, and the leader bringing every thread up to date):
each question is still asked once."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.directory import actor
from bot.slack.front import SlackFront
from flows.codec import to_plain
from flows.conversation import fill
from flows.prompts import next_prompts
from tests.bot.slack.conftest import ASHA, InSlack, serving, slack_config
from tests.servers.slack import FakeSlack


@pytest.fixture
async def replicas(
    tmp_path: Path, fake_slack: FakeSlack, postgres_url: str
) -> AsyncIterator[tuple[InSlack, InSlack]]:
    """Two replicas with one configuration (and local inbox), each serving Slack on its own port."""
    config = slack_config(tmp_path / "var", fake_slack.base_url)
    async with (
        serving(config, fake_slack, postgres_url) as leader,
        serving(config, fake_slack, postgres_url) as other,
    ):
        yield leader, other


def recorded(replica: InSlack, ref: str, person: str, prompt_id: str, choice: str, **values: Any) -> None:
    """`person` picks `choice` on `prompt_id` and `replica` records it, its thread not yet drawn:
    as a press is recorded the moment before the replica that took it draws the thread."""
    service, now = replica.assistant.service, replica.clock.now
    who = actor(replica.assistant.config.person(person))
    [prompt] = [p for p in next_prompts(service.load(ref), who, now) if p.id == prompt_id]
    [picked] = [c for c in prompt.choices if c.label == choice]
    answers = {f.name: to_plain(f.default) for f in picked.fields if f.default is not None}
    service.execute(ref, fill(picked, answers | values), now)


def fronts(*replicas: InSlack) -> list[SlackFront]:
    found = [r.assistant.front for r in replicas]
    assert all(isinstance(f, SlackFront) for f in found)
    return found  # type: ignore[return-value]


async def test_two_replicas_drawing_one_thread_at_once_ask_each_question_once(
    replicas: tuple[InSlack, InSlack], fake_slack: FakeSlack
) -> None:
    leader, other = replicas
    ref = await leader.email()  # the leader takes in the mailbox (its first cycle took the lead)
    await other.assistant.cycle()
    assert leader.assistant.leading and other.assistant.leading is False

    organisations = await leader.asked("organisations")
    await other.form(ASHA, organisations, "Choose the organisations",
                     orgs=["northshire-trust", "northshire-council"])  # fmt: skip
    assert "OrganisationsIdentified" in leader.kinds(ref)  # pressed on one, read on the other
    steps = [
        ("asha-patel", "consent", "Consent given", {}),
        ("asha-patel", "complainant_view", "Record their view", {"view": "Happy for the hospital to lead"}),
        ("asha-patel", "propose_lead", "Propose Northshire Hospitals NHS Foundation Trust",
         {"criteria": ["greatest_responsibility"]}),
        ("lena-okafor", "lead_answer:northshire-council", "Agree", {}),
    ]  # fmt: skip
    for person, prompt_id, choice, values in steps:
        recorded(other, ref, person, prompt_id, choice, **values)
        await asyncio.gather(*(front.threads.sync(ref) for front in fronts(leader, other)))

    questions = [c for c in fake_slack.calls if c.method == "chat.postMessage" and "blocks" in c.params]
    drawn = Counter((str(c.params["channel"]), str(c.params["text"])) for c in questions)
    assert len(drawn) > len(steps) and max(drawn.values()) == 1, [t for t, n in drawn.items() if n > 1]
    assert "LeadAgreed" in leader.kinds(ref)
