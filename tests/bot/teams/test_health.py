"""The health checks a load balancer asks of the Teams front, on its port beside `POST /api/messages`:
`/healthz` while the process serves, `/readyz` while its store can serve too."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from bot.app import Assistant
from bot.teams.front import TeamsFront
from store.ports import CaseStore, open_store
from tests.bot.health import get, readiness_follows_the_database
from tests.bot.support import RECEIVED, Clock
from tests.bot.teams.conftest import InTeams, chat_options, teams_config
from tests.servers.postgres import Postgres
from tests.servers.teams import APP_ID, TENANT_ID, FakeConnector, KeyServer


def address(teams: InTeams) -> str:
    return f"http://127.0.0.1:{teams.front.port}"


async def test_healthz_and_readyz_answer_beside_the_messages(teams: InTeams) -> None:
    assert await get(f"{address(teams)}/healthz") == (200, "ok")
    assert await get(f"{address(teams)}/readyz") == (200, "ready")
    assert (await get(f"{address(teams)}/api/messages"))[0] == 405  # the messages are still the SDK's


async def test_readyz_says_503_and_why_when_the_store_cannot_serve(teams: InTeams) -> None:
    store = teams.assistant.service.store
    store.close()  # `serving` closes it again at the end: closing twice is nothing
    ready = await get(f"{address(teams)}/readyz")
    alive = await get(f"{address(teams)}/healthz")

    assert ready == (503, f"the store at {teams.assistant.config.store_dir} is closed")
    assert alive == (200, "ok")  # the process still serves: only readiness depends on the store


@asynccontextmanager
async def started(
    tmp_path: Path, store: CaseStore, keys: KeyServer, fake: FakeConnector
) -> AsyncIterator[str]:
    """The Teams front on a free port, as `serving` starts it, with `store`; yields its address."""
    config = teams_config(tmp_path / "var", fake)
    environ = {"CLIENT_ID": APP_ID, "TENANT_ID": TENANT_ID}
    clock = Clock(RECEIVED + timedelta(minutes=5))
    assistant = Assistant(
        config, store, io.StringIO(), clock=clock, environ=environ, chat_options=chat_options(keys)
    )
    front = assistant.front
    assert isinstance(front, TeamsFront)
    await front.start()
    try:
        yield f"http://127.0.0.1:{front.port}"
    finally:
        await front.stop()


async def test_readyz_follows_the_database(
    tmp_path: Path,
    teams_env: None,
    teams_keys: KeyServer,
    fake_teams: FakeConnector,
    postgres_server: Postgres,
    postgres_url: str,
) -> None:
    with open_store(postgres_url) as store:
        async with started(tmp_path, store, teams_keys, fake_teams) as url:
            await readiness_follows_the_database(url, postgres_server, postgres_url)
