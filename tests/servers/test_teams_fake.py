"""The fake Teams against the real Microsoft Teams SDK (``microsoft_teams.apps.App``): inbound
activities signed as the Bot Framework signs them, and the SDK's calls to the connector and Graph."""

from __future__ import annotations

import asyncio
import json
import warnings
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from microsoft_teams.api.activities import (
    AdaptiveCardInvokeActivity,
    ConversationUpdateActivity,
    InstalledActivity,
    MessageActivity,
    MessageActivityInput,
)
from microsoft_teams.api.clients import CreateConversationParams
from microsoft_teams.api.models import Account, AdaptiveCardActionMessageResponse, Attachment
from microsoft_teams.cards import AdaptiveCard, ExecuteAction, TextBlock
from microsoft_teams.common.experimental import ExperimentalWarning

from tests.servers import teams as teams_fakes
from tests.servers.teams import (
    ADAPTIVE_CARD,
    BOT_NAME,
    CHANNEL_ID,
    MESSAGE_LIMIT,
    OTHER_USER_ID,
    TEAM_ID,
    TEAMS_APP_ID,
    TENANT_ID,
    USER_ID,
    AppServer,
    FakeConnector,
    KeyServer,
    TeamsSender,
    app_options,
    app_token,
    card_problem,
    personal_conversation_id,
    sender_for,
    teams_user_id,
)

with warnings.catch_warnings():
    warnings.simplefilter("ignore", ExperimentalWarning)
    from microsoft_teams.apps import ActivityContext, App

pytestmark = pytest.mark.filterwarnings("ignore:The bot client is deprecated:DeprecationWarning")  # App()

# The fixtures, as ``pytest_plugins = ["tests.servers.teams"]`` in tests/conftest.py would give them
# (a test module cannot name a plugin it already imports: pytest's rewrite warning is an error here).
teams_env, teams_keys, fake_teams = teams_fakes.teams_env, teams_fakes.teams_keys, teams_fakes.fake_teams


@dataclass
class Bot:
    """An SDK App served on a free port, the fakes it talks to, and what its handlers saw."""

    app: App
    fake: FakeConnector
    keys: KeyServer
    teams: TeamsSender
    messages: list[MessageActivity] = field(default_factory=list)
    actions: list[AdaptiveCardInvokeActivity] = field(default_factory=list)
    installs: list[InstalledActivity] = field(default_factory=list)
    updates: list[ConversationUpdateActivity] = field(default_factory=list)


@pytest.fixture
async def bot(teams_env: None, teams_keys: KeyServer, fake_teams: FakeConnector) -> AsyncIterator[Bot]:
    with AppServer() as server:
        app = App(**app_options(teams_keys, fake_teams, server))
        seen = Bot(app, fake_teams, teams_keys, sender_for(server, teams_keys, fake_teams))
        handle(app, seen)
        async with server.running(app):
            yield seen


def handle(app: App, seen: Bot) -> None:
    """Handlers that record what they get; a message saying "answer me" is answered."""

    @app.on_message
    async def on_message(ctx: ActivityContext[MessageActivity]) -> None:
        seen.messages.append(ctx.activity)
        if "answer me" in (ctx.activity.text or ""):
            await ctx.send(f"Noted: {ctx.activity.text}")

    @app.on_card_action_execute
    async def on_action(
        ctx: ActivityContext[AdaptiveCardInvokeActivity],
    ) -> AdaptiveCardActionMessageResponse:
        seen.actions.append(ctx.activity)
        action = ctx.activity.value.action
        return AdaptiveCardActionMessageResponse(value=f"{action.verb}: {action.data['case']}")

    @app.on_install_add
    async def on_install(ctx: ActivityContext[InstalledActivity]) -> None:
        seen.installs.append(ctx.activity)

    @app.on_conversation_update
    async def on_update(ctx: ActivityContext[ConversationUpdateActivity]) -> None:
        seen.updates.append(ctx.activity)


def card(verb: str = "assign") -> AdaptiveCard:
    return AdaptiveCard(
        body=[TextBlock(text="Complaint 42: late reply")],
        actions=[ExecuteAction(title="Assign to me", verb=verb, data={"case": "42"})],
    )


def with_card(content: dict[str, Any]) -> MessageActivityInput:
    return MessageActivityInput(attachments=[Attachment(content_type=ADAPTIVE_CARD, content=content)])


