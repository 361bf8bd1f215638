"""Teams in front of two replicas on one PostgreSQL database: a press may reach either. Presses on
the one that does not lead are answered and recorded there while the leader brings the same thread
up to date; each question is asked once, and what one replica recorded the other reads. (The race
of two replicas drawing one thread is shown in tests/bot/slack/test_replicas.py: the threads are
the same code for both chats.)"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.bot.teams.conftest import ASHA, DAVID, KOFI, LENA, TOM, InTeams, serving, teams_config
from tests.servers.teams import FakeConnector, KeyServer

TRUST, COUNCIL = "northshire-trust", "northshire-council"


@pytest.fixture
async def replicas(
    tmp_path: Path, teams_env: None, teams_keys: KeyServer, fake_teams: FakeConnector, postgres_url: str
) -> AsyncIterator[tuple[InTeams, InTeams]]:
    """Two replicas with one configuration (and local inbox), each serving Teams on its own port."""
    fake_teams.install(ASHA, TOM, LENA, KOFI, DAVID)
    config = teams_config(tmp_path / "var", fake_teams)
    async with (
        serving(config, teams_keys, fake_teams, postgres_url) as leader,
        serving(config, teams_keys, fake_teams, postgres_url) as other,
    ):
        yield leader, other


async def test_presses_on_the_replica_that_does_not_lead_ask_each_question_once(
    replicas: tuple[InTeams, InTeams],
) -> None:
    leader, other = replicas
    ref = await leader.email()  # the leader takes in the mailbox (its first cycle took the lead)
    await other.assistant.cycle()
    assert leader.assistant.leading and other.assistant.leading is False

    steps = [
        ("asha-patel", "organisations", "Choose the organisations", {"orgs": [TRUST, COUNCIL]}),
        ("asha-patel", "consent", "Consent given", {}),
        ("asha-patel", "complainant_view", "Record their view", {"view": "Happy for the hospital to lead"}),
        ("asha-patel", "propose_lead", "Propose Northshire Hospitals NHS Foundation Trust",
         {"criteria": ["greatest_responsibility"]}),
        ("lena-okafor", f"lead_answer:{COUNCIL}", "Agree", {}),
    ]  # fmt: skip
    for person, prompt_id, choice, values in steps:  # the leader drawing the thread meanwhile
        await asyncio.gather(
            other.answer(ref, person, prompt_id, choice, **values), leader.front.threads.sync(ref)
        )
    await asyncio.gather(leader.front.threads.sync(ref), other.front.threads.sync(ref))

    posted = Counter(
        (conversation, json.dumps(card, sort_keys=True)) for conversation, _, card in leader.posted()
    )
    assert len(posted) > len(steps) and max(posted.values()) == 1, [c for c, n in posted.items() if n > 1]
    assert "LeadAgreed" in leader.kinds(ref)
