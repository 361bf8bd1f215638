"""Slack button latency with 10,000 cases in the store: ``python -m bench.bench_slack``.

A contributor presses "Agree" on the lead question in a direct message, as a correctly signed
HTTP request to the real bolt app in HTTP mode. Two times per press: until the HTTP ack, and until
the resulting ``chat.update`` (the question replaced by its answer) reaches the fake Slack Web API.
Next to them, in the same run, a bare bolt app that only acks. Targets from the issue: ack p95
under 100 ms, update p95 under 300 ms.

The background cases are opened through the case service (no letters); the pressed ones are taken
to the lead question through it too, then their threads are posted once before measuring.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import logging
import shutil
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bench.common import machine, press_targets
from bot.app import Assistant
from bot.chat.refs import ButtonRef
from bot.config import Chat, Slack, local_config
from bot.directory import actor, org_ref, system_actor
from bot.slack.blocks import CHOICE_ACTION
from bot.slack.front import SlackFront
from flows import commands as c
from flows.model import Channel, ConsentMethod, LeadCriterion, Person
from store.store import Store
from tests.servers.slack import CHANNEL, SIGNING_SECRET, FakeSlack, block_actions, serve_app, sign

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
LENA = "U0COUNC01"


def seed(assistant: Assistant, background: int, pressed: int) -> list[str]:
    """`background` new cases, and `pressed` cases waiting for the council's answer on the lead."""
    config, service = assistant.config, assistant.service
    home = org_ref(config, "northshire-trust")
    handler = actor(config.person("asha-patel"))
    refs = []
    for n in range(background + pressed):
        at = NOW - timedelta(minutes=n)
        received = c.ReceiveComplaint(
            actor=system_actor(config), channel=Channel.EMAIL, received_at=at,
            complainant=Person(f"Person {n}", f"p{n}@example.org"), home_org=home,
            subject="A complaint", text="The discharge went badly.", acknowledge=False,
        )  # fmt: skip
        ref = service.new_ref(at, f"bench-{n}")
        service.execute(ref, received, NOW)
        if n >= background:
            council = org_ref(config, "northshire-council")
            for command in (
                c.IdentifyOrganisations(actor=handler, orgs=(home, council)),
                c.RecordConsent(
                    actor=handler,
                    org_ids=("northshire-council",),
                    method=ConsentMethod.PHONE,
                    given_on=NOW.date(),
                    capacity_confirmed=True,
                ),  # fmt: skip
                c.RecordComplainantView(actor=handler, view="No preference given"),
                c.ProposeLead(
                    actor=handler, org_id=home.id, criteria=(LeadCriterion.GREATEST_RESPONSIBILITY,)
                ),
            ):
                service.execute(ref, command, NOW)
            refs.append(ref)
    return refs


async def press_all(url: str, payloads: list[dict[str, Any]], fake: FakeSlack | None) -> dict[str, Any]:
    """Send each press; time its ack and (with `fake`) its chat.update reaching the fake."""
    acks, updates = [], []
    async with aiohttp.ClientSession() as session:
        for payload in payloads:
            done = len(fake.calls_to("chat.update")) if fake else 0
            body = ("payload=" + aiohttp.helpers.quote(json.dumps(payload), safe="")).encode()
            headers = sign(SIGNING_SECRET, body, int(time.time()))
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            started = time.perf_counter()
            async with session.post(url, data=body, headers=headers) as response:
                await response.read()
                assert response.status == 200, response.status
            acks.append((time.perf_counter() - started) * 1000)
            if fake is not None:
                await fake.wait_for("chat.update", done + 1, timeout=30)
                updates.append((time.perf_counter() - started) * 1000)
    figures = {"ack_ms": spread(acks)}
    if updates:
        figures["update_ms"] = spread(updates)
    return figures


def spread(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50": round(statistics.median(ordered), 2),
        "p95": round(ordered[int(0.95 * (len(ordered) - 1))], 2),
        "max": round(ordered[-1], 2),
        "n": len(ordered),
    }


async def measure(root: Path, background: int, pressed: int) -> dict[str, Any]:
    fake = FakeSlack()
    await fake.start()
    try:
        settings = Slack(mode="http", api_base_url=fake.base_url, complaints_channel=CHANNEL)
        config = local_config(root / "var").model_copy(update={"chat": Chat(kind="slack"), "slack": settings})
        environ = {"SLACK_BOT_TOKEN": "xoxb-bench", "SLACK_SIGNING_SECRET": SIGNING_SECRET}
        with Store.open(config.store_dir) as store:
            assistant = Assistant(config, store, io.StringIO(), clock=lambda: NOW, environ=environ)
            assert isinstance(assistant.front, SlackFront)
            started = time.perf_counter()
            refs = seed(assistant, background, pressed)
            seeded = time.perf_counter() - started
            threads = assistant.front.threads
            payloads = []
            for ref in refs:
                thread = await threads.sync(ref)
                channel, ts = thread.asked["lena-okafor/lead_answer:northshire-council"]
                case = assistant.service.load(ref)
                value = ButtonRef(ref, case.version, "lead_answer:northshire-council", 0).encode()
                payloads.append(
                    block_actions(LENA, "jointly:choice:0", value, channel=channel, message_ts=ts)
                )
            async with serve_app(assistant.front.app) as url:
                ours = await press_all(url, payloads, fake)
            async with serve_app(bare_app(fake)) as url:
                bare = await press_all(url, payloads, None)
            return {
                "cases_in_store": len(store.summaries()),
                "seed_s": round(seeded, 1),
                "jointly": ours,
                "bare_bolt_ack_only": bare,
            }
    finally:
        await fake.close()


def bare_app(fake: FakeSlack) -> AsyncApp:
    app = AsyncApp(
        client=AsyncWebClient(token="xoxb-bench", base_url=fake.base_url), signing_secret=SIGNING_SECRET
    )

    @app.action(CHOICE_ACTION)
    async def only_ack(ack: Any) -> None:
        await ack()

    return app


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--presses", type=int, default=200)
    args = parser.parse_args(argv)
    logging.disable(logging.INFO)
    root = Path(tempfile.mkdtemp(prefix="jointly-bench-slack-", dir="/tmp"))
    try:
        figures = asyncio.run(measure(root, args.cases - args.presses, args.presses))
    finally:
        shutil.rmtree(root)
        logging.disable(logging.NOTSET)
    figures["targets"] = press_targets(figures["jointly"])
    figures["machine"] = machine()
    return figures


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