async def new_channel_post(app: App, text: str) -> tuple[str, str]:
    """A new post (thread) in CHANNEL_ID; returns (thread conversation id, root message id)."""
    params = CreateConversationParams.model_validate(
        {
            "isGroup": True,  # not a field of the model: kept verbatim as an extra
            "channelData": {"channel": {"id": CHANNEL_ID}},
            "activity": MessageActivityInput(text=text),
            "tenantId": TENANT_ID,
        }
    )
    created = await app.api.conversations.create(params)
    assert created.activity_id is not None
    return created.id, created.activity_id


# -- inbound: what Teams posts to the bot ------------------------------------------------------


async def test_a_signed_personal_message_reaches_the_handler(bot: Bot) -> None:
    status, body = await bot.teams.send(bot.teams.personal_message(USER_ID, "hello"))

    assert (status, body) == (200, "")
    [message] = bot.messages
    assert message.text == "hello"
    assert message.from_.aad_object_id == USER_ID
    assert message.from_.id == teams_user_id(USER_ID)
    assert message.conversation.id == personal_conversation_id(USER_ID)
    assert bot.keys.fetches >= 1  # the SDK took the keys from the fake, not from login.botframework.com


async def test_a_channel_reply_keeps_the_thread_and_the_mention(bot: Bot) -> None:
    activity = bot.teams.channel_message(USER_ID, "answer me please", reply_to_id="1764763100042")

    status, _ = await bot.teams.send(activity)

    assert status == 200
    assert len(bot.fake.calls_to("send")) == 1  # the SDK answers Teams only once the handler is done
    [message] = bot.messages
    assert message.text == f"<at>{BOT_NAME}</at> answer me please"
    assert message.conversation.id == f"{CHANNEL_ID};messageid=1764763100042"
    [sent] = await bot.fake.wait_for("send")
    assert sent.conversation_id == f"{CHANNEL_ID};messageid=1764763100042"
    assert [m.text for m in bot.fake.messages(sent.conversation_id)] == [
        f"Noted: <at>{BOT_NAME}</at> answer me please"
    ]
    assert sent.token is not None and sent.token.count(".") == 2  # the app's token, as a Bearer JWT


async def test_an_unsigned_request_is_refused(bot: Bot) -> None:
    activity = bot.teams.personal_message(USER_ID, "hello")

    status, _ = await bot.teams.raw(json.dumps(activity).encode(), {"Content-Type": "application/json"})

    assert status == 401
    assert bot.messages == []


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda keys, url: keys.mint(service_url=url, key=keys.unserved_key()), id="unknown-key"),
        pytest.param(
            lambda keys, url: keys.mint(service_url=url, audience="someone-else"), id="wrong-audience"
        ),
        pytest.param(
            lambda keys, url: keys.mint(service_url=url, issuer="https://evil.example"), id="wrong-issuer"
        ),
        pytest.param(
            lambda keys, url: keys.mint(service_url="https://elsewhere.example/"), id="other-serviceurl"
        ),
        pytest.param(lambda keys, url: keys.mint(service_url=url, expires_in=-400), id="expired"),
    ],
)
async def test_a_badly_signed_request_is_refused(bot: Bot, tamper: Any) -> None:
    token = tamper(bot.keys, bot.fake.base_url)

    status, body = await bot.teams.send(bot.teams.personal_message(USER_ID, "hello"), token=token)

    assert (status, body) == (401, {"error": "Unauthorized"})
    assert bot.messages == []


async def test_any_published_key_is_trusted_but_a_new_one_waits_for_the_jwks_cooldown(bot: Bot) -> None:
    old_key = bot.keys.served[0]
    bot.keys.rotate()  # published before the SDK's first fetch: the old key is second in the set now
    url = bot.fake.base_url

    by_old_key = await bot.teams.send(
        bot.teams.personal_message(USER_ID, "old"), token=bot.keys.mint(service_url=url, key=old_key)
    )
    newest = bot.keys.rotate()  # published after: PyJWKClient refetches an unknown kid at most every 30 s
    by_newest = await bot.teams.send(
        bot.teams.personal_message(USER_ID, "new"), token=bot.keys.mint(service_url=url, key=newest)
    )

    assert (by_old_key[0], by_newest[0]) == (200, 401)
    assert [m.text for m in bot.messages] == ["old"]
    assert bot.keys.fetches == 1


