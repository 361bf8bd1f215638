"""One scenario, every team chat: `chat` is the assistant in Slack, then in Teams, with everyone in
the directory in that chat, each driven by what its people press and type (the harnesses of
tests/bot/slack and tests/bot/teams) through the same calls: `email`, `answer`, `until`, `told`,
`kinds`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.bot.slack.conftest import InSlack, serving, slack_config
from tests.bot.teams.conftest import teams
from tests.servers.slack import FakeSlack

__all__ = ["teams"]  # one of the fixtures `chat` stands for


@pytest.fixture
async def everyone_in_slack(tmp_path: Path, fake_slack: FakeSlack) -> AsyncIterator[InSlack]:
    """The Slack harness with the people who have no Slack id in the sample directory given one."""
    config = slack_config(tmp_path / "var", fake_slack.base_url)
    people = tuple(
        p if p.slack_user_id else p.model_copy(update={"slack_user_id": f"U0{p.id.split('-')[0].upper()}"})
        for p in config.people
    )
    async with serving(config.model_copy(update={"people": people}), fake_slack) as in_slack:
        yield in_slack


@pytest.fixture(params=["everyone_in_slack", "teams"])
def chat(request: pytest.FixtureRequest) -> Any:
    return request.getfixturevalue(str(request.param))
