"""What the health-check tests of every chat front share: asking, and readiness across a database
restart (tests/bot/slack/test_health.py, tests/bot/teams/test_health.py)."""

from __future__ import annotations

import asyncio

import aiohttp

from tests.servers.postgres import Postgres


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as answer:
        return answer.status, await answer.text()


async def readiness_follows_the_database(url: str, server: Postgres, database_url: str) -> None:
    """At `url`, a front on `database_url`: ready, then 503 naming where the database is (never its
    password) while `server` is down, alive all along, and ready again once it is back."""
    assert await get(f"{url}/readyz") == (200, "ready")
    server.stop()
    try:
        status, text = await get(f"{url}/readyz")
        alive = await get(f"{url}/healthz")
    finally:
        server.start()
    async with asyncio.timeout(30):  # ready again once the database is (no sleep: each asks it)
        while (again := await get(f"{url}/readyz"))[0] != 200:
            assert again[0] == 503
    where = database_url.rsplit("@", 1)[-1]  # host, port and database: never a password
    assert status == 503 and text.startswith(f"the database at {where} cannot be reached"), text
    assert alive == (200, "ok")
    assert again == (200, "ready")