async def test_a_card_action_reaches_the_handler_and_its_answer_comes_back(bot: Bot) -> None:
    invoke = bot.teams.card_action(USER_ID, "assign", {"case": "42"}, message_id="1764763200007")

    status, body = await bot.teams.send(invoke)

    assert status == 200
    assert body == {
        "statusCode": 200,
        "type": "application/vnd.microsoft.activity.message",
        "value": "assign: 42",
    }
    [action] = bot.actions
    assert action.value.action.verb == "assign"
    assert action.reply_to_id == "1764763200007"


async def test_the_named_card_action_handler_matches_data_action_not_the_verb(
    teams_env: None, teams_keys: KeyServer, fake_teams: FakeConnector
) -> None:
    verbs: list[str] = []
    with AppServer() as server:
        app = App(**app_options(teams_keys, fake_teams, server))

        @app.on_card_action_execute("assign")
        async def assign(
            ctx: ActivityContext[AdaptiveCardInvokeActivity],
        ) -> AdaptiveCardActionMessageResponse:
            verbs.append(str(ctx.activity.value.action.verb))
            return AdaptiveCardActionMessageResponse(value="assigned")

        async with server.running(app):
            teams = sender_for(server, teams_keys, fake_teams)
            by_verb = await teams.send(teams.card_action(USER_ID, "assign", {"case": "42"}))
            by_data = await teams.send(teams.card_action(USER_ID, "other", {"action": "assign"}))

    assert by_verb == (200, "")  # the verb alone reaches no handler: an empty 200, no card answer
    assert by_data == (200, {"statusCode": 200, "type": "application/vnd.microsoft.activity.message",
                             "value": "assigned"})  # fmt: skip
    assert verbs == ["other"]


async def test_installation_and_team_updates_reach_their_handlers(bot: Bot) -> None:
    installed = await bot.teams.send(bot.teams.installed(USER_ID))
    added = await bot.teams.send(bot.teams.added_to_team(USER_ID))

    assert (installed[0], added[0]) == (200, 200)
    assert [i.conversation.id for i in bot.installs] == [personal_conversation_id(USER_ID)]
    [update] = bot.updates
    assert update.channel_data is not None and update.channel_data.team is not None
    assert update.channel_data.team.id == TEAM_ID


# -- outbound: what the SDK sends to Teams -----------------------------------------------------


async def test_a_channel_post_a_reply_an_update_and_a_delete_are_what_people_see(bot: Bot) -> None:
    thread, root = await new_channel_post(bot.app, "New complaint: 42")
    reply = await bot.app.reply(CHANNEL_ID, root, "Assigned to Sam")
    await bot.app.api.conversations.update_activity(
        thread, root, MessageActivityInput(text="Complaint 42 (closed)")
    )

    assert thread == f"{CHANNEL_ID};messageid={root}"
    assert root.isdigit() and int(reply.id) > int(root)
    assert [m.text for m in bot.fake.messages(thread)] == ["Complaint 42 (closed)", "Assigned to Sam"]
    assert [v["text"] for v in bot.fake.message(root).versions] == [
        "New complaint: 42",
        "Complaint 42 (closed)",
    ]
    assert [c.kind for c in bot.fake.calls] == ["create_conversation", "send", "update"]
    assert bot.fake.calls[1].conversation_id == thread  # app.reply posts into the thread

    await bot.app.api.conversations.delete_activity(thread, reply.id)

    assert [m.text for m in bot.fake.messages(thread)] == ["Complaint 42 (closed)"]


async def test_updating_an_unknown_message_is_not_found(bot: Bot) -> None:
    thread, _ = await new_channel_post(bot.app, "New complaint: 42")

    with pytest.raises(httpx.HTTPStatusError) as refused:
        await bot.app.api.conversations.update_activity(thread, "1", MessageActivityInput(text="edit"))

    assert refused.value.response.status_code == 404
    assert bot.fake.calls_to("update")[0].status == 404


async def test_a_channel_post_needs_is_group(bot: Bot) -> None:
    params = CreateConversationParams(
        channel_data={"channel": {"id": CHANNEL_ID}},
        activity=MessageActivityInput(text="hi"),
        tenant_id=TENANT_ID,
    )

    with pytest.raises(httpx.HTTPStatusError) as refused:
        await bot.app.api.conversations.create(params)

    assert refused.value.response.status_code == 400
    assert bot.fake.messages(CHANNEL_ID) == []


