"""The fake Slack against the real clients: slack_sdk's AsyncWebClient and Socket Mode, and slack_bolt."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncSay
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from tests.servers.slack import (
    SIGNING_SECRET,
    FakeSlack,
    SlackSender,
    block_actions,
    event_callback,
    message_event,
    serve_app,
    sign,
    view_submission,
)


def web_client(fake: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token="xoxb-test", base_url=fake.base_url)


def bolt_app(fake: FakeSlack) -> AsyncApp:
    """An app that answers a button, a modal, a message and a command by posting to Slack."""
    app = AsyncApp(client=web_client(fake), signing_secret=SIGNING_SECRET)

    @app.action("assign")
    async def assign(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        case = body["actions"][0]["value"]
        await client.chat_postMessage(channel=body["channel"]["id"], text=f"assigned {case}")

    @app.view("intake")
    async def intake(ack: AsyncAck, view: dict[str, Any]) -> None:
        await ack(response_action="errors", errors={"b": view["private_metadata"]})

    @app.message("hello")
    async def hello(message: dict[str, Any], say: AsyncSay) -> None:
        await say(text="hi", thread_ts=message["ts"])

    @app.command("/jointly")
    async def command(ack: AsyncAck, command: dict[str, Any]) -> None:
        await ack(text=f"you said {command['text']}")

    return app


async def test_web_api_answers_like_slack(fake_slack: FakeSlack) -> None:
    client = web_client(fake_slack)
    auth = await client.auth_test()
    first = await client.chat_postMessage(channel="C1", text="one", blocks=[{"type": "divider"}])
    second = await client.chat_postMessage(channel="C1", text="two", thread_ts=first["ts"])
    modal = await client.views_open(trigger_id="t", view={"type": "modal", "callback_id": "intake"})
    home = await client.views_publish(user_id="U1", view={"type": "home", "blocks": []})
    dm = await client.conversations_open(users="U1,U2")
    user = await client.users_info(user="U1")
    link = await client.chat_getPermalink(channel="C1", message_ts=first["ts"])

    assert (auth["user_id"], auth["bot_id"], auth["team_id"]) == ("UBOT0001", "BBOT0001", "T0JOINTLY")
    assert first["message"]["blocks"] == [{"type": "divider"}] and first["ts"] < second["ts"]
    assert second["message"]["thread_ts"] == first["ts"]
    assert modal["view"]["callback_id"] == "intake" and modal["view"]["id"] != home["view"]["id"]
    assert dm["channel"]["id"] == "DU1" and user["user"]["profile"]["email"] == "u1@example.nhs.uk"
    assert link["permalink"].endswith("/archives/C1/p" + first["ts"].replace(".", ""))
    assert fake_slack.calls_to("conversations.open")[0].params == {"users": "U1,U2"}  # query string
    assert {call.token for call in fake_slack.calls} == {"xoxb-test"}
    with pytest.raises(SlackApiError, match="unknown_method"):
        await client.api_call("chat.nonsense")
    fake_slack.set_answer("chat.postMessage", {"ok": False, "error": "channel_not_found"})
    with pytest.raises(SlackApiError, match="channel_not_found"):
        await client.chat_postMessage(channel="C404", text="lost")


async def test_wait_for_waits_without_sleeping_and_fails_clearly(fake_slack: FakeSlack) -> None:
    posting = asyncio.create_task(web_client(fake_slack).chat_postMessage(channel="C1", text="later"))
    calls = await fake_slack.wait_for("chat.postMessage")
    await posting
    assert calls[0].params["text"] == "later"
    with pytest.raises(AssertionError, match="expected 1 call"):
        await fake_slack.wait_for("chat.update", timeout=0.05)


async def test_outages_answer_errors_and_are_counted(fake_slack: FakeSlack) -> None:
    client = web_client(fake_slack)
    fake_slack.fail("chat.update", status=500, times=2)
    for _ in range(2):
        with pytest.raises(SlackApiError, match="internal_error"):
            await client.chat_update(channel="C1", ts="1.2", text="x")
    assert (await client.chat_update(channel="C1", ts="1.2", text="x"))["text"] == "x"
    assert [call.failed for call in fake_slack.calls_to("chat.update")] == [True, True, False]
    fake_slack.down()
    with pytest.raises(SlackApiError) as raised:
        await client.auth_test()
    assert raised.value.response.status_code == 503
    fake_slack.up()
    assert (await client.auth_test())["ok"]


async def test_rate_limit_is_retried_after_retry_after(fake_slack: FakeSlack) -> None:
    client = web_client(fake_slack)
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler())
    fake_slack.fail("chat.postMessage", status=429, retry_after=1)
    started = time.monotonic()
    await client.chat_postMessage(channel="C1", text="eventually")
    assert time.monotonic() - started >= 1
    assert [call.failed for call in fake_slack.calls_to("chat.postMessage")] == [True, False]


async def test_bolt_in_http_mode_takes_only_signed_fresh_requests(fake_slack: FakeSlack) -> None:
    async with serve_app(bolt_app(fake_slack)) as url:
        slack = SlackSender(url, SIGNING_SECRET)
        assert (await slack.interactive(block_actions("U1", "assign", "case-7")))[0] == 200
        posted = await fake_slack.wait_for("chat.postMessage")
        submitted = await slack.interactive(view_submission("U1", "intake", "too short", {"b": {}}))
        command = await slack.command(text="status")
        event = await slack.event(message_event("U1", "C1", "hello", "1764000001.000100"), "Ev1", retry_num=1)
        replied = await fake_slack.wait_for("chat.postMessage", count=2)

        body = b'{"type": "event_callback"}'
        bad = await slack.raw(body, sign("wrong secret", body, int(time.time())))
        stale = await SlackSender(url, SIGNING_SECRET, clock=lambda: time.time() - 301).command()

    assert posted[0].params == {"channel": "C0COMPLAINTS", "text": "assigned case-7", "team_id": "T0JOINTLY"}
    assert json.loads(submitted[1]) == {"response_action": "errors", "errors": {"b": "too short"}}
    assert command == (200, "you said status") and event[0] == 200
    assert replied[1].params["thread_ts"] == "1764000001.000100"
    assert bad[0] == 401 and stale[0] == 401
    assert len(fake_slack.calls_to("auth.test")) == 1  # Bolt checks its token once, then caches


async def test_bolt_in_socket_mode_acks_pushed_envelopes(fake_slack: FakeSlack) -> None:
    handler = AsyncSocketModeHandler(bolt_app(fake_slack), app_token="xapp-test")
    await handler.connect_async()
    try:
        await fake_slack.wait_connected()
        event = event_callback(message_event("U1", "C1", "hello", "1764000002.000100"), "Ev2")
        acked = await fake_slack.push("events_api", event)
        await fake_slack.wait_for("chat.postMessage")
        action = await fake_slack.push("interactive", block_actions("U1", "assign", "case-8"))
        command = await fake_slack.push("slash_commands", {"command": "/jointly", "text": "hi"}, True)
        await fake_slack.wait_for("chat.postMessage", count=2)
    finally:
        await handler.close_async()

    assert acked == {"envelope_id": acked["envelope_id"]} and "envelope_id" in action
    assert command["payload"] == {"text": "you said hi"}
    assert fake_slack.calls_to("apps.connections.open")[0].token == "xapp-test"
