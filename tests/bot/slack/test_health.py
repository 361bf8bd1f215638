"""The health checks a load balancer asks of Slack in HTTP mode, on `[slack] http_port` beside the
events: `/healthz` while the process serves, `/readyz` while its store can serve too."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from bot.app import Assistant
from bot.config import Slack
from bot.slack.front import SlackFront
from store.ports import CaseStore, open_store
from store.store import Store
from tests.bot.health import get, readiness_follows_the_database
from tests.bot.slack.conftest import slack_config
from tests.bot.slack.test_run import free_port
from tests.bot.support import RECEIVED, Clock
from tests.servers.postgres import Postgres
from tests.servers.slack import CHANNEL, SIGNING_SECRET, FakeSlack

ENVIRON = {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": SIGNING_SECRET}


@asynccontextmanager
async def started(tmp_path: Path, fake: FakeSlack, store: CaseStore) -> AsyncIterator[str]:
    """The Slack front started as `jointly run` starts it in HTTP mode; yields its address."""
    port = free_port()
    slack = Slack(
        mode="http",
        api_base_url=fake.base_url,
        complaints_channel=CHANNEL,
        http_host="127.0.0.1",
        http_port=port,
    )
    config = slack_config(tmp_path / "var", fake.base_url).model_copy(update={"slack": slack})
    clock = Clock(RECEIVED + timedelta(minutes=5))
    front = Assistant(config, store, io.StringIO(), clock=clock, environ=ENVIRON).front
    assert isinstance(front, SlackFront)
    await front.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await front.stop()


async def test_healthz_and_readyz_answer_beside_the_events(tmp_path: Path, fake_slack: FakeSlack) -> None:
    with Store.open(tmp_path / "store") as store:
        async with started(tmp_path, fake_slack, store) as url:
            assert await get(f"{url}/healthz") == (200, "ok")
            assert await get(f"{url}/readyz") == (200, "ready")
            assert (await get(f"{url}/slack/events"))[0] == 405  # the events are still Slack's, by POST


async def test_readyz_says_503_and_why_when_the_store_cannot_serve(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    with Store.open(tmp_path / "store") as store:
        async with started(tmp_path, fake_slack, store) as url:
            store.close()
            ready = await get(f"{url}/readyz")
            alive = await get(f"{url}/healthz")

    assert ready == (503, f"the store at {tmp_path / 'store'} is closed")
    assert alive == (200, "ok")  # the process still serves: only readiness depends on the store


async def test_readyz_follows_the_database(
    tmp_path: Path, fake_slack: FakeSlack, postgres_server: Postgres, postgres_url: str
) -> None:
    with open_store(postgres_url) as store:
        async with started(tmp_path, fake_slack, store) as url:
            await readiness_follows_the_database(url, postgres_server, postgres_url)