async def test_a_card_is_sent_and_kept(bot: Bot) -> None:
    bot.fake.install(USER_ID)

    sent = await bot.app.send(personal_conversation_id(USER_ID), card())

    [message] = bot.fake.messages(personal_conversation_id(USER_ID))
    assert message.id == sent.id
    assert message.cards[0]["actions"][0] == {
        "type": "Action.Execute", "title": "Assign to me", "verb": "assign", "data": {"case": "42"}
    }  # fmt: skip


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ({"type": "AdaptiveCard", "version": "1.6", "body": []}, "newer than Teams supports"),
        ({"type": "AdaptiveCard", "body": []}, "needs a version"),
        ({"type": "Card", "version": "1.5"}, "type AdaptiveCard"),
        ({"type": "AdaptiveCard", "version": "1.5", "actions": [{"type": "Action.Execute", "title": "Go"}]},
         "needs a verb"),
        ({"type": "AdaptiveCard", "version": "1.4", "body": [{"type": "ActionSet", "actions": [
            {"type": "Action.Execute", "title": "Go", "data": {}}]}]}, "needs a verb"),
    ],
)  # fmt: skip
async def test_a_card_teams_would_refuse_is_refused(bot: Bot, content: dict[str, Any], problem: str) -> None:
    bot.fake.install(USER_ID)

    with pytest.raises(httpx.HTTPStatusError) as refused:
        await bot.app.send(personal_conversation_id(USER_ID), with_card(content))

    assert refused.value.response.status_code == 400
    error = refused.value.response.json()["error"]
    assert error["code"] == "BadArgument" and problem in error["message"]
    assert bot.fake.messages(personal_conversation_id(USER_ID)) == []


def test_a_good_card_has_no_problem() -> None:
    attachment = {
        "contentType": ADAPTIVE_CARD,
        "content": card().model_dump(by_alias=True, exclude_none=True),
    }

    assert card_problem({"type": "message", "attachments": [attachment]}) is None


