"""Teams button latency with 10,000 cases in the store: ``python -m bench.bench_teams``.

A contributor (Lena, the council) presses "Agree" on the lead question card in her personal chat,
as a correctly signed ``adaptiveCard/action`` invoke to the real Teams SDK app the assistant serves,
which checks the token against the fake Bot Framework keys. Two times per press: until the invoke's
HTTP answer (the card shown to her), and until the resulting ``update`` of that message (the
question replaced for everyone) reaches the fake connector. Next to them, in the same run, a bare
SDK app that only answers the invoke. Targets as for Slack: answer p95 under 100 ms, update p95
under 300 ms.

In Teams the handler runs inside the invoke's request, so the update is sent before the answer:
the update is timed by a watcher started with each press, not after the answer. The background
cases are seeded as in `bench.bench_slack`; the pressed ones are taken to the lead question through
the case service too, then their threads are posted once before measuring. Tokens are minted
before each press's clock starts (the times are the app's, not the signing's).

The presses reuse one kept-alive connection, as Teams' connector may; ``--new-connections`` opens
one per press. (Both listening sockets set TCP_NODELAY: without it every answer on a kept-alive
connection waited about 40 ms for the client's delayed ACK.) ``connector_calls_per_press`` is what
the app sent Teams before answering.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import logging
import os
import shutil
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from bench.bench_slack import NOW, seed, spread
from bench.common import machine, press_targets
from bot.app import Assistant
from bot.chat.refs import ButtonRef
from store.store import Store
from tests.servers.teams import (
    APP_ID,
    SDK_ENV_VARS,
    TENANT_ID,
    AppServer,
    FakeConnector,
    KeyServer,
    TeamsSender,
    app_options,
    import_sdk,
    personal_conversation_id,
)

PROMPT = "lead_answer:northshire-council"
ASKED = f"lena-okafor/{PROMPT}"  # the question to Lena in the thread's record of what it asked
USER_AGENT = "Microsoft-SkypeBotApi (Microsoft-BotFramework/3.0)"


@dataclass(frozen=True)
class Press:
    """Lena's "Agree" on one case's card: the invoke Teams sends, and the message it was pressed on."""

    activity: dict[str, Any]
    message_id: str


@contextlib.contextmanager
def sdk_environment(cwd: Path) -> Iterator[None]:
    """None of the environment variables the Teams SDK reads, and a cwd without a ``.env`` (the SDK
    loads one at import): as ``teams_env`` in tests/servers/teams.py, put back afterwards."""
    saved = {name: os.environ.pop(name) for name in SDK_ENV_VARS if name in os.environ}
    before = Path.cwd()
    os.chdir(cwd)
    try:
        yield
    finally:
        os.chdir(before)
        os.environ.update(saved)


async def press_all(
    url: str,
    keys: KeyServer,
    service_url: str,
    presses: list[Press],
    fake: FakeConnector | None,
    keep_alive: bool,
) -> dict[str, Any]:
    """Send each press; time its answer and (with `fake`) the update of its message at the fake."""
    acks, updates = [], []
    connector = aiohttp.TCPConnector(force_close=not keep_alive)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        for press in presses:
            body = json.dumps(press.activity).encode()
            headers = {
                "Content-Type": "application/json; charset=utf-8",
                "Authorization": f"Bearer {keys.mint(APP_ID, service_url)}",
                "User-Agent": USER_AGENT,
            }
            watcher = None
            if fake is not None:
                done = sum(call.ok for call in fake.calls_to("update"))
                watcher = asyncio.create_task(updated(fake, press.message_id, done))
            started = time.perf_counter()
            async with session.post(url, data=body, headers=headers) as response:
                text = await response.text()
                assert response.status == 200, (response.status, text)
            acks.append((time.perf_counter() - started) * 1000)
            if watcher is not None:
                assert "recorded by" in text, text
                updates.append((await watcher - started) * 1000)
    figures = {"ack_ms": spread(acks)}
    if updates:
        figures["update_ms"] = spread(updates)
    return figures


async def updated(fake: FakeConnector, message_id: str, done: int) -> float:
    """When an update of `message_id` reached the fake, after the first `done` updates."""
    count = done + 1
    while True:
        calls = await fake.wait_for("update", count, timeout=30)
        if any(call.activity_id == message_id for call in calls[done:]):
            return time.perf_counter()
        count = len(calls) + 1


async def measure(root: Path, background: int, pressed: int, keep_alive: bool) -> dict[str, Any]:
    from bot.teams.front import TeamsFront
    from tests.bot.teams.conftest import LENA, actions_of, chat_options, teams_config

    keys, fake = KeyServer(), FakeConnector()
    keys.start()
    fake.start()
    try:
        config = teams_config(root / "var", fake)
        fake.install(LENA)
        environ = {"CLIENT_ID": APP_ID, "TENANT_ID": TENANT_ID}
        with Store.open(config.store_dir) as store:
            assistant = Assistant(
                config,
                store,
                io.StringIO(),
                clock=lambda: NOW,
                environ=environ,
                chat_options=chat_options(keys),
            )
            front = assistant.front
            assert isinstance(front, TeamsFront)
            started = time.perf_counter()
            refs = seed(assistant, background, pressed)
            seeded = time.perf_counter() - started
            await front.start()
            try:
                url = f"http://127.0.0.1:{front.port}/api/messages"
                sender = TeamsSender(url, keys, fake.base_url)
                presses = []
                for ref in refs:
                    thread = await front.threads.sync(ref)
                    conversation, message_id = thread.asked[ASKED]
                    assert conversation == personal_conversation_id(LENA), conversation
                    [card] = fake.message(message_id).cards
                    agree = actions_of(card)["Agree"]
                    button = ButtonRef(ref, assistant.service.load(ref).version, PROMPT, 0).encode()
                    assert agree["data"] == {"button": button}, (agree, button)
                    activity = sender.card_action(
                        LENA,
                        agree["verb"],
                        {"button": button},
                        conversation_id=conversation,
                        message_id=message_id,
                    )
                    presses.append(Press(activity, message_id))
                before = len(fake.calls_snapshot())
                ours = await press_all(url, keys, fake.base_url, presses, fake, keep_alive)
                made = Counter(call.kind for call in fake.calls_snapshot()[before:])
                ours["connector_calls_per_press"] = {
                    kind: n / len(presses) for kind, n in sorted(made.items())
                }
            finally:
                await front.stop()
            bare = await press_bare(keys, fake, presses, keep_alive)
            return {
                "cases_in_store": len(store.summaries()),
                "connections": "kept alive" if keep_alive else "new per press",
                "seed_s": round(seeded, 1),
                "jointly": ours,
                "bare_sdk_ack_only": bare,
            }
    finally:
        fake.close()
        keys.close()


async def press_bare(
    keys: KeyServer, fake: FakeConnector, presses: list[Press], keep_alive: bool
) -> dict[str, Any]:
    """The same presses to an SDK App whose only handler answers every Action.Execute at once."""
    sdk = import_sdk()
    from microsoft_teams.api.models import AdaptiveCardActionMessageResponse

    async def only_answer(ctx: Any) -> AdaptiveCardActionMessageResponse:
        return AdaptiveCardActionMessageResponse(value="ok")

    server = AppServer()
    with warnings.catch_warnings():  # "The bot client is deprecated", from the SDK's own ApiClient
        warnings.simplefilter("ignore", DeprecationWarning)
        app = sdk.App(**app_options(keys, fake, server))
    app.on_card_action_execute(only_answer)
    async with server.running(app) as url:
        return await press_all(url, keys, fake.base_url, presses, None, keep_alive)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--presses", type=int, default=200)
    parser.add_argument(
        "--new-connections", action="store_true", help="a new connection per press (default: kept alive)"
    )
    args = parser.parse_args(argv)
    logging.disable(logging.INFO)
    root = Path(tempfile.mkdtemp(prefix="jointly-bench-teams-", dir="/tmp"))
    try:
        with sdk_environment(root):
            figures = asyncio.run(
                measure(root, args.cases - args.presses, args.presses, not args.new_connections)
            )
    finally:
        shutil.rmtree(root)
        logging.disable(logging.NOTSET)
    figures["targets"] = press_targets(figures["jointly"])
    figures["machine"] = machine()
    return figures


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