async def test_a_message_over_the_size_limit_is_refused(bot: Bot) -> None:
    bot.fake.install(USER_ID)
    chat = personal_conversation_id(USER_ID)
    fits = "x" * (MESSAGE_LIMIT // 2 - 500)  # UTF-16: two bytes a character, and room for the envelope

    await bot.app.send(chat, fits)
    with pytest.raises(httpx.HTTPStatusError) as refused:
        await bot.app.send(chat, fits + "x" * 500)

    assert refused.value.response.status_code == 413
    assert refused.value.response.json()["error"]["code"] == "MessageSizeTooBig"
    assert [len(m.text) for m in bot.fake.messages(chat)] == [len(fits)]


async def test_throttling_is_not_retried_by_the_sdk(bot: Bot) -> None:
    bot.fake.install(USER_ID)
    chat = personal_conversation_id(USER_ID)
    bot.fake.fail(429, retry_after=7)

    with pytest.raises(httpx.HTTPStatusError) as throttled:
        await bot.app.send(chat, "first try")
    await bot.app.send(chat, "second try")

    assert throttled.value.response.status_code == 429
    assert throttled.value.response.headers["Retry-After"] == "7"
    assert throttled.value.response.json()["error"]["code"] == "Throttled"
    assert [(c.status, c.failed) for c in bot.fake.calls_to("send")] == [(429, True), (201, False)]
    assert [m.text for m in bot.fake.messages(chat)] == ["second try"]


async def test_an_outage_answers_503_until_it_ends(bot: Bot) -> None:
    bot.fake.install(USER_ID)
    chat = personal_conversation_id(USER_ID)
    bot.fake.down()

    with pytest.raises(httpx.HTTPStatusError) as unavailable:
        await bot.app.send(chat, "during")
    bot.fake.up()
    await bot.app.send(chat, "after")

    assert unavailable.value.response.status_code == 503
    assert [m.text for m in bot.fake.messages(chat)] == ["after"]


async def test_a_failed_handler_send_is_a_500_to_teams(bot: Bot) -> None:
    bot.fake.fail(503)

    status, _ = await bot.teams.send(bot.teams.channel_message(USER_ID, "answer me"))

    assert status == 500
    assert [c.status for c in bot.fake.calls_to("send")] == [503]


async def test_a_chat_needs_the_app_installed_for_the_person_and_graph_installs_it(bot: Bot) -> None:
    params = CreateConversationParams(members=[Account(id=teams_user_id(USER_ID))], tenant_id=TENANT_ID)
    with pytest.raises(httpx.HTTPStatusError) as forbidden:
        await bot.app.api.conversations.create(params)
    assert forbidden.value.response.status_code == 403
    assert forbidden.value.response.json()["error"]["code"] == "BotNotInConversationRoster"

    token = await bot.app.token_provider.get_app_token(bot.app.cloud.graph_scope, TENANT_ID)
    bind = {"teamsApp@odata.bind": f"https://graph.microsoft.com/v1.0/appCatalogs/teamsApps/{TEAMS_APP_ID}"}
    async with httpx.AsyncClient(
        base_url=bot.fake.graph_url, headers={"Authorization": f"Bearer {token}"}
    ) as graph:
        installed = await graph.post(f"/users/{USER_ID}/teamwork/installedApps", json=bind)
        again = await graph.post(f"/users/{USER_ID}/teamwork/installedApps", json=bind)
    chat = await bot.app.api.conversations.create(params)
    await bot.app.send(chat.id, "Your complaint is with us")

    assert (installed.status_code, installed.content) == (201, b"")
    assert again.status_code == 409
    assert chat.id == personal_conversation_id(USER_ID)
    assert [m.text for m in bot.fake.messages(chat.id)] == ["Your complaint is with us"]
    assert [c.status for c in bot.fake.calls_to("install_app")] == [201, 409]


async def test_graph_refuses_a_person_the_app_cannot_be_installed_for(fake_teams: FakeConnector) -> None:
    fake_teams.cannot_install.add(OTHER_USER_ID)
    headers = {"Authorization": f"Bearer {app_token('https://graph.microsoft.com/.default', TENANT_ID)}"}
    bind = {"teamsApp@odata.bind": f"https://graph.microsoft.com/v1.0/appCatalogs/teamsApps/{TEAMS_APP_ID}"}

    async with httpx.AsyncClient(base_url=fake_teams.graph_url) as graph:
        forbidden = await graph.post(
            f"/users/{OTHER_USER_ID}/teamwork/installedApps", json=bind, headers=headers
        )
        unknown_app = await graph.post(
            f"/users/{USER_ID}/teamwork/installedApps", headers=headers,
            json={"teamsApp@odata.bind": "https://graph.microsoft.com/v1.0/appCatalogs/teamsApps/not-ours"},
        )  # fmt: skip
        anonymous = await graph.post(f"/users/{USER_ID}/teamwork/installedApps", json=bind)

    assert forbidden.status_code == 403 and forbidden.json()["error"]["code"] == "Forbidden"
    assert unknown_app.status_code == 404
    assert anonymous.status_code == 401
    assert fake_teams.installed == set()


async def test_the_connector_wants_a_bearer_token_and_a_known_conversation(fake_teams: FakeConnector) -> None:
    url = f"{fake_teams.base_url}v3/conversations/{CHANNEL_ID}/activities"
    bearer = {"Authorization": f"Bearer {app_token('https://api.botframework.com/.default')}"}

    async with httpx.AsyncClient() as client:
        anonymous = await client.post(url, json={"type": "message", "text": "hi"})
        unknown = await client.post(
            f"{fake_teams.base_url}v3/conversations/19:nope@thread.tacv2/activities",
            json={"type": "message", "text": "hi"}, headers=bearer,
        )  # fmt: skip
        not_installed = await client.post(
            f"{fake_teams.base_url}v3/conversations/{personal_conversation_id(USER_ID)}/activities",
            json={"type": "message", "text": "hi"}, headers=bearer,
        )  # fmt: skip
        typing = await client.post(url, json={"type": "typing"}, headers=bearer)

    assert anonymous.status_code == 401
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "ConversationNotFound"
    assert not_installed.status_code == 403
    assert typing.status_code == 200 and fake_teams.messages(CHANNEL_ID) == []
    assert [c.kind for c in fake_teams.calls] == ["send", "send", "send", "typing"]


async def test_wait_for_times_out_with_what_it_saw(fake_teams: FakeConnector) -> None:
    with pytest.raises(AssertionError, match="expected 1 successful send"):
        await fake_teams.wait_for("send", timeout=0.2)


async def test_wait_for_wakes_when_a_call_arrives(fake_teams: FakeConnector) -> None:
    fake_teams.install(USER_ID)
    chat = personal_conversation_id(USER_ID)
    bearer = {"Authorization": "Bearer x.y.z"}
    waiting = asyncio.create_task(fake_teams.wait_for("send"))

    async with httpx.AsyncClient() as client:
        await client.post(
            f"{fake_teams.base_url}v3/conversations/{chat}/activities", json={"text": "hi"}, headers=bearer
        )
    [call] = await waiting

    assert call.answer == {"id": fake_teams.messages(chat)[0].id}
